"""The ``Extracted`` record of an HTML page, assembled alike by both engines."""

from __future__ import annotations

from worker.extract.language import page_language
from worker.extract.metadata import PageMetadata
from worker.model import Extracted


def boilerplate_ratio(text: str, page_chars: int) -> float | None:
    """Share of the page's visible text left out of the main text."""
    return round(max(0.0, 1 - len(text) / page_chars), 4) if page_chars else None


def html_record(
    text: str,
    meta: PageMetadata,
    page_type: str,
    page_chars: int,
    extractor: str,
    version: str,
) -> Extracted:
    language, confidence = page_language(text, meta.language_hint)
    return Extracted(
        text=text,
        title=meta.title,
        description=meta.description,
        authors=list(meta.authors),
        published_at=meta.published_at,
        modified_at=meta.modified_at,
        language=language,
        language_confidence=confidence,
        site_name=meta.site_name,
        canonical_url=meta.canonical_url,
        image_url=meta.image_url,
        page_type=page_type,
        extractor=extractor,
        extractor_version=version,
        boilerplate_ratio=boilerplate_ratio(text, page_chars),
    )
