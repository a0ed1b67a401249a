"""decode -> extract -> dedupe -> publish, for one input record, without I/O.

``process`` turns one Kafka record into exactly one ``Outcome``: an article to
publish, a duplicate recorded, a counted skip, or a dead-letter record with the
reason. Only ``TransientError`` (a dependency is down) escapes, so the caller
retries the record instead of losing or dead-lettering it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import orjson

from worker import SCHEMA_VERSION
from worker.budget import BudgetExceeded, time_budget
from worker.config import Settings
from worker.deadletter import dead_letter_headers, dead_letter_key, unreadable
from worker.decode import decode
from worker.dedup import Deduper, race
from worker.dedup.minhash import default_sketcher
from worker.dedup.pages import text_hash
from worker.extract import Extractor
from worker.extract.bounds import bound_metadata
from worker.model import (
    BadRecord,
    DedupVerdict,
    Extracted,
    Origin,
    Page,
    Reservation,
    Sighting,
    SkipRecord,
    TransientError,
    origin_key,
)
from worker.output import build_article, canonical_url_of, now_iso, serialise
from worker.templates import (
    Cleaned,
    ColdStart,
    Limits,
    PageIn,
    TemplateConfig,
    TemplateStage,
    page_input,
    revised_article,
    template_input,
)
from worker.textunits import count_words
from worker.urls import article_id

# "revised": an earlier page improved by the site templates; "corrected": a canonical
# republished as the duplicate of an earlier-fetched copy (``dedup.race``)
OutcomeKind = Literal["published", "duplicate", "skipped", "dead_letter", "revised", "corrected"]
Headers = Sequence[tuple[str, bytes]]


@dataclass(slots=True)
class Outcome:
    kind: OutcomeKind
    topic: str | None = None  # where to send it; None: nothing to send
    key: bytes | None = None
    value: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    reason: str | None = None  # skip or dead-letter reason (a metric label)
    stage: str | None = None  # dead-letter stage
    dedup_status: str | None = None
    record_id: str | None = None  # the input's own id, once decoded
    boilerplate_ratio: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # improved versions of earlier pages of the site (cold start "republish") and the
    # correction of a canonical this record took over (``dedup.race``), sent after this
    revisions: list[Outcome] = field(default_factory=list)
    truncated: tuple[str, ...] = ()  # metadata fields of the article cut to their bounds
    # what dedupe stored for this record, held until the output's fate is known: pass it to
    # ``Deduper.confirm`` once the broker acknowledged the output (or when there is nothing
    # to send), to ``Deduper.release`` when the output will not be published
    reservation: Reservation | None = None


@dataclass(frozen=True, slots=True)
class Stages:
    """What the pipeline needs besides the record: settings, the two swappable stages, and
    the site templates (None: off)."""

    settings: Settings
    extract: Extractor
    deduper: Deduper
    templates: TemplateStage | None = None


def build_deduper(settings: Settings) -> Deduper:
    from worker.dedup import make_deduper

    return make_deduper(
        settings.dedup_backend,
        redis_url=settings.redis_url,
        key_prefix=settings.redis_key_prefix,
        window_s=settings.dedup_window_s,
        max_docs=settings.dedup_max_docs,
        snapshot_path=settings.dedup_snapshot or None,
        redis_bucket_bits=settings.redis_bucket_bits,
        containment=settings.dedup_containment,
        race_window_s=settings.dedup_race_window_s,
    )


def build_stages(settings: Settings) -> Stages:
    from worker.extract import make_extractor

    templates = TemplateStage(template_config(settings)) if settings.site_templates else None
    return Stages(settings, make_extractor(settings.extractor), build_deduper(settings), templates)


def template_config(settings: Settings) -> TemplateConfig:
    """The template stage's configuration from the worker's settings (``INGEST_SITE_*``):
    the stage itself takes plain values."""
    limits = Limits(
        min_pages=settings.site_min_pages,
        window_pages=settings.site_window_pages,
        max_sites=settings.site_max_sites,
        ttl_s=settings.site_ttl_s,
    )
    cold = ColdStart(
        policy=settings.site_cold_start,  # type: ignore[arg-type]
        settle_pages=settings.site_settle_pages,
        min_change=settings.site_min_change,
    )
    return TemplateConfig(
        site_by=settings.site_key,  # type: ignore[arg-type]
        limits=limits,
        cold=cold,
        snapshot_path=settings.site_snapshot,
        snapshot_every_s=settings.site_snapshot_every_s,
    )


@dataclass(slots=True)
class Prepared:
    """What the CPU stages found: small enough to pass between processes (no page body)."""

    page: Page
    extracted: Extracted
    timings: dict[str, float]
    template: PageIn | None = None  # the page's lines for the site templates (when on)
    canonical_url: str = ""  # chosen from the page's URL and its declared canonical link
    tokens: DedupeTokens | None = None  # the dedupe stage's token hashes, computed here
    truncated: tuple[str, ...] = ()  # metadata fields cut to their bounds (``bound_metadata``)


@dataclass(frozen=True, slots=True)
class DedupeTokens:
    """Token hashes of the text dedupe will see, from the extraction pool. With the site
    templates on they cover every candidate line (``line``: each token's line), so the
    tokens of the cleaned text are ``hashes[keep[line]]``."""

    hashes: np.ndarray
    line: np.ndarray | None = None

    def of(self, cleaned: Cleaned | None) -> np.ndarray | None:
        """The tokens of the text after the templates (None: unknown, hash the text)."""
        if self.line is None:
            return self.hashes if cleaned is None else None
        if cleaned is None or cleaned.lines_kept is None:
            return None
        return self.hashes[cleaned.lines_kept[self.line]]


def dedupe_tokens(text: str, template: PageIn | None) -> DedupeTokens | None:
    sketcher = default_sketcher()
    if template is None:
        return DedupeTokens(sketcher.token_hashes(text))
    found = sketcher.line_token_hashes(template.lines)
    return None if found is None else DedupeTokens(*found)


@dataclass(slots=True)
class Failed:
    """A record the CPU stages could not turn into an article, and why."""

    kind: Literal["skipped", "dead_letter"]
    stage: str
    reason: str
    detail: str = ""
    record_id: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def prepare(
    value: bytes | None, headers: Headers, settings: Settings, extract: Extractor
) -> Prepared | Failed:
    """decode -> extract: pure CPU work on one record, safe to run in another process."""
    timings: dict[str, float] = {}
    marked = unreadable(headers)
    if marked is not None:  # the Kafka client could not decode it: nothing to read
        return Failed("dead_letter", "kafka", *marked)
    stage = "decode"
    record_id = None
    try:
        t0 = time.perf_counter()
        page = decode(value, headers, max_bytes=settings.max_page_bytes)
        t1 = time.perf_counter()
        timings["decode"] = t1 - t0
        record_id = page.record_id

        stage = "extract"
        with time_budget(settings.extract_timeout_s):
            extracted = extract(page)
        timings["extract"] = time.perf_counter() - t1
        if len(extracted.text) > settings.max_text_chars:
            # a "page" that is megabytes of prose (a dump, a generated endless page): every
            # later stage and the output record would hold all of it
            raise BadRecord("too_large", f"extracted text over {settings.max_text_chars} chars")
        if count_words(extracted.text) < max(settings.min_words, 1):
            raise SkipRecord("empty_after_extraction")
        if (
            settings.non_article_policy == "skip"
            and extracted.page_type
            and extracted.page_type != "article"
        ):
            raise SkipRecord("not_article", extracted.page_type)
    except SkipRecord as skip:
        record_id = record_id or skip.record_id
        return Failed("skipped", stage, skip.reason, skip.detail, record_id, timings)
    except Exception as exc:  # noqa: BLE001 - every failure of one record ends in the DLQ
        reason, detail = failure_reason(exc, stage)
        record_id = record_id or getattr(exc, "record_id", None)
        return Failed("dead_letter", stage, reason, detail, record_id, timings)
    t0 = time.perf_counter()
    truncated = bound_metadata(extracted)
    canonical = canonical_url_of(page, extracted)  # metadata: only for records that go on
    timings["extract"] += time.perf_counter() - t0
    template = None
    if settings.site_templates:
        t0 = time.perf_counter()
        template = template_input(page, extracted, settings.site_key)  # type: ignore[arg-type]
        timings["templates"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tokens = dedupe_tokens(extracted.text, template)
    timings["dedupe"] = time.perf_counter() - t0
    page.body = ""  # done with it; keeps what crosses process boundaries small
    return Prepared(page, extracted, timings, template, canonical, tokens, truncated)


def finish(
    result: Prepared | Failed,
    value: bytes | None,
    headers: Headers,
    key: bytes | None,
    origin: Origin,
    stages: Stages,
) -> Outcome:
    """site templates -> dedupe -> output record: the stateful part, run in order in the
    consuming process."""
    if isinstance(result, Failed):
        return failed_outcome(result, value, headers, key, origin, stages.settings)
    page, extracted, timings = result.page, result.extracted, result.timings
    settings = stages.settings
    canonical = result.canonical_url or canonical_url_of(page, extracted)
    doc_id = article_id(canonical)
    cleaned: Cleaned | None = None
    verdict = None
    t0 = time.perf_counter()
    stage = "templates"
    try:
        raw_hash = text_hash(extracted.text)  # before the templates: recrawls compare this
        if stages.templates is not None:
            cleaned = stages.templates.apply(extracted, result.template or late_input(result))
            timings["templates"] = timings.get("templates", 0.0) + time.perf_counter() - t0
            t0 = time.perf_counter()
        stage = "dedupe"
        tokens = None if result.tokens is None else result.tokens.of(cleaned)
        fetched = race.fetch_time(page.fetched_at, origin.timestamp_ms, time.time())
        seen = Sighting(
            origin_key(origin, page.record_id), raw_hash, text_hash(extracted.text), fetched
        )
        verdict = stages.deduper.check(doc_id, extracted.text, tokens, seen)
        timings["dedupe"] = timings.get("dedupe", 0.0) + time.perf_counter() - t0
        if verdict.status == "unchanged":  # a recrawl of the latest version: not again
            revisions = revision_outcomes(cleaned)
            return Outcome(
                "skipped",
                reason="unchanged",
                dedup_status="unchanged",
                record_id=page.record_id,
                timings=timings,
                revisions=revisions,
            )
        stage = "publish"
        record = build_article(
            page,
            extracted,
            verdict,
            origin,
            doc_id=doc_id,
            canonical_url=canonical,
            words=None if cleaned is None else cleaned.words,
        )
        out_value = serialise(record)
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug on one record must not stop the stream
        if verdict is not None and verdict.reservation is not None:
            stages.deduper.release([verdict.reservation])  # never published: forget it
        reason, detail = failure_reason(exc, stage)
        failed = Failed("dead_letter", stage, reason, detail, page.record_id, timings)
        outcome = failed_outcome(failed, value, headers, key, origin, settings)
        outcome.revisions = revision_outcomes(cleaned)
        return outcome
    kind: OutcomeKind = "published" if verdict.status in ("new", "updated") else "duplicate"
    topic = settings.output_topic
    if kind == "duplicate":
        topic = {"topic": settings.duplicates_topic, "annotate": topic, "drop": None}[
            settings.duplicate_policy
        ]
    if cleaned is not None and topic is not None:
        cleaned.keep((topic, record))  # what a later revision of this page starts from
    if verdict.status == "new" and verdict.reservation is not None:
        stages.deduper.keep_output(verdict.reservation, topic, out_value)  # to correct it
    common = {
        "timings": timings,
        "boilerplate_ratio": extracted.boilerplate_ratio,
        "dedup_status": verdict.status,
        "record_id": page.record_id,
        "revisions": revision_outcomes(cleaned) + correction_outcomes(verdict, doc_id),
        "truncated": result.truncated,
        "reservation": verdict.reservation,
    }
    return Outcome(kind, topic, doc_id.encode(), out_value, **common)


def correction_outcomes(verdict: DedupVerdict, canonical: str) -> list[Outcome]:
    """The canonical this record took over, published again under its own key and topic as
    the duplicate of ``canonical`` (its cluster id unchanged), with ``dedup.correction``."""
    taken = verdict.correction
    if taken is None:
        return []
    record = orjson.loads(taken.value)
    dedup = record["dedup"]
    dedup["correction"] = {
        "reason": "earlier_copy",
        "previous_status": dedup["status"],
        "corrected_at": now_iso(),
    }
    dedup["status"], dedup["duplicate_of"] = taken.status, canonical
    dedup["similarity"] = None if taken.similarity is None else round(taken.similarity, 4)
    record["schema_version"] = SCHEMA_VERSION
    own_id = record.get("provenance", {}).get("record_id")
    value = serialise(record)
    return [Outcome("corrected", taken.topic, taken.doc_id.encode(), value, record_id=own_id)]


def late_input(result: Prepared) -> PageIn:
    """The template input of a page prepared with the site templates off: its extracted
    text's lines (its body, which a text page's own lines come from, is gone)."""
    page = result.page
    return page_input(page, result.extracted, page.final_url or page.url, None)


def revision_outcomes(cleaned: Cleaned | None) -> list[Outcome]:
    """Earlier pages of the site published again, improved, under their own key and topic."""
    out = []
    for revision in cleaned.revisions if cleaned is not None else []:
        topic, record = revision.published
        record = revised_article(record, revision.text, revision.boilerplate_ratio, revision.words)
        own_id = record.get("provenance", {}).get("record_id")
        value = serialise(record)
        out.append(Outcome("revised", topic, record["id"].encode(), value, record_id=own_id))
    return out


def process(
    value: bytes | None, headers: Headers, key: bytes | None, origin: Origin, stages: Stages
) -> Outcome:
    """One record through every stage in this process."""
    result = prepare(value, headers, stages.settings, stages.extract)
    return finish(result, value, headers, key, origin, stages)


def failure_reason(exc: Exception, stage: str) -> tuple[str, str]:
    """(reason label, detail) for a record that failed in ``stage``."""
    if isinstance(exc, BadRecord):
        return exc.reason, exc.detail
    if isinstance(exc, BudgetExceeded):
        return "time_budget", str(exc)
    if isinstance(exc, RecursionError):
        return "too_deep", "nesting too deep to process"
    if isinstance(exc, MemoryError):
        return "out_of_memory", "the record needed more memory than available"
    # A bug or a library failure on this record: keep the record, move on.
    return f"{stage}_error", f"{type(exc).__name__}: {exc}"[:500]


def failed_outcome(
    failed: Failed,
    value: bytes | None,
    headers: Headers,
    key: bytes | None,
    origin: Origin,
    settings: Settings,
    *,
    value_omitted: bool = False,
) -> Outcome:
    """What a failed record becomes: a counted skip, or a dead letter (``value_omitted``: one
    that cannot carry the input's value, so it is not replayed)."""
    if failed.kind == "skipped":
        return Outcome(
            "skipped", reason=failed.reason, record_id=failed.record_id, timings=failed.timings
        )
    # The original value and headers, plus why and where it failed (replay-dlq strips these).
    # A record the client could not decode (stage kafka) has no value to keep.
    kept = dead_letter_headers(
        headers,
        origin,
        stage=failed.stage,
        reason=failed.reason,
        detail=failed.detail,
        failed_at=now_iso(),
        value_omitted=value_omitted or failed.stage == "kafka",
    )
    return Outcome(
        "dead_letter",
        settings.dlq_topic,
        dead_letter_key(key, value, origin),
        value,
        kept,
        reason=failed.reason,
        stage=failed.stage,
        record_id=failed.record_id,
        timings=failed.timings,
    )
