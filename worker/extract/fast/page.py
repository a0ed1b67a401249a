"""The fast engine as a pipeline extractor: Page -> Extracted.

One Lexbor parse serves everything: page metadata and the page's shape are read
from it first (``facts``), then the engine walks it for the main text; the shared
rules in ``metadata`` and ``pagetype`` decide as they do for the lxml engine.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from worker.extract.fast import extract_fast
from worker.extract.fast.facts import classed_elements, gather_facts, gather_shape
from worker.extract.metadata import metadata_from_facts
from worker.extract.pagetype import classify_shape, declares_discussion
from worker.extract.result import html_record
from worker.model import BadRecord, Extracted, Page

EXTRACTOR_NAME = "fast"
EXTRACTOR_VERSION = "2"


# The HTML parser's cost grows with the square of the nesting of the elements whose start
# tag first looks for an open <p> through the open elements (the HTML standard's "close a
# p element in button scope": its block containers, pre, listing) and of <optgroup>:
# 20,000 levels take seconds, 100,000 a minute, in C where the time budget cannot
# interrupt. Real pages stay under 200 (3,175 pages of four benchmarks: at most 178).
MAX_NESTING = 3000
NESTING_TAG_RE = re.compile(
    r"<(/?)(?=[a-zA-Z])(?:address|article|aside|blockquote|center|details|dialog|dir|div|dl|fieldset"
    r"|figcaption|figure|footer|header|hgroup|main|menu|nav|ol|search|section|summary|ul"
    r"|pre|listing|optgroup|table|form)[\s>/]",
    re.IGNORECASE,
)
# Its cost also grows with the square of the distinct attributes of one element (20,000:
# seconds). Only a long tag can hold that many, so only long tags are counted. (A tag that
# hides its length behind ">" in quoted values gets past this and meets the hard limit.)
MAX_ATTRIBUTES = 2000
LONG_TAG_RE = re.compile(rf"<[a-zA-Z][^>]{{{2 * MAX_ATTRIBUTES},}}")
ATTRIBUTE_NAME_RE = re.compile(r"""\s([a-zA-Z_:][-\w:.]*)(?=[\s=/>]|$)""")
QUOTED_RE = re.compile(r"""=\s*(?:"[^"]*"|'[^']*')""")


def check_nesting(html: str, limit: int = MAX_NESTING) -> None:
    """Refuse pages nested deeper than ``limit`` before parsing them."""
    if html.count("<") < limit:  # cannot be that deep: skip the scan
        return
    depth = 0
    for closing in NESTING_TAG_RE.findall(html):
        if closing:
            depth -= 1
        else:
            depth += 1
            if depth > limit:
                raise BadRecord("too_deep", f"block elements nested deeper than {limit}")


def check_attributes(html: str, limit: int = MAX_ATTRIBUTES) -> None:
    """Refuse pages with an element of more than ``limit`` distinct attributes."""
    lower: str | None = None
    for tag in LONG_TAG_RE.finditer(html):
        unquoted = QUOTED_RE.sub("=", tag.group())  # a long URL or JSON value holds no names
        if len({name.lower() for name in ATTRIBUTE_NAME_RE.findall(unquoted)}) <= limit:
            continue
        lower = lower if lower is not None else html.lower()
        if not _in_raw_text(lower, tag.start()):  # "a<b ..." in a script is not a tag
            raise BadRecord("too_many_attributes", f"an element has over {limit} attributes")


RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "noscript", "noembed", "noframes")


def _in_raw_text(lower: str, pos: int) -> bool:
    """Whether ``pos`` is inside an element whose content the parser reads as text."""
    for name in RAW_TEXT:
        opened = lower.rfind("<" + name, 0, pos)
        if opened >= 0 and lower.rfind("</" + name, opened, pos) < 0:
            return True
    return False


def extract_page(page: Page) -> Extracted:
    url = page.final_url or page.url
    check_nesting(page.body)
    check_attributes(page.body)
    tree = LexborHTMLParser(page.body)
    classed = classed_elements(tree)
    meta = metadata_from_facts(gather_facts(tree, classed), url)  # reads scripts: first
    shape = gather_shape(tree, classed)  # reads the page chrome: before the walk drops it
    result = extract_fast(tree, url, declares_discussion(url, meta))
    page_type = classify_shape(shape, url, result.text, meta)
    return html_record(
        result.text, meta, page_type, result.page_chars, EXTRACTOR_NAME, EXTRACTOR_VERSION
    )
