"""The extract stage: Page -> Extracted.

An extractor is any callable taking a Page and returning Extracted; the worker
builds one with ``make_extractor`` from its settings and never looks inside.
"""

from __future__ import annotations

from typing import Protocol

from worker.model import Extracted, Page


class Extractor(Protocol):
    def __call__(self, page: Page) -> Extracted: ...


ENGINES = ("fast", "trafilatura")  # the first is the default (``INGEST_EXTRACTOR``)


def make_extractor(name: str = ENGINES[0]) -> Extractor:
    from worker.extract.language import warm_up
    from worker.extract.text import extract_text_page

    if name == "trafilatura":
        from worker.extract.trafilatura_engine.page import extract_html
    elif name == "fast":
        from worker.extract.fast.page import extract_page as extract_html
    else:
        raise ValueError(f"unknown extractor {name!r}")
    warm_up()  # outside any page's time budget

    def extract(page: Page) -> Extracted:
        if page.body_kind == "text":
            return extract_text_page(page)
        return extract_html(page)

    return extract
