"""Boilerplate rules around the main extractor: tree pre-cleaning and line post-filtering.

Each rule is a small function; what it matches (selectors, phrases) is data at the top so
it can be reviewed and extended without touching the logic. Every rule here was kept only
because it improved the extraction benchmarks overall, not on one site.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml.html import HtmlElement

from worker.extract.vocabulary import is_furniture_line

# --------------------------------------------------------------------------- data

# Inline styles that make an element invisible to a reader.
HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
STREAMED_CHUNK_ID_PREFIX = "S:"
# A cheap pre-selection for the hidden-element rule (the exact test is in Python).
HIDDEN_CANDIDATES_XPATH = "//*[@hidden or contains(@style, 'display') or contains(@style, 'visib')]"
MAX_HIDDEN_SHARE = 0.3  # of the page's text: more than that is a script-revealed page
# Hidden until the reader clicks: tabs, accordions, FAQ answers, "read more" expansions.
DISCLOSURE_ROLES = frozenset({"tabpanel", "region"})
DISCLOSURE_CLASS_RE = re.compile(
    r"tab|accordion|collaps|faq|answer|panel|expand|reveal|more|less|spoiler|toggle|content|slide",
    re.IGNORECASE,
)

# Headings that introduce a block of links to *other* pages (not part of this one).
RELATED_HEADING_RE = re.compile(
    r"^(?:related(?: \w+)?|more (?:from|in|on|like this|stories|articles|news)\b.*|"
    r"(?:you (?:may|might) (?:also )?(?:like|enjoy|be interested in))|"
    r"(?:recommended|suggested)(?: for you| reading| articles| stories| posts| products)?|"
    r"(?:most (?:popular|read|viewed|shared))|"
    r"(?:people who viewed this item also viewed|customers (?:who \w+ this item )?also \w+)|"
    r"(?:similar|related) (?:items|products|posts|articles|stories)|"
    r"(?:recently viewed(?: items| products)?)|(?:don.t miss|also read)"
    r")\W*$",
    re.IGNORECASE,
)
HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6")
BLOCK_STOP_TAGS = frozenset({"body", "html", "main", "article"})
MAX_RELATED_SHARE = 0.2  # of the page's text
RELATED_MIN_LINK_SHARE = 0.5  # of the block's text besides the heading
RELATED_MIN_EXTRA_CHARS = 20  # a block must hold more than its heading to be judged


# --------------------------------------------------------------------------- helpers


def _text_len(element: HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def _link_text_len(element: HtmlElement) -> int:
    return sum(_text_len(a) for a in element.iter("a"))


def _remove(element: HtmlElement) -> None:
    """Drop an element but keep its tail text, which belongs to the parent."""
    element.drop_tree()


# --------------------------------------------------------------------------- tree rules


def is_hidden(element: HtmlElement) -> bool:
    """Hidden from every reader. Not aria-hidden: carousels mark their off-screen slides
    with it. Not React's streamed chunks (hidden divs with ids "S:<n>"): a script moves
    them into place, and they often carry the article itself."""
    if element.get("hidden") is not None:
        return not (element.get("id") or "").startswith(STREAMED_CHUNK_ID_PREFIX)
    style = element.get("style")
    return bool(style and HIDDEN_STYLE_RE.search(style))


def is_disclosure(element: HtmlElement) -> bool:
    """Content a click reveals is still the page's content."""
    if element.get("role") in DISCLOSURE_ROLES or element.get("aria-labelledby") is not None:
        return True
    return bool(DISCLOSURE_CLASS_RE.search(f"{element.get('class', '')} {element.get('id', '')}"))


def is_invisible(element: HtmlElement) -> bool:
    return is_hidden(element) and not is_disclosure(element)


def drop_hidden(tree: HtmlElement) -> int:
    """Remove elements a browser would not show (hidden attribute, inline style).

    Pages that hide their whole body until a script runs would lose everything, so an
    element holding a large share of the page's text is left alone.
    """
    hidden = [el for el in tree.xpath(HIDDEN_CANDIDATES_XPATH) if is_invisible(el)]
    if not hidden:
        return 0
    body = tree.find("body")
    limit = MAX_HIDDEN_SHARE * _text_len(body if body is not None else tree)
    removed = 0
    for element in hidden:
        if element.tag in ("html", "body") or element.getparent() is None:
            continue
        if _text_len(element) > limit:
            continue
        _remove(element)
        removed += 1
    return removed


def _related_block(heading: HtmlElement, max_chars: float) -> HtmlElement | None:
    """The smallest ancestor of a related-links heading that holds the links it introduces.

    It must be mostly link text and small next to the page: a product grid or a front
    page under "Recommended for you" is the page's content, not an aside.
    """
    heading_chars = _text_len(heading)
    for block in heading.iterancestors():
        if block.tag in BLOCK_STOP_TAGS or block.getparent() is None:
            return None
        chars = _text_len(block)
        if chars > heading_chars + RELATED_MIN_EXTRA_CHARS:
            links = _link_text_len(block)
            mostly_links = links >= RELATED_MIN_LINK_SHARE * (chars - heading_chars)
            return block if mostly_links and chars <= max_chars else None
    return None


def drop_related_sections(tree: HtmlElement) -> int:
    """Remove "Related articles" / "You may also like" blocks: a matching heading whose
    enclosing block is mostly links (one's own content is prose, not a list of links)."""
    body = tree.find("body")
    max_chars = MAX_RELATED_SHARE * _text_len(body if body is not None else tree)
    removed = 0
    for heading in list(tree.iter(*HEADING_TAGS)):
        if heading.getroottree().getroot() is not tree:
            continue  # inside a block removed earlier
        if not RELATED_HEADING_RE.match(" ".join(heading.text_content().split())):
            continue
        block = _related_block(heading, max_chars)
        if block is not None and block.find(".//h1") is None:
            _remove(block)
            removed += 1
    return removed


TreeRule = Callable[[HtmlElement], int]
TREE_RULES: tuple[TreeRule, ...] = (drop_hidden, drop_related_sections)


def preclean(tree: HtmlElement, rules: Iterable[TreeRule] = TREE_RULES) -> dict[str, int]:
    """Apply the tree rules in place; returns how many elements each removed."""
    return {rule.__name__: rule(tree) for rule in rules}


# --------------------------------------------------------------------------- text rules


def filter_lines(text: str) -> str:
    """Drop whole output lines that are page furniture ("Advertisement", "Share this" ...)."""
    return "\n".join(line for line in text.split("\n") if not is_furniture_line(line))
