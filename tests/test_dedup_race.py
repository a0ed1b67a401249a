"""The earliest copy is canonical: the rule alone, then both index backends.

The Redis cases run on a real server (``redis_url``, conftest), each under its own prefix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator

from tests.kit.pages import article_html
from tests.kit.stories import article, syndicate, text
from worker.config import Settings
from worker.dedup import Deduper, make_deduper, pages
from worker.dedup.memory import MemoryDeduper
from worker.dedup.race import MAX_SKEW_S, fetch_time, parse_time, takes_over
from worker.dedup.redis_store import RedisDeduper
from worker.extract import make_extractor
from worker.model import DedupVerdict, Origin, Sighting
from worker.offline import extract_files, output_line
from worker.pipeline import Outcome, Stages, process

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
ORIGIN = Origin("pages.raw", 0, 41, int(T0 * 1000) + 7200_000)  # read two hours later
SCHEMA = json.loads((resources.files("worker") / "schemas" / "article.schema.json").read_text())


# --- the rule ---------------------------------------------------------------------------------


def test_fetch_time_is_fetched_at_bounded_by_the_record_timestamp() -> None:
    stamp_ms = int(T0 * 1000)
    assert fetch_time("2026-01-01T00:00:00Z", None, now=T0 + 99) == T0
    assert fetch_time("2026-01-01T00:00:00", None, now=T0) == T0  # no zone: UTC
    assert fetch_time("2025-12-31T23:00:00Z", stamp_ms, now=0) == T0 - 3600
    # a crawler clock ahead: believed up to MAX_SKEW_S past the record's timestamp (or now)
    assert fetch_time("2026-01-01T02:00:00Z", stamp_ms, now=0) == T0 + MAX_SKEW_S
    assert fetch_time("2026-01-01T02:00:00Z", None, now=T0) == T0 + MAX_SKEW_S
    # no readable fetched_at: the record's timestamp; neither: unknown
    assert fetch_time("yesterday", stamp_ms, now=0) == T0
    assert fetch_time(None, stamp_ms, now=0) == T0
    assert fetch_time(None, None, now=T0) is None
    assert fetch_time(None, -1, now=T0) is None
    assert parse_time("2026-01-01T01:00:00+01:00") == T0


def test_only_a_strictly_earlier_copy_within_the_window_takes_over() -> None:
    assert takes_over(T0 - 1, T0, arrived=T0 + 3600, canonical_arrived=T0, window_s=3600)
    assert not takes_over(T0, T0, T0 + 1, T0, 3600)  # a tie keeps the first seen
    assert not takes_over(T0 + 1, T0, T0 + 1, T0, 3600)  # fetched later
    assert not takes_over(T0 - 1, T0, T0 + 3601, T0, 3600)  # arrived too late
    assert not takes_over(None, T0, T0, T0, 3600)  # unknown fetch times never decide
    assert not takes_over(T0 - 1, None, T0, T0, 3600)
    assert not takes_over(T0 - 1, T0, T0, T0, 0)  # the rule off


# --- both backends --------------------------------------------------------------------------


Factory = Callable[..., Deduper]


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Factory:
    """A deduper of either backend; Redis ones of one test share the index (workers)."""
    if request.param == "memory":
        return lambda **kw: MemoryDeduper(**kw)
    url, name = request.getfixturevalue("redis_url"), request.getfixturevalue("prefix")
    return lambda **kw: RedisDeduper(url, key_prefix=name, **kw)


def seen(doc_id: str, body: str, fetched: float | None, origin: str = "") -> Sighting:
    s = pages.default_sighting(doc_id, body)
    return Sighting(origin or s.origin, s.raw_hash, s.content_hash, fetched)


def publish(d: Deduper, doc_id: str, body: str, fetched: float | None) -> DedupVerdict:
    """A worker's round: check, keep the output of a ``new``, confirm."""
    v = d.check(doc_id, body, None, seen(doc_id, body, fetched))
    assert v.reservation is not None
    if v.status == "new":
        d.keep_output(v.reservation, "clean", orjson.dumps({"id": doc_id}))
    d.confirm([v.reservation])
    return v


