"""A whole-region text candidate: everything a reader sees in the page's main area.

trafilatura looks for article prose; on product grids, listings, forums and service pages it
often keeps a paragraph or two of a page whose content is mostly short blocks. This
candidate keeps every visible block of the main region instead (the ``<main>`` element when
the page has a substantial one, else the body) minus the page chrome that HTML5 and ARIA
mark explicitly, and is used when trafilatura's output is small next to it.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from worker.extract.trafilatura_engine.cleanup import filter_lines, is_invisible

# Elements that never hold the page's own content.
CHROME_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "button",
        "select",
        "option",
        "input",
        "textarea",
        "label",
        "dialog",
        "head",
        "link",
        "meta",
    }
)
CHROME_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "dialog", "search", "menu", "menubar"}
)
# Whole class/id tokens (never substrings: "entry-header" is the article's title block).
CHROME_TOKENS = frozenset(
    {
        "nav",
        "navbar",
        "navigation",
        "menu",
        "main-menu",
        "mainmenu",
        "site-header",
        "site-footer",
        "header",
        "footer",
        "sidebar",
        "breadcrumb",
        "breadcrumbs",
        "cookie-banner",
        "cookie-notice",
        "cookie-consent",
        "newsletter",
        "skip-link",
        "sr-only",
        "visually-hidden",
        "screen-reader-text",
        "share",
        "sharing",
        "social",
        "social-share",
        "share-buttons",
        "modal",
        "popup",
    }
)
# Parts of class/id names ("site-footer__inner", "main-navigation", "mega_menu"): chrome
# unless the element holds much of the page (layout wrappers such as "page-with-sidebar").
CHROME_SEGMENTS = frozenset(
    {
        "footer",
        "nav",
        "navigation",
        "navbar",
        "menu",
        "breadcrumb",
        "breadcrumbs",
        "cookie",
        "newsletter",
        "subscribe",
        "signup",
        "sidebar",
        "social",
        "share",
        "popup",
        "modal",
    }
)
NAME_SPLIT_RE = re.compile(r"[-_\s]+")
MAX_CHROME_SHARE = 0.3  # of the page's text
KEPT_CONTAINERS = frozenset({"html", "body", "main", "article"})
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
# A list (or a div of blocks) whose every item is one short link is a menu.
MENU_MIN_ITEMS = 3
MENU_MIN_BLOCKS = 4
MENU_MAX_ITEM_CHARS = 30
MIN_MAIN_SHARE = 0.25  # a <main> with less of the page's text is a fragment, not the content


def _text_len(element: HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def _link_text_len(element: HtmlElement) -> int:
    return sum(_text_len(a) for a in element.iter("a"))


def is_chrome(element: HtmlElement, max_chars: float) -> bool:
    if element.tag in CHROME_TAGS or element.get("role") in CHROME_ROLES:
        return True
    if element.tag in KEPT_CONTAINERS:
        return False
    names = f"{element.get('class', '')} {element.get('id', '')}".lower()
    if any(token in CHROME_TOKENS for token in names.split()):
        return True
    segments = NAME_SPLIT_RE.split(names)
    return any(s in CHROME_SEGMENTS for s in segments) and _text_len(element) <= max_chars


def strip_chrome(tree: HtmlElement) -> None:
    """Remove page chrome, hidden elements and comments/processing instructions, in place."""
    body = tree.find("body")
    max_chars = MAX_CHROME_SHARE * _text_len(body if body is not None else tree)
    for element in list(tree.iter()):
        if element.getparent() is None:
            continue
        if (
            not isinstance(element.tag, str)
            or is_chrome(element, max_chars)
            or is_invisible(element)
        ):
            element.drop_tree()


def _is_short_link(element: HtmlElement) -> bool:
    chars = _text_len(element)
    return chars <= MENU_MAX_ITEM_CHARS and _link_text_len(element) >= chars


def is_link_menu(element: HtmlElement) -> bool:
    """Every item one short link: site sections, footer links, tag clouds."""
    if element.tag in ("ul", "ol"):
        items = [child for child in element if child.tag == "li"]
        minimum = MENU_MIN_ITEMS
    else:
        items = [child for child in element if isinstance(child.tag, str)]
        minimum = MENU_MIN_BLOCKS
    return len(items) >= minimum and all(_is_short_link(item) for item in items)


def drop_link_menus(tree: HtmlElement) -> None:
    for element in list(tree.iter("ul", "ol", "div", "section")):
        if element.getparent() is not None and is_link_menu(element):
            element.drop_tree()


def main_region(tree: HtmlElement) -> HtmlElement:
    body = tree.find("body")
    body = body if body is not None else tree
    total = _text_len(body)
    for candidate in (*tree.iter("main"), *tree.xpath("//*[@role='main']")):
        if _text_len(candidate) > MIN_MAIN_SHARE * total:
            return candidate
    return body


def block_lines(root: HtmlElement) -> list[str]:
    """The element's text, one line per block element, whitespace collapsed.

    Iterative (start/end events) because real pages nest deeper than Python's recursion limit.
    """
    lines: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        line = " ".join("".join(pending).split())
        if line:
            lines.append(line)
        pending.clear()

    for event, element in etree.iterwalk(root, events=("start", "end")):
        block = element.tag in BLOCK_TAGS
        if event == "start":
            if block:
                flush()
            if element.text:
                pending.append(element.text)
            continue
        if block:
            flush()
        if element.tail and element is not root:
            pending.append(element.tail)
    flush()
    return lines


def drop_repeated_lines(lines: list[str]) -> list[str]:
    """Cards often print a name twice (image alt link, then title link): keep one."""
    return [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]


def region_text(tree: HtmlElement) -> str:
    """Visible text of the main region; mutates ``tree`` (pass a copy to keep it)."""
    strip_chrome(tree)
    drop_link_menus(tree)
    lines = drop_repeated_lines(block_lines(main_region(tree)))
    return filter_lines("\n".join(lines))
