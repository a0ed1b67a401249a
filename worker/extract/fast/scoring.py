"""Where the main content starts and ends.

Every block gets a prior probability of being main content from its own text
(``priors``). Chrome-flagged subtrees are zeroed, except wrappers that only
look like chrome. The *core* is the element that most directly holds the most
prose (readability-style ancestor scoring, boosted inside
``<article>``/articleBody-like markup). From the core outwards,
each ring of surrounding text is taken while it raises the expected F1 against
a soft reference made of the decayed prior mass of all rings; an article-body
element that is not one of several repeated posts caps that expansion, and so
does the page's one ``<article>`` or ``<main>``; a stream of other stories weighs
nothing in it. Inside the extent, what points elsewhere or is not text goes: link
lists and streams of other stories after a prose core, widgets (forms, players).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from worker.extract.fast.dom import CHROME_BY_COMMENTS, CHROME_BY_NAME, STRONG_HINT, Block, Doc
from worker.extract.fast.priors import (
    HEADLINE_CHARS,
    PARAGRAPH_CHARS,
    block_prior,
    mark_teasers,
)
from worker.extract.fast.selectors import (
    COMMENTS_HEADING_RE,
    COUNTED_COMMENTS_HEADING_RE,
    HEADING_TAGS,
)

# A core whose text is at most this share links is prose.
LINK_PROSE_MAX = 0.2
# A container of at least this many blocks is a list of links when it is mostly link text.
LINK_LIST_MIN_BLOCKS = 2
# A comment section's heading is a short line.
MAX_HEADING_CHARS = 80
# Blocks below this prior are never emitted.
KEEP_THRESHOLD = 0.3
# A wrapper named like chrome is given back when it holds at least this much prose
# relative to the best candidate outside all chrome; any chrome element holding
# this share of the page's prose is a wrapper too (whole-page <form> layouts).
CHROME_GUARD = 1.0
CHROME_SHARE = 0.5
GUARD_ROUNDS = 3
# Weight of a block's mass in the score of its ancestors, by distance from its owner.
ANCESTOR_WEIGHTS = (1.0, 1.0, 0.5, 0.33, 0.25, 0.2)
# Score multiplier for elements that are or sit inside <article>, <main>, articleBody ...
HINT_BOOST = 2.0
# How much of the text one more ring out is expected to be content, per ring.
RING_DECAY = 0.95
# Penalty exponent for rings that are more link-heavy than the core.
RING_LINK_POWER = 2.0
# Readability's guard: a box with at least this many commas holds prose.
PROSE_COMMAS = 10
# Boxes that readability's conditional cleaning weighs as a whole.
BOX_TAGS = frozenset({"div", "section", "ul", "ol", "table", "form", "fieldset", "figure", "dl"})
# An article-body element caps the expansion unless it, or one of its nearest
# ancestors, repeats among its siblings (one post of many).
REPEAT_LEVELS = 4


@dataclass(slots=True)
class Selection:
    """Which blocks to emit; ``confidence`` is the expected F1 of the chosen extent."""

    keep: list[bool]
    confidence: float


def select(doc: Doc, discussion: bool = False) -> Selection | None:
    """``discussion``: the page is a forum thread or a Q&A page by its publisher's word
    (``pagetype.declares_discussion``), where the replies are the content: they are not
    readers' comments on it, and a heading over them ("12 Replies") ends nothing."""
    blocks = doc.blocks
    if not blocks:
        return None
    priors = [block_prior(b) for b in blocks]
    teased = list(priors)
    mark_teasers(doc, teased)
    only = _only_of_tag(doc)
    priors, sums, core = _without_chrome(doc, priors, teased, only, discussion)
    if core < 0:
        return Selection([False] * len(blocks), 0.0)
    core = _marked_post(doc, sums, core)
    core = _prose_core(doc, priors, sums, core)
    stream = _stream(doc, core) if _holds_paragraph(doc, priors, core) else None
    (lo, hi), confidence = _extent(
        doc, _chain(doc, core, only), _without_stream(doc, priors, stream, sums)
    )
    if not discussion:
        hi = _before_comments(doc, _after_prose(doc, priors, core, lo, hi), hi)
        hi = _before_counted_comments(doc, priors, lo, hi)
    keep = [False] * len(blocks)
    for i in range(lo, hi):
        keep[i] = priors[i] >= KEEP_THRESHOLD
    _drop_link_lists_after(doc, sums, core, hi, keep)
    _drop_stream_after(doc, stream, core, hi, keep)
    _drop_widgets(doc, sums, priors, core, (lo, hi), keep)
    return Selection(keep, confidence)


