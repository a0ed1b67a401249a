"""The fast engine as a pipeline extractor: Page -> Extracted.

Fills what the engine knows (text, title, boilerplate ratio); page metadata,
language and page type are left to the stages that already compute them.
"""

from __future__ import annotations

from worker.extract.fast import extract_fast
from worker.records import Extracted, Page

EXTRACTOR_NAME = "fast"
EXTRACTOR_VERSION = "1"


def extract_page(page: Page) -> Extracted:
    result = extract_fast(page.body, page.final_url or page.url)
    ratio = None
    if result.page_chars:
        ratio = round(max(0.0, 1 - len(result.text) / result.page_chars), 4)
    return Extracted(
        text=result.text,
        title=result.title,
        extractor=EXTRACTOR_NAME,
        extractor_version=EXTRACTOR_VERSION,
        boilerplate_ratio=ratio,
    )