def test_an_earlier_fetched_copy_takes_over_and_the_canonical_is_corrected(make: Factory) -> None:
    one, two = make(), make()  # two workers (one process's index for memory)
    two = one if isinstance(one, MemoryDeduper) else two
    paras = article(70)
    late = publish(one, "late", text(paras), T0)
    assert late.status == "new" and late.correction is None
    early = publish(two, "early", syndicate(paras, 1), T0 - 600)
    assert (early.status, early.duplicate_of, early.version) == ("new", None, 1)
    assert early.cluster_id == late.cluster_id  # the story keeps its cluster
    fix = early.correction
    assert fix is not None and fix.doc_id == "late" and fix.topic == "clean"
    assert orjson.loads(fix.value) == {"id": "late"}
    assert fix.status == "near_duplicate" and fix.similarity is not None and fix.similarity > 0.6
    # the old canonical's record read again: its fate now, a duplicate of the earlier copy
    again = one.check("late", text(paras), None, seen("late", text(paras), T0))
    assert (again.status, again.duplicate_of) == ("near_duplicate", "early")
    # later copies name the earlier one, in the same cluster; none takes over again
    third = publish(one, "third", syndicate(paras, 2), T0 + 60)
    assert (third.duplicate_of, third.cluster_id, third.correction) == (
        "early",
        late.cluster_id,
        None,
    )


def test_ties_later_copies_and_unknown_fetch_times_keep_the_first_seen(make: Factory) -> None:
    d = make()
    paras = article(71)
    publish(d, "first", text(paras), T0)
    for doc_id, fetched in [("tie", T0), ("after", T0 + 1), ("unknown", None)]:
        v = publish(d, doc_id, syndicate(paras, len(doc_id)), fetched)
        assert (v.status, v.duplicate_of, v.correction) == ("near_duplicate", "first", None)


def test_an_updated_page_is_never_taken_over(make: Factory) -> None:
    d = make()
    paras = article(72)
    publish(d, "page", text(paras), T0)
    changed = text([*paras, "An update with a few more words about the story."])
    v2 = d.check("page", changed, None, seen("page", changed, T0 + 5, origin="again"))
    assert v2.status == "updated" and v2.reservation is not None
    d.confirm([v2.reservation])
    copy = publish(d, "copy", syndicate(paras, 3), T0 - 600)
    assert copy.status != "new" and copy.correction is None


def test_no_takeover_without_the_canonicals_kept_output_or_the_window(make: Factory) -> None:
    d = make(race_window_s=0)
    paras = article(73)
    publish(d, "late", text(paras), T0)
    assert publish(d, "early", syndicate(paras, 4), T0 - 600).status == "near_duplicate"
    other = make()
    paras = article(74)
    v = other.check("late2", text(paras), None, seen("late2", text(paras), T0))
    assert v.reservation is not None
    other.confirm([v.reservation])  # published, but its output never kept
    assert publish(other, "early2", syndicate(paras, 5), T0 - 600).duplicate_of == "late2"


def test_a_released_takeover_gives_the_canonical_back(make: Factory) -> None:
    d = make()
    paras = article(75)
    publish(d, "late", text(paras), T0)
    body = syndicate(paras, 6)
    early = d.check("early", body, None, seen("early", body, T0 - 600))
    assert early.correction is not None and early.reservation is not None
    replay = d.check("early", body, None, seen("early", body, T0 - 600))  # retried batch
    assert replay.correction is not None and replay.correction.doc_id == "late"
    d.release([early.reservation])  # its output was never published
    after = publish(d, "after", syndicate(paras, 7), T0 + 60)
    assert (after.duplicate_of, after.correction) == ("late", None)
    # and it can still be taken over
    assert publish(d, "earliest", syndicate(paras, 8), T0 - 900).correction is not None