def _drop_stream_after(
    doc: Doc, stream: list[bool] | None, core: int, hi: int, keep: list[bool]
) -> None:
    """Other stories after the post go, wherever the extent ends."""
    if stream is None:
        return
    for i in range(doc.elements[core].b_end, hi):
        if stream[i]:
            keep[i] = False


def _stream(doc: Doc, core: int) -> list[bool] | None:
    """Blocks of a stream of other stories outside the core ("Recommended for you", "More
    news"): sibling items of one kind (same tag and class), at least
    ``LINK_LIST_MIN_BLOCKS`` of them, each opened by a headline link (a heading that is
    mostly one link of ``HEADLINE_CHARS`` or more: a name or "Reply" is shorter) and
    holding text outside links below it (a summary). A group of which one item holds or
    sits inside the core is the post among the posts of its own page, and a core opened
    by a headline link is itself a teaser of a listing: neither is a stream of others'
    stories. None when the page holds no such stream.

    Such a stream weighs nothing in the rings (``_extent``), and its items after the core
    are dropped: an article's own parts are not opened by links to other pages.
    """
    elements = doc.elements
    blocks = doc.blocks
    c = elements[core]
    if _headline_link(blocks[c.b_start]):
        return None  # the core is itself a teaser of a listing
    groups: dict[tuple[int, str, str], list[int]] = {}
    for index, e in enumerate(elements):
        if e.parent < 0 or e.b_end - e.b_start < 2:
            continue
        if not _headline_link(blocks[e.b_start]):
            continue
        plain = sum(len(b.text) - b.link_chars for b in blocks[e.b_start + 1 : e.b_end])
        if plain <= 0:
            continue
        groups.setdefault((e.parent, e.tag, e.cls), []).append(index)
    stream: list[bool] | None = None
    for items in groups.values():
        if len(items) < LINK_LIST_MIN_BLOCKS:
            continue
        if any(elements[i].b_start < c.b_end and c.b_start < elements[i].b_end for i in items):
            continue
        if stream is None:
            stream = [False] * len(blocks)
        for i in items:
            for j in range(elements[i].b_start, elements[i].b_end):
                stream[j] = True
    return stream


def _headline_link(block: Block) -> bool:
    """A heading that is mostly one link of headline length: it points to another page."""
    lead = block.lead_link_chars
    return block.kind in HEADING_TAGS and lead >= HEADLINE_CHARS and 2 * lead > len(block.text)


def _holds_paragraph(doc: Doc, priors: list[float], index: int) -> bool:
    """Whether an element holds a kept paragraph (``_paragraph``): a post, not a listing."""
    e = doc.elements[index]
    return any(_paragraph(doc, priors, i) for i in range(e.b_start, e.b_end))


def _without_stream(doc: Doc, priors: list[float], stream: list[bool] | None, sums: _Sums) -> _Sums:
    """Prefix sums in which a stream of other stories weighs nothing as content."""
    if stream is None:
        return sums
    return _Sums.of_priors_without(doc, priors, stream)


