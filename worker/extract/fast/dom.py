"""One walk over the parsed tree that turns it into text blocks and block-level elements.

Everything after the walk (scoring, cleaning, output) works on these flat lists,
so the per-node Python cost is paid once. Elements are numbered in document
order and each knows the range of blocks it holds, which makes "all the text
inside this element" a slice rather than another walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from worker.extract.fast.selectors import (
    ARTICLE_BODY_RE,
    ARTICLE_ITEMPROPS,
    CAPTION_NAME_RE,
    CELL_TAGS,
    CHROME_ROLES,
    CHROME_TAGS,
    CHROME_TOKEN_RE,
    CHROME_VETO_RE,
    COMMENTS_TOKEN_RE,
    CONTENT_ROLES,
    HIDDEN_STYLE_RE,
    INLINE_TAGS,
    INVISIBLE_TAGS,
    PAGE_BODY_RE,
    PAGE_ITEMPROPS,
    REMOVED_CHROME_TAGS,
    TAXONOMY_TOKEN_RE,
)

# Why an element looks like page chrome; the guards in ``scoring`` trust these differently.
NOT_CHROME = 0
CHROME_BY_TAG = 1  # <nav>, <footer>, ARIA landmark roles
CHROME_BY_NAME = 2  # class/id words such as "sidebar", "share"
CHROME_BY_COMMENTS = 3  # reader comments: prose, but not the page's own

# Separates table cells inside a row's text until the row is rendered as "a | b | c".
CELL_MARK = "\x1f"

NO_HINT = 0
WEAK_HINT = 1
STRONG_HINT = 2

# Elements that hold text themselves, not panels of other elements: ``hidden`` on them hides.
HIDDEN_TEXT_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "span", "a"})

# Deeper than this, a subtree is read as one flat piece of text: keeps the
# recursion bounded on pathological nesting.
MAX_DEPTH = 120


@dataclass(slots=True)
class Element:
    """A block-level element and the blocks it holds (``blocks[b_start:b_end]``)."""

    tag: str
    parent: int
    depth: int
    b_start: int
    b_end: int = 0
    chrome: int = NOT_CHROME
    content_hint: int = 0  # NO_HINT, WEAK_HINT or STRONG_HINT
    cls: str = ""  # class attribute: siblings sharing it are parts of one repeated structure
    # form fields and embedded players (iframe, video, ...) held directly, not through a
    # nested block element
    widgets: int = 0


@dataclass(slots=True)
class Block:
    """A run of text between block boundaries, owned by its innermost block element."""

    text: str
    kind: str
    owner: int
    link_chars: int
    lead_link_chars: int  # link text before any other text: a headline link opening a teaser


@dataclass(slots=True)
class Doc:
    title: str | None
    elements: list[Element] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    widget_holders: list[int] = field(default_factory=list)  # elements with ``widgets``


def parse(html: str | LexborHTMLParser) -> Doc:
    """Walks a page, or a parse of it that callers read first (the walk changes it)."""
    tree = html if isinstance(html, LexborHTMLParser) else LexborHTMLParser(html)
    title = _title(tree)
    widgets = _widgets(tree)
    _unwrap_chrome_around_main(tree)
    tree.strip_tags(STRIPPED_TAGS)
    doc = Doc(title=title)
    root = tree.body or tree.root
    if root is not None:
        _walk(root, doc, widgets)
    return doc


# Form fields and embedded players: invisible tags, counted on their nearest ancestor that
# is not inline text as they are removed, before the walk.
WIDGET_TAGS = ("input", "select", "textarea", "iframe", "embed", "object", "video", "audio")
WIDGET_QUERY = ", ".join(WIDGET_TAGS)
# The other invisible tags and the chrome removed with them.
STRIPPED_TAGS = [tag for tag in (*INVISIBLE_TAGS, *REMOVED_CHROME_TAGS) if tag not in WIDGET_TAGS]
# Inputs that are buttons, or not shown at all, are not fields to fill in.
NOT_FIELD_TYPES = frozenset({"hidden", "button", "submit", "reset", "image"})


def _unwrap_chrome_around_main(tree: LexborHTMLParser) -> None:
    """A ``<main>`` is never inside ``<nav>``, ``<aside>`` or ``<footer>`` (HTML forbids
    it): one found there sits in a chrome tag that was left open (an announcement bar's
    ``<aside>`` never closed swallows the page). That tag goes, its content stays."""
    for main in tree.css("main"):
        node = main.parent
        while node is not None:
            parent = node.parent
            if node.tag in REMOVED_CHROME_TAGS:
                node.unwrap()
            node = parent


def _widgets(tree: LexborHTMLParser) -> dict[int, int]:
    """Removes the widget tags and counts the form fields and embeds by the ``mem_id`` of
    the node that held them. One query finds them all, as fast as removing them tag by tag;
    the last come first, so a nested one goes before the one around it."""
    counts: dict[int, int] = {}
    for node in reversed(tree.css(WIDGET_QUERY)):
        if (
            node.tag != "input"
            or (node.attributes.get("type") or "").lower() not in NOT_FIELD_TYPES
        ):
            parent = node.parent
            while parent is not None and parent.tag in INLINE_TAGS:
                parent = parent.parent
            if parent is not None:
                key = parent.mem_id
                counts[key] = counts.get(key, 0) + 1
        node.decompose()
    return counts


def _title(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("meta[property='og:title']")
    if node is not None:
        content = (node.attributes.get("content") or "").strip()
        if content:
            return content
    node = tree.css_first("title")
    if node is not None:
        text = " ".join(node.text().split())
        return text or None
    return None


def classify(tag: str, attrs: dict[str, str | None]) -> tuple[int, int, bool]:
    """(chrome kind, content hint, is a caption) of an element; memoised, as sites repeat
    their markup.

    ``display: none`` hides any element. The ``hidden`` attribute hides only elements that
    hold text themselves (paragraphs, headings, list items, inline text): on containers it
    and aria-hidden mostly sit on tabs and expandable panels that readers open, and
    dropping those lost more text than it saved on the benchmark pages.
    """
    if tag in HIDDEN_TEXT_TAGS and "hidden" in attrs:
        return CHROME_BY_NAME, NO_HINT, False
    style = attrs.get("style")
    if style and "none" in style and HIDDEN_STYLE_RE.search(style):
        return CHROME_BY_NAME, NO_HINT, False
    key = (tag, attrs.get("class"), attrs.get("id"), attrs.get("role"), attrs.get("itemprop"))
    found = _CLASSIFIED.get(key)
    if found is None:
        if len(_CLASSIFIED) >= _CLASSIFIED_LIMIT:
            _CLASSIFIED.clear()
        names = f"{key[1] or ''} {key[2] or ''}".lower().strip()
        role = (key[3] or "").lower()
        hint = is_content_hint(tag, names, role, (key[4] or "").lower())
        chrome = chrome_kind(tag, names, role)
        if hint and chrome == CHROME_BY_NAME:
            chrome = NOT_CHROME
        caption = tag == "figcaption" or (
            not hint and bool(names) and CAPTION_NAME_RE.search(names) is not None
        )
        found = _CLASSIFIED[key] = (chrome, hint, caption)
    return found


_Key = tuple[str, str | None, str | None, str | None, str | None]
_CLASSIFIED: dict[_Key, tuple[int, int, bool]] = {}
_CLASSIFIED_LIMIT = 50_000


def chrome_kind(tag: str, names: str, role: str) -> int:
    """Navigation, ads, share bars, comments: by tag, ARIA role or class/id words.

    ``names`` is the lower-cased class and id, ``role`` the lower-cased ARIA role.
    """
    if tag in CHROME_TAGS or role in CHROME_ROLES:
        return CHROME_BY_TAG
    kind = NOT_CHROME
    for token in names.split():
        if _chrome_token(token):
            if COMMENTS_TOKEN_RE.search(token):
                return CHROME_BY_COMMENTS
            kind = CHROME_BY_NAME
    return kind


# Component names are short ("share-buttons", "sidebar-left-widget"); a longer token is a
# slug of a heading or title ("sharing-with-a-single-developer", an anchor id), i.e. prose.
MAX_NAME_SEGMENTS = 4
SEGMENT_SPLIT_RE = re.compile(r"[-_]+")


def _chrome_token(token: str) -> bool:
    found = _CHROME_TOKENS.get(token)
    if found is None:
        if len(_CHROME_TOKENS) >= _CLASSIFIED_LIMIT:
            _CHROME_TOKENS.clear()
        found = _CHROME_TOKENS[token] = (
            len(SEGMENT_SPLIT_RE.split(token)) <= MAX_NAME_SEGMENTS
            and CHROME_TOKEN_RE.search(token) is not None
            and CHROME_VETO_RE.search(token) is None
            and TAXONOMY_TOKEN_RE.match(token) is None
        )
    return found


_CHROME_TOKENS: dict[str, bool] = {}


def is_content_hint(tag: str, names: str, role: str, itemprop: str) -> int:
    """Markup that authors use for the main text.

    Strong: itemprop=articleBody or a class such as "entry-content", which wrap the
    text itself. Weak: <article>, <main>, role=main, which may also wrap a
    headline block, a sidebar or one post of many.
    """
    if itemprop in ARTICLE_ITEMPROPS or (names and ARTICLE_BODY_RE.search(names) is not None):
        return STRONG_HINT
    if (
        tag in ("article", "main")
        or role in CONTENT_ROLES
        or itemprop in PAGE_ITEMPROPS
        or (names and PAGE_BODY_RE.search(names) is not None)
    ):
        return WEAK_HINT
    return NO_HINT


def _row(line: str) -> str:
    cells = (" ".join(cell.split()) for cell in line.split(CELL_MARK))
    return " | ".join(cell for cell in cells if cell)


MARKUP_RE = re.compile(r"<[a-zA-Z!/]")


def _markup_only(node: LexborNode) -> bool:
    """A ``<noscript>`` holding nothing but one text that is markup: an escaped
    ``&lt;iframe …&gt;`` tracking snippet, or a fallback a parser with scripting on keeps
    as raw text. No reader sees it as text. Noscript with elements inside (the whole page
    for script-less readers, on some sites) or a plain-text notice is still walked."""
    first = node.child
    return (
        first is not None
        and first.next is None
        and first.tag == "-text"
        and MARKUP_RE.search(first.text_content or "") is not None
    )


def _walk(root: LexborNode, doc: Doc, widgets: dict[int, int]) -> None:
    elements = doc.elements
    blocks = doc.blocks
    pieces: list[str] = []
    add = pieces.append
    # characters of text in the current block: inside links, all, and link text seen
    # before any other text (a headline link opening a teaser)
    link_chars = all_chars = lead_chars = 0
    leading = True

    def count_widgets(node: LexborNode, index: int) -> None:
        """Adds the widgets removed from ``node`` to element ``index``."""
        found = widgets.get(node.mem_id)
        if found:
            if not elements[index].widgets:
                doc.widget_holders.append(index)
            elements[index].widgets += found

    def add_text(text: str, link: bool) -> None:
        nonlocal link_chars, all_chars, lead_chars, leading
        add(text)
        size = len(text.strip())
        all_chars += size
        if link:
            link_chars += size
            if leading:
                lead_chars += size
        elif size:
            leading = False

    def flush(owner: int, kind: str, pre: bool) -> None:
        nonlocal link_chars, all_chars, lead_chars, leading
        if not all_chars:  # nothing but whitespace and line breaks
            pieces.clear()
            return
        raw = "".join(pieces)
        pieces.clear()
        scale_links, scale_all, scale_lead = link_chars, all_chars, lead_chars
        link_chars = all_chars = lead_chars = 0
        leading = True
        if pre:
            text = "\n".join(line.rstrip() for line in raw.strip("\n").split("\n"))
        elif CELL_MARK in raw:
            text = "\n".join(filter(None, (_row(line) for line in raw.split("\n"))))
        else:
            text = "\n".join(filter(None, (" ".join(line.split()) for line in raw.split("\n"))))
        if not text.strip():
            return
        scale = len(text) / scale_all
        links = min(len(text), round(scale_links * scale))
        blocks.append(Block(text, kind, owner, links, min(links, round(scale_lead * scale))))

    def visit(node: LexborNode, owner: int, kind: str, depth: int, link: bool, pre: bool) -> None:
        nonlocal all_chars, leading
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                text = child.text_content or ""
                if not link:  # the common case, inlined
                    add(text)
                    size = len(text.strip())
                    if size:
                        all_chars += size
                        leading = False
                elif text:
                    add_text(text, link)
            elif tag == "br":
                add("\n")
            elif not tag or tag[0] in "-_#!?" or child.child is None:
                # comments, doctype, processing instructions (``<?php … ?>`` has no tag
                # name), and elements without any content: nothing a reader sees; one
                # left empty by the removed widgets passes their count to its owner
                if widgets and tag and tag not in INLINE_TAGS:
                    count_widgets(child, owner)
            elif tag == "noscript" and _markup_only(child):
                pass  # fallback markup (tracking pixels, lazy images) the parser kept as text
            else:
                attrs = child.attributes
                chrome, hint, caption = classify(tag, attrs)
                if tag in INLINE_TAGS and not chrome:
                    first = child.child
                    if first is None:
                        pass
                    elif first.next is None and first.tag == "-text":
                        text = first.text_content
                        if text:
                            add_text(text, link or tag == "a")
                    elif depth < MAX_DEPTH:
                        visit(child, owner, kind, depth + 1, link or tag == "a", pre)
                    else:
                        add_text(child.text(separator=" "), link)
                elif tag in CELL_TAGS and not chrome:
                    # cells of a row share one line; the cell is still a container
                    # candidate for layout tables that hold whole articles
                    add(CELL_MARK)
                    index = len(elements)
                    element = Element(tag, owner, depth, len(blocks), content_hint=hint)
                    elements.append(element)
                    if widgets:
                        count_widgets(child, index)
                    if depth < MAX_DEPTH:
                        visit(child, index, kind, depth + 1, link, pre)
                    else:
                        add_text(child.text(separator=" "), link)
                    element.b_end = len(blocks)
                else:
                    flush(owner, kind, pre)
                    index = len(elements)
                    element = Element(
                        tag,
                        owner,
                        depth,
                        len(blocks),
                        chrome=chrome,
                        content_hint=hint,
                        cls=attrs.get("class") or "",
                    )
                    elements.append(element)
                    if widgets:
                        count_widgets(child, index)
                    # a caption's inner blocks stay captions
                    if caption or kind == "figcaption":
                        child_kind = "figcaption"
                    else:
                        child_kind = kind if tag in INLINE_TAGS else tag
                    child_pre = pre or tag == "pre"
                    if depth < MAX_DEPTH:
                        visit(child, index, child_kind, depth + 1, link or tag == "a", child_pre)
                    else:
                        add_text(child.text(separator=" "), link)
                    flush(index, child_kind, child_pre)
                    element.b_end = len(blocks)
            child = child.next

    elements.append(Element(root.tag or "body", -1, 0, 0))
    if widgets:
        count_widgets(root, 0)
    visit(root, 0, "body", 1, False, False)
    flush(0, "body", False)
    elements[0].b_end = len(blocks)