def test_a_copy_arriving_after_the_window_stays_a_duplicate() -> None:
    now = [T0]
    d = MemoryDeduper(race_window_s=3600, clock=lambda: now[0])
    paras = article(76)
    publish(d, "late", text(paras), T0)
    now[0] = T0 + 3601
    assert publish(d, "early", syndicate(paras, 9), T0 - 600).duplicate_of == "late"
    paras = article(77)
    publish(d, "late2", text(paras), T0)
    now[0] += 3600  # exactly the window: still in time
    assert publish(d, "early2", syndicate(paras, 9), T0 - 600).correction is not None


def test_a_memory_snapshot_keeps_fetch_times(tmp_path: Path) -> None:
    path = str(tmp_path / "dedup.npz")
    d = MemoryDeduper(snapshot_path=path)
    paras = article(78)
    v = publish(d, "late", text(paras), T0)
    d.close()
    back = MemoryDeduper(snapshot_path=path)
    assert v.reservation is not None
    back.keep_output(v.reservation, "clean", b'{"id":"late"}')  # outputs are not snapshotted
    assert publish(back, "early", syndicate(paras, 10), T0 - 600).correction is not None


# --- the pipeline, live and offline --------------------------------------------------------


def page(url: str, fetched_at: str, seed: int = 7) -> bytes:
    html = article_html(seed)
    return orjson.dumps({"url": url, "html": html, "fetched_at": fetched_at, "record_id": url})


def test_the_pipeline_publishes_the_correction_under_the_canonicals_key() -> None:
    stages = Stages(Settings(), make_extractor(), make_deduper("memory"))
    first = process(page("https://b.example/x", "2026-01-01T01:00:00Z"), [], None, ORIGIN, stages)
    assert first.kind == "published" and first.reservation is not None and not first.revisions
    stages.deduper.confirm([first.reservation])
    origin = Origin("pages.raw", 1, 5, ORIGIN.timestamp_ms)
    second = process(page("https://a.example/x", "2026-01-01T00:00:00Z"), [], None, origin, stages)
    assert (second.kind, second.dedup_status) == ("published", "new")
    (fix,) = second.revisions
    assert (fix.kind, fix.topic, fix.key) == ("corrected", first.topic, first.key)
    old, new, again = (orjson.loads(o.value or b"") for o in (first, second, fix))
    Draft202012Validator(SCHEMA).validate(again)
    assert again["dedup"]["status"] == "exact_duplicate"  # the same page text
    assert again["dedup"]["duplicate_of"] == new["id"]
    assert again["dedup"]["cluster_id"] == old["dedup"]["cluster_id"] == new["dedup"]["cluster_id"]
    assert again["dedup"]["correction"]["previous_status"] == "new"
    assert {k: v for k, v in again.items() if k not in ("dedup", "schema_version")} == {
        k: v for k, v in old.items() if k not in ("dedup", "schema_version")
    }


def test_offline_extract_corrects_the_canonicals_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [page("https://b.example/x", "2026-01-01T01:00:00Z")]
    lines.append(page("https://a.example/x", "2026-01-01T00:00:00Z"))
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    extract_files([str(source)], str(out), Settings())
    late, early = (orjson.loads(x) for x in out.read_bytes().splitlines())
    assert (late["id"], late["status"], late["dedup"]["duplicate_of"]) == (
        "https://b.example/x",
        "duplicate",
        early["article_id"],
    )
    assert (early["status"], early["dedup"]["status"]) == ("published", "new")


def test_an_offline_revision_written_late_keeps_its_text() -> None:
    record = {"id": "a1", "text": "Improved text.", "provenance": {"record_id": "r1"}}
    line = output_line(Outcome("revised", "clean", b"a1", orjson.dumps(record), record_id="r1"))
    assert (line["id"], line["text"], line["status"]) == ("r1", "Improved text.", "revised")


def test_an_unconfirmed_canonical_is_not_taken_over(make: Factory) -> None:
    d = make()
    paras = article(79)
    body = text(paras)
    v = d.check("late", body, None, seen("late", body, T0))
    assert v.reservation is not None
    d.keep_output(v.reservation, "clean", b'"late"')  # kept, but not yet acknowledged
    copy = syndicate(paras, 11)
    early = d.check("early", copy, None, seen("early", copy, T0 - 600))
    assert (early.duplicate_of, early.correction) == ("late", None)