def _drop_widgets(
    doc: Doc, sums: _Sums, priors: list[float], core: int, extent: tuple[int, int], keep: list[bool]
) -> None:
    """In a text of prose, a box that holds more form fields and embedded players than
    paragraphs (a sign-up form, a player with its caption settings, a social widget) and
    no paragraph of its own is not part of the text and goes, as readability's
    conditional cleaning drops it. A box with ``PROSE_COMMAS`` commas is prose and stays;
    the box that holds the core stays; so does everything when nothing else would. A
    core that is not prose (at most ``LINK_PROSE_MAX`` link text, holding a paragraph)
    is a listing, a shop, a service page, whose forms and players are the content."""
    lo, hi = extent
    elements = doc.elements
    holders = [i for i in doc.widget_holders if lo <= elements[i].b_start < hi]
    if not holders:
        return
    c = elements[core]
    if not sums.prose(c.b_start, c.b_end) or not _holds_paragraph(doc, priors, core):
        return
    # widgets inside each box that holds some: the holders and their ancestors
    widgets: dict[int, int] = {}
    for holder in holders:
        count = elements[holder].widgets
        for index in _lineage(doc, holder):
            widgets[index] = widgets.get(index, 0) + count
    blocks = doc.blocks
    trial = list(keep)
    dropped_to = -1
    for index in sorted(widgets):
        e = elements[index]
        if e.b_start < lo or e.b_end > hi or e.b_end <= max(e.b_start, dropped_to):
            continue
        if e.tag not in BOX_TAGS or (e.b_start <= c.b_start and c.b_end <= e.b_end):
            continue
        span = range(e.b_start, e.b_end)
        if (
            widgets[index] > sum(1 for i in span if blocks[i].kind == "p")
            and not any(_paragraph(doc, priors, i) for i in span)
            and sum(blocks[i].text.count(",") for i in span) < PROSE_COMMAS
        ):
            trial[e.b_start : e.b_end] = [False] * len(span)
            dropped_to = e.b_end
    if dropped_to >= 0 and any(trial):
        keep[:] = trial


def _drop_link_lists_after(doc: Doc, sums: _Sums, core: int, hi: int, keep: list[bool]) -> None:
    """After a core of prose, a container of several blocks that is mostly link text (a
    related-posts list, a tag cloud, pagination, the next story's teaser) points elsewhere
    and goes, as readability's link-density cleaning drops it. Before the core and in
    link-heavy cores (listings, where the links are the content) nothing is dropped."""
    elements = doc.elements
    c = elements[core]
    if not sums.prose(c.b_start, c.b_end):
        return
    for index in range(core + 1, len(elements)):
        e = elements[index]
        if e.b_start >= hi:
            break
        if (
            e.b_start >= c.b_end
            and e.b_end - e.b_start >= LINK_LIST_MIN_BLOCKS
            and 2 * sums.links(e.b_start, e.b_end) > sums.chars(e.b_start, e.b_end)
        ):
            for i in range(e.b_start, e.b_end):
                keep[i] = False


