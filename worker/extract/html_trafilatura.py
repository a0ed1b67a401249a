"""HTML extraction through trafilatura (comments off, metadata on)."""

from __future__ import annotations

import trafilatura

from worker.records import Extracted, Page


def extract_with_trafilatura(page: Page) -> Extracted:
    doc = trafilatura.bare_extraction(
        page.body,
        url=page.final_url or page.url,
        include_comments=False,
        with_metadata=True,
        favor_precision=False,
    )
    if doc is None:
        return Extracted(text="", extractor="trafilatura", extractor_version=trafilatura.__version__)
    text = doc.text or ""
    return Extracted(
        text=text,
        title=doc.title,
        description=doc.description,
        authors=[a.strip() for a in (doc.author or "").split(";") if a.strip()],
        published_at=doc.date,
        site_name=doc.sitename,
        canonical_url=None,
        image_url=doc.image,
        language=doc.language,
        extractor="trafilatura",
        extractor_version=trafilatura.__version__,
        boilerplate_ratio=None,
    )
