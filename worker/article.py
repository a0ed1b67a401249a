"""The output record: one JSON object per article (schema: worker/schemas/article.schema.json)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from worker import SCHEMA_VERSION
from worker.records import DedupVerdict, Extracted, Origin, Page
from worker.urls import article_id, choose_canonical, domain_of


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def word_count(text: str) -> int:
    """Whitespace-separated words, as ``wc -w`` counts them (and ``INGEST_MIN_WORDS``): a
    ``\\w+`` count cost a fifth of a millisecond per page, this a hundredth."""
    return len(text.split())


def canonical_url_of(page: Page, extracted: Extracted) -> str:
    return choose_canonical(page.final_url or page.url, extracted.canonical_url)


def build_article(
    page: Page,
    extracted: Extracted,
    verdict: DedupVerdict | None,
    origin: Origin,
    *,
    doc_id: str | None = None,
    canonical_url: str | None = None,
    words: int | None = None,
) -> dict[str, Any]:
    """``words``: the text's word count when the caller has it (the site templates do)."""
    canonical = canonical_url or canonical_url_of(page, extracted)
    return {
        "schema_version": SCHEMA_VERSION,
        "id": doc_id or article_id(canonical),
        "text": extracted.text,
        "title": extracted.title,
        "description": extracted.description,
        "authors": list(extracted.authors),
        "published_at": extracted.published_at,
        "modified_at": extracted.modified_at,
        "language": extracted.language,
        "language_confidence": extracted.language_confidence,
        "url": page.url,
        "final_url": page.final_url,
        "canonical_url": canonical,
        "domain": domain_of(page.final_url or page.url),
        "site_name": extracted.site_name,
        "image_url": extracted.image_url,
        "page_type": extracted.page_type,
        "word_count": word_count(extracted.text) if words is None else words,
        "content_hash": content_hash(extracted.text),
        "fetched_at": page.fetched_at,
        "processed_at": now_iso(),
        "source": page.source,
        "dedup": {
            "status": verdict.status if verdict else "new",
            "cluster_id": verdict.cluster_id if verdict else None,
            "duplicate_of": verdict.duplicate_of if verdict else None,
            "similarity": None
            if verdict is None or verdict.similarity is None
            else round(float(verdict.similarity), 4),
            "version": verdict.version if verdict else 1,
            "previous_content_hash": verdict.previous_content_hash if verdict else None,
        },
        "provenance": {
            "input_format": page.input_format,
            "topic": origin.topic,
            "partition": origin.partition,
            "offset": origin.offset,
            "record_id": page.record_id,
            "http_status": page.http_status,
            "content_type": page.content_type,
            "charset": page.charset,
            "charset_source": page.charset_source,
        },
        "extraction": {
            "extractor": extracted.extractor,
            "version": extracted.extractor_version,
            "boilerplate_ratio": extracted.boilerplate_ratio,
        },
    }