def _without_chrome(
    doc: Doc, priors: list[float], teased: list[float], only: set[int], discussion: bool = False
) -> tuple[list[float], _Sums, int]:
    """Priors with chrome zeroed, after giving back wrappers that were named like chrome.

    A class such as "with-sidebar" can sit on the element that wraps the article.
    Such a wrapper holds at least as much prose as the best candidate found
    without it, which real sidebars and ad slots rarely do; and it lies outside that
    candidate, as a wrapper of the post is not inside the content around it. Wrappers are weighed
    with the plain priors, candidates with the teaser-discounted ones; returns
    the latter with chrome zeroed, their prefix sums and the core found on them. ``only``:
    the page's one ``<article>`` and one ``<main>`` (``_only_of_tag``). In a
    ``discussion`` the replies are the page's own text: comments are not chrome there.
    """
    elements = doc.elements
    flagged = [
        i
        for i, e in enumerate(elements)
        if e.chrome and e.b_end > e.b_start and not (discussion and e.chrome == CHROME_BY_COMMENTS)
    ]
    raw = _Sums.of_priors(doc, priors)
    total = raw.kept_mass[-1]
    flagged = _around_only_article(doc, priors, flagged, only)
    for _ in range(GUARD_ROUNDS):
        if not flagged:
            break
        covered = _cover(doc, flagged, len(priors))
        masked = [0.0 if c else p for p, c in zip(teased, covered, strict=True)]
        sums = _Sums.of_priors(doc, masked)
        core = _core(doc, masked)
        best = sums.mass(elements[core].b_start, elements[core].b_end) if core >= 0 else 0.0
        # the post its markup names lies outside all chrome: what is only named like chrome
        # (a sidebar, readers' comments) does not wrap it, whatever its size
        marked_post = core >= 0 and _in_article_body(doc, core)
        c = elements[core] if core >= 0 else None
        wrapper, wrapper_mass = -1, 0.0
        for index in flagged:
            e = elements[index]
            if marked_post and e.chrome >= CHROME_BY_NAME:
                continue
            # a box named like chrome inside the core found without it (a sidebar column
            # within the page's content area) sits beside the post, not around it
            if (
                c is not None
                and e.chrome == CHROME_BY_NAME
                and c.b_start <= e.b_start
                and e.b_end <= c.b_end
            ):
                continue
            mass = raw.mass(e.b_start, e.b_end)
            limit = CHROME_GUARD * best if e.chrome == CHROME_BY_NAME else CHROME_SHARE * total
            if mass > 0 and mass >= limit and mass > wrapper_mass:
                wrapper, wrapper_mass = index, mass
        if wrapper < 0:
            return masked, sums, core
        flagged.remove(wrapper)
    covered = _cover(doc, flagged, len(priors))
    masked = [0.0 if c else p for p, c in zip(teased, covered, strict=True)]
    sums = _Sums.of_priors(doc, masked)
    return masked, sums, _core(doc, masked)


def _around_only_article(
    doc: Doc, priors: list[float], flagged: list[int], only: set[int]
) -> list[int]:
    """Chrome without the boxes named like chrome around the page's one ``<article>``.

    A page with a single ``<article>`` that holds a paragraph marks its piece with it, as
    ``_chain`` reads it too; a class word on a box around it ("modal", "lightbox",
    "with-sidebar") names the box's layout, not what it holds: an article opened in a
    lightbox over a stream of teasers is still the page's text. Chrome by tag or role
    (``<nav>``, ``<footer>``) and comment sections stay chrome."""
    article = next((i for i in only if doc.elements[i].tag == "article"), -1)
    if article < 0 or not _holds_paragraph(doc, priors, article):
        return flagged
    around = set(_lineage(doc, article))
    return [i for i in flagged if i not in around or doc.elements[i].chrome != CHROME_BY_NAME]


def _after_prose(doc: Doc, priors: list[float], core: int, lo: int, hi: int) -> int:
    """Where a comment section may start: after the core, or earlier, after the first
    paragraph of the extent. Readers' comments can outweigh a short post and become the
    core themselves, with the post above them; a comment section never comes before the
    text it answers, so its heading counts once the extent holds a paragraph (a kept
    block of ``PARAGRAPH_CHARS`` characters outside links, the length the priors call
    a paragraph)."""
    end = doc.elements[core].b_end
    return next((i + 1 for i in range(lo, min(end, hi)) if _paragraph(doc, priors, i)), end)


def _paragraph(doc: Doc, priors: list[float], i: int) -> bool:
    """Whether block ``i`` is a kept paragraph: ``PARAGRAPH_CHARS`` characters outside links."""
    b = doc.blocks[i]
    return priors[i] >= KEEP_THRESHOLD and len(b.text) - b.link_chars >= PARAGRAPH_CHARS


def _before_counted_comments(doc: Doc, priors: list[float], lo: int, hi: int) -> int:
    """A heading that counts the comments ("92 Responses to …", "Comments (0)") names the
    comment section beyond doubt, so it ends the text even under a post too short to
    hold a paragraph, once the extent has kept a block before it."""
    first = next((i for i in range(lo, hi) if priors[i] >= KEEP_THRESHOLD), hi)
    end = _before_comments(doc, first + 1, hi)
    if end < hi and COUNTED_COMMENTS_HEADING_RE.match(doc.blocks[end].text.strip()):
        return end
    return hi


