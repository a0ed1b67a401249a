"""Plain-text pages (a text-mode crawler's rendering): line-level cleaning."""

from __future__ import annotations

from worker.records import Extracted, Page


def extract_text_page(page: Page) -> Extracted:
    lines = [ln.strip() for ln in page.body.splitlines()]
    text = "\n".join(ln for ln in lines if ln)
    title = next((ln for ln in lines if ln), None)
    return Extracted(text=text, title=title, extractor="text-lines", extractor_version="0")
