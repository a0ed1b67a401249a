"""The page model: the data that flows through the pipeline, one dataclass per stage boundary.

decode -> Page, extract -> Extracted, dedupe -> DedupVerdict; the pipeline turns
those into exactly one Outcome per input record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BodyKind = Literal["html", "text"]


class _RecordEnd(Exception):
    """How a record ends short of an article: a ``reason`` (a short snake_case constant
    that becomes a metric label) and a human-readable ``detail`` (never page content)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.record_id: str | None = None  # the input's own id, when decoding got that far


class SkipRecord(_RecordEnd):
    """A record we deliberately do not publish; counted under ``reason``.

    Reasons are short snake_case constants (``http_status``, ``not_html``,
    ``warc_request``, ``empty_after_extraction`` ...) because they become a
    metric label: never put URLs or free text in them.
    """


class BadRecord(_RecordEnd):
    """Input that cannot be processed as it is: it goes to the dead-letter topic.

    ``reason`` is a short snake_case constant (a metric label), ``detail`` a
    human-readable explanation kept in the DLQ record (never page content).
    """


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


# "updated": a changed recrawl of a page; "unchanged": a recrawl with the same text (a skip)
DedupStatus = Literal["new", "updated", "exact_duplicate", "near_duplicate", "unchanged"]


@dataclass(slots=True, frozen=True)
class Sighting:
    """One record of a page, for recrawl semantics: a record seen again at the same
    ``origin`` is a replay (same output again); a new origin is a recrawl, unchanged when
    ``raw_hash`` equals the page's last one."""

    origin: str  # where the record was read (``origin_key``); a replay has the same
    raw_hash: str  # content hash of the text as extracted, before the site templates
    content_hash: str  # the published text's hash (what the next version names as previous)
    fetched_at: float | None = None  # fetch time, epoch s (``race.fetch_time``); None: unknown


@dataclass(slots=True, frozen=True)
class Reservation:
    """A dedupe decision held for one record until its output is acknowledged: the deduper's
    ``confirm`` keeps it, ``release`` undoes it (the output was not published)."""

    doc_id: str
    origin: str
    token: int = -1  # the in-process index's row; unused by Redis


@dataclass(slots=True, frozen=True)
class Correction:
    """A canonical demoted by an earlier-fetched copy (``dedup.race``): its output as
    published, to be published again under its own key as that copy's near duplicate."""

    doc_id: str  # the demoted page
    topic: str | None  # where its output was published
    value: bytes  # that output
    status: DedupStatus  # what it is now: the new canonical's exact or near duplicate
    similarity: float | None  # the new canonical's similarity to it


@dataclass(slots=True, frozen=True)
class DedupVerdict:
    status: DedupStatus
    cluster_id: str
    duplicate_of: str | None = None
    similarity: float | None = None
    version: int = 1  # the page's version: 1, then one more per changed recrawl
    previous_content_hash: str | None = None  # the previous version's ``content_hash``
    reservation: Reservation | None = field(default=None, compare=False)
    correction: Correction | None = field(default=None, compare=False)  # a takeover's


@dataclass(slots=True, frozen=True)
class Origin:
    """Where an input record came from (Kafka coordinates or a file position)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp_ms: int | None = None


def origin_key(origin: Origin, record_id: str | None) -> str:
    """Where a record was read, as recrawl semantics compare it: Kafka coordinates; offline
    (no topic) the input's own id, so a repeated line id is a replay, else its position."""
    if origin.topic is not None:
        return f"k:{origin.topic}/{origin.partition}/{origin.offset}"
    if record_id:
        return f"id:{record_id}"
    return f"line:{origin.offset}"
