"""The data that flows through the pipeline: one dataclass per stage boundary.

decode -> Page, extract -> Extracted, dedupe -> DedupVerdict; the pipeline turns
those into exactly one Outcome per input record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BodyKind = Literal["html", "text"]


class SkipRecord(Exception):
    """A record we deliberately do not publish; counted under ``reason``.

    Reasons are short snake_case constants (``http_status``, ``not_html``,
    ``warc_request``, ``empty_after_extraction`` ...) because they become a
    metric label: never put URLs or free text in them.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.record_id: str | None = None  # the input's own id, when decoding got that far


class BadRecord(Exception):
    """Input that cannot be processed as it is: it goes to the dead-letter topic.

    ``reason`` is a short snake_case constant (a metric label), ``detail`` a
    human-readable explanation kept in the DLQ record (never page content).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.record_id: str | None = None  # the input's own id, when decoding got that far


class TransientError(Exception):
    """A dependency (broker, dedup store) is unavailable: retry later, never dead-letter."""


@dataclass(slots=True)
class Page:
    """One decoded input page, whatever form it arrived in."""

    url: str
    body: str
    body_kind: BodyKind
    input_format: str  # json | json:<alias> | cloudevents | raw | warc
    final_url: str | None = None
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # HTTP response headers, lower-case keys
    content_type: str | None = None  # media type only, e.g. text/html
    charset: str | None = None
    charset_source: str | None = None  # envelope | http | bom | meta | detector | default | none
    fetched_at: str | None = None  # ISO 8601
    source: str | None = None
    record_id: str | None = None
    metadata: dict = field(default_factory=dict)
    raw_size: int = 0  # bytes of the body as received (after gzip)


@dataclass(slots=True)
class Extracted:
    """What the extract stage found in a page."""

    text: str
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    modified_at: str | None = None
    language: str | None = None
    language_confidence: float | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None
    page_type: str | None = None  # article | forum | product | collection | listing | ...
    extractor: str = ""
    extractor_version: str = ""
    boilerplate_ratio: float | None = None  # share of the page's text dropped as boilerplate


DedupStatus = Literal["new", "exact_duplicate", "near_duplicate"]


@dataclass(slots=True, frozen=True)
class DedupVerdict:
    status: DedupStatus
    cluster_id: str
    duplicate_of: str | None = None
    similarity: float | None = None


@dataclass(slots=True, frozen=True)
class Origin:
    """Where an input record came from (Kafka coordinates or a file position)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None