def _before_comments(doc: Doc, start: int, hi: int) -> int:
    """Where the extent ends: before the heading of the page's comment section ("104
    Comments", "3 thoughts on …") when it follows the post's text. Readers' comments
    carry no class name on many sites, yet a post has one comment section: a heading
    that repeats (one per answer on a Q&A page, one per item of a listing) is the
    furniture of each item, and cuts nothing; the comment form's field label
    ("Comments:") is no second heading."""
    blocks = doc.blocks
    headings = [i for i, b in enumerate(blocks) if _comments_heading(b)]
    first = next((i for i in headings if start <= i < hi), -1)
    if first < 0 or any(i != first and not _field_label(doc, blocks[i]) for i in headings):
        return hi
    return first


def _field_label(doc: Doc, block: Block) -> bool:
    """A line ending in a colon inside a ``<form>`` labels a field to fill in ("Comments:"
    over the comment form's text box): it does not make the section's heading a repeat."""
    return block.text.rstrip().endswith(":") and any(
        doc.elements[i].tag == "form" for i in _lineage(doc, block.owner)
    )


def _comments_heading(block: Block) -> bool:
    """A short line naming a comment section; a link ("Comment", "3 Comments" in a
    byline) is an action or a pointer to the section, not its heading."""
    text = block.text
    return (
        len(text) <= MAX_HEADING_CHARS
        and 2 * block.link_chars < len(text)
        and COMMENTS_HEADING_RE.match(text.strip()) is not None
    )


def _marked_post(doc: Doc, sums: _Sums, core: int) -> int:
    """The post body its markup names, when the core found is a link list outside it.

    A blog's category or blogroll list can hold more words than a short post beside
    it. A core that is mostly link text (more than half its characters) is a list,
    not prose: when the page marks exactly one post body (articleBody,
    "entry-content") holding text, outside the core and not one of several
    repeated posts, that body is the core instead.
    """
    elements = doc.elements
    e = elements[core]
    if 2 * sums.links(e.b_start, e.b_end) <= sums.chars(e.b_start, e.b_end):
        return core
    if _in_article_body(doc, core):
        return core
    marked = [
        i
        for i, m in enumerate(elements)
        if m.content_hint >= STRONG_HINT
        and not _in_article_body(doc, m.parent)
        and sums.mass(m.b_start, m.b_end) > 0
    ]
    if len(marked) != 1:
        return core
    body = marked[0]
    if core in _lineage(doc, body):  # the core wraps the post: the extent handles it
        return core
    return core if _repeated(doc, body) else body


def _prose_core(doc: Doc, priors: list[float], sums: _Sums, core: int) -> int:
    """The element holding the most prose, when the core found is a link list and the page
    marks no post body.

    A blogroll, an archive list or a carousel of other stories can hold more words than
    a short post beside it, and nothing in the markup says which is the post. A core that
    is mostly link text (more than half its characters) gives way to the best candidate
    scored without link text when that one holds a paragraph (a kept block of at least
    ``PARAGRAPH_CHARS`` characters outside links, the length the priors call a paragraph)
    and more text outside links than the core: a listing's blurbs are shorter, and its
    list stays the core.
    """
    elements = doc.elements
    e = elements[core]
    chars, links = sums.chars(e.b_start, e.b_end), sums.links(e.b_start, e.b_end)
    if 2 * links <= chars or _in_article_body(doc, core):
        return core
    other = _core(doc, priors, prose=True)
    if other < 0 or other == core:
        return core
    o = elements[other]
    if sums.chars(o.b_start, o.b_end) - sums.links(o.b_start, o.b_end) <= chars - links:
        return core
    return other if _holds_paragraph(doc, priors, other) else core


def _in_article_body(doc: Doc, index: int) -> bool:
    """Whether an element is, or sits inside, an article-body element (articleBody,
    "entry-content"): the publisher's own mark for the text of the post."""
    return any(doc.elements[i].content_hint >= STRONG_HINT for i in _lineage(doc, index))


