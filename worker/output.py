"""The output record: one JSON object per article (schema: worker/schemas/article.schema.json)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from worker import SCHEMA_VERSION
from worker.model import DedupVerdict, Extracted, Origin, Page
from worker.textunits import count_words
from worker.urls import article_id, choose_canonical, domain_of

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def serialise(record: dict[str, Any]) -> bytes:
    """The output record as JSON, whatever its strings hold.

    JSON-LD's ``"\\ud800"`` decodes to a lone surrogate, which no UTF-8 output can carry:
    such a record is scrubbed in place (U+FFFD) and dumped again. Searching every string
    first would cost about 1 ms per 100 KB of text on every article, for a rare failure.
    """
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:
        scrub_surrogates(record)
        return orjson.dumps(record)


def scrub_surrogates(node: dict[str, Any] | list[Any]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, str):
            node[key] = LONE_SURROGATE.sub("\ufffd", value)  # type: ignore[index]
        elif isinstance(value, dict | list):
            scrub_surrogates(value)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def word_count(text: str) -> int:
    """Words in any script (``worker.textunits``): whitespace-separated words, as ``wc -w``
    counts them, for text written with spaces; as ``INGEST_MIN_WORDS`` counts them."""
    return count_words(text)


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
