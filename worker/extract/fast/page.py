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
from worker.extract.pagetype import classify_shape
from worker.extract.record import html_record
from worker.records import BadRecord, Extracted, Page

EXTRACTOR_NAME = "fast"
EXTRACTOR_VERSION = "2"


# The HTML parser's cost grows with the square of the nesting of block elements (each
# start tag looks through the open ones): 20,000 levels take half a second, 100,000 take
# many, in C where the time budget cannot interrupt. Real pages stay under 800.
MAX_NESTING = 3000
NESTING_TAG_RE = re.compile(
    r"<(/?)(?:div|section|article|main|aside|nav|header|footer|ul|ol|dl|table|blockquote"
    r"|form|fieldset|figure|details)[\s>/]",
    re.IGNORECASE,
)


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


def extract_page(page: Page) -> Extracted:
    url = page.final_url or page.url
    check_nesting(page.body)
    tree = LexborHTMLParser(page.body)
    classed = classed_elements(tree)
    meta = metadata_from_facts(gather_facts(tree, classed), url)  # reads scripts: first
    shape = gather_shape(tree, classed)  # reads the page chrome: before the walk drops it
    result = extract_fast(tree, url)
    page_type = classify_shape(shape, url, result.text, meta)
    return html_record(
        result.text, meta, page_type, result.page_chars, EXTRACTOR_NAME, EXTRACTOR_VERSION
    )