def _lineage(doc: Doc, index: int) -> Iterator[int]:
    """An element and its ancestors, innermost first."""
    elements = doc.elements
    while index >= 0:
        yield index
        index = elements[index].parent


def _cover(doc: Doc, indices: list[int], n: int) -> list[bool]:
    starts = [0] * (n + 1)
    for index in indices:
        e = doc.elements[index]
        starts[e.b_start] += 1
        starts[e.b_end] -= 1
    covered = []
    open_ranges = 0
    for i in range(n):
        open_ranges += starts[i]
        covered.append(open_ranges > 0)
    return covered


@dataclass(slots=True)
class _Sums:
    """Prefix sums over blocks, so any element's totals are two lookups."""

    kept_len: list[int]
    kept_mass: list[float]
    all_len: list[int]
    link_len: list[int]

    @classmethod
    def of_priors(cls, doc: Doc, priors: list[float]) -> _Sums:
        kept_len, kept_mass, all_len, link_len = [0], [0.0], [0], [0]
        k_len = a_len = l_len = 0
        k_mass = 0.0
        for p, b in zip(priors, doc.blocks, strict=True):
            if p > 0:
                n = len(b.text)
                a_len += n
                l_len += b.link_chars
                if p >= KEEP_THRESHOLD:
                    k_len += n
                    k_mass += p * n
            kept_len.append(k_len)
            kept_mass.append(k_mass)
            all_len.append(a_len)
            link_len.append(l_len)
        return cls(kept_len, kept_mass, all_len, link_len)

    @classmethod
    def of_priors_without(cls, doc: Doc, priors: list[float], left_out: list[bool]) -> _Sums:
        """As ``of_priors``, with the mass of the ``left_out`` blocks taken out (their size
        stays): text that is there but is not expected to be content."""
        sums = cls.of_priors(doc, priors)
        mass = [0.0]
        m = 0.0
        for p, b, out in zip(priors, doc.blocks, left_out, strict=True):
            if p >= KEEP_THRESHOLD and not out:
                m += p * len(b.text)
            mass.append(m)
        sums.kept_mass = mass
        return sums

    def mass(self, lo: int, hi: int) -> float:
        return self.kept_mass[hi] - self.kept_mass[lo]

    def size(self, lo: int, hi: int) -> int:
        return self.kept_len[hi] - self.kept_len[lo]

    def chars(self, lo: int, hi: int) -> int:
        return self.all_len[hi] - self.all_len[lo]

    def links(self, lo: int, hi: int) -> int:
        return self.link_len[hi] - self.link_len[lo]

    def prose(self, lo: int, hi: int) -> bool:
        """At most ``LINK_PROSE_MAX`` of the text is links: prose, not a listing."""
        return self.links(lo, hi) <= LINK_PROSE_MAX * self.chars(lo, hi)


def _core(doc: Doc, priors: list[float], prose: bool = False) -> int:
    """The element that most directly holds the most prose (readability-style); with
    ``prose``, link text weighs nothing."""
    elements = doc.elements
    score = [0.0] * len(elements)
    for p, b in zip(priors, doc.blocks, strict=True):
        if p < KEEP_THRESHOLD:
            continue
        mass = p * (len(b.text) - b.link_chars if prose else len(b.text))
        index = b.owner
        for weight in ANCESTOR_WEIGHTS:
            if index < 0:
                break
            score[index] += mass * weight
            index = elements[index].parent
    best, best_score = -1, 0.0
    hinted: list[bool] = []
    for index, e in enumerate(elements):
        inside = bool(e.content_hint) or (e.parent >= 0 and hinted[e.parent])
        hinted.append(inside)
        value = score[index] * HINT_BOOST if inside else score[index]
        if value > best_score:
            best, best_score = index, value
    return best


def _chain(doc: Doc, core: int, only: set[int]) -> list[int]:
    """The core and its ancestors, lifted to the nearest content-hinted ancestor and
    cut at the first article-body element that is not one of several repeated posts, or
    else at the page's one ``<article>`` or one ``<main>`` (the outermost of them on the
    chain): a page that has just one such element marks where its piece ends, and the
    text around it (a newsletter box, a legal notice in the page's wrapper) is not the
    post however much prose it holds. Pages of several articles mark no such end."""
    elements = doc.elements
    chain = list(_lineage(doc, core))
    for k, index in enumerate(chain):
        if elements[index].content_hint:
            chain = chain[k:]
            break
    for k, index in enumerate(chain):
        if elements[index].content_hint >= STRONG_HINT and not any(
            _repeated(doc, c) for c in chain[k : k + REPEAT_LEVELS]
        ):
            return chain[: k + 1]
    for k in range(len(chain) - 1, -1, -1):
        if chain[k] in only:
            return chain[: k + 1]
    return chain


def _only_of_tag(doc: Doc) -> set[int]:
    """The page's one ``<article>`` and its one ``<main>``, where it has just one."""
    seen: dict[str, list[int]] = {}
    for index, e in enumerate(doc.elements):
        if e.tag in ("article", "main"):
            seen.setdefault(e.tag, []).append(index)
    return {found[0] for found in seen.values() if len(found) == 1}


def _repeated(doc: Doc, index: int) -> bool:
    """Whether a sibling has the same tag and first class (one post of many). Elements
    without a class are never repeats: unnamed siblings share only their tag."""
    elements = doc.elements
    e = elements[index]
    name = _first_class(e.cls)
    if e.parent < 0 or not name:
        return False
    parent_depth = elements[e.parent].depth
    for j in range(e.parent + 1, len(elements)):
        other = elements[j]
        if other.depth <= parent_depth:
            break
        if (
            j != index
            and other.parent == e.parent
            and other.tag == e.tag
            and _first_class(other.cls) == name
        ):
            return True
    return False


def _first_class(cls: str) -> str:
    names = cls.split(maxsplit=1)
    return names[0] if names else ""


def _extent(doc: Doc, chain: list[int], sums: _Sums) -> tuple[tuple[int, int], float]:
    """How far out from the core to go: the chain element maximising expected F1.
    Returns the chosen block range and its expected F1."""
    f1s = _expected_f1s(doc, chain, sums)
    best = max(range(len(f1s)), key=f1s.__getitem__)
    chosen = doc.elements[chain[best]]
    return (chosen.b_start, chosen.b_end), f1s[best]


def _expected_f1s(doc: Doc, chain: list[int], sums: _Sums) -> list[float]:
    """The expected F1 of stopping at each element of the chain (the core first).

    Ring k is the text of chain[k] outside chain[k - 1]; its expected content is
    its kept prior mass, decayed per ring and penalised when it is more
    link-heavy than the core; the reference is the expected content of all rings.
    """
    elements = doc.elements
    ring_mass: list[float] = []
    ring_size: list[int] = []
    core = elements[chain[0]]
    core_chars = sums.chars(core.b_start, core.b_end)
    core_density = sums.links(core.b_start, core.b_end) / core_chars if core_chars else 0.0
    inner = (core.b_start, core.b_start)
    for k, index in enumerate(chain):
        lo, hi = elements[index].b_start, elements[index].b_end
        chars = sums.chars(lo, hi) - sums.chars(*inner)
        density = (sums.links(lo, hi) - sums.links(*inner)) / chars if chars else 0.0
        penalty = (1.0 - max(0.0, density - core_density)) ** RING_LINK_POWER
        ring_mass.append((sums.mass(lo, hi) - sums.mass(*inner)) * RING_DECAY**k * penalty)
        ring_size.append(sums.size(lo, hi) - sums.size(*inner))
        inner = (lo, hi)
    reference = sum(ring_mass)
    f1s: list[float] = []
    tp = predicted = 0.0
    for mass, size in zip(ring_mass, ring_size, strict=True):
        tp += mass
        predicted += size
        f1s.append(2 * tp / (predicted + reference) if predicted > 0 else 0.0)
    return f1s
