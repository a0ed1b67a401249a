"""The dedupe changelog: its record format, the rebuild of an index from it, the writer's
at-least-once contract and the reader's window (unit level; ``test_state_kafka.py`` runs
it against a broker with real worker processes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tests.kit.stories import article, brief, syndicate, text
from worker.dedup import changelog
from worker.dedup.keyindex import KeyIndex
from worker.dedup.memory import MemoryDeduper
from worker.dedup.pages import text_hash
from worker.model import DedupVerdict, Reservation, Sighting, TransientError


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def seen(origin: str, body: str, published: str | None = None) -> Sighting:
    return Sighting(origin, text_hash(body), text_hash(published or body))


def check(d: MemoryDeduper, doc_id: str, body: str, origin: str) -> DedupVerdict:
    return d.check(doc_id, body, sighting=seen(origin, body))


def stream(d: MemoryDeduper) -> list[Reservation]:
    """Canonicals, copies, an exact copy, a changed recrawl and an empty text; returns what
    a worker confirms after publishing."""
    out = []
    for i in range(6):
        out.append(check(d, f"a{i}", text(article(500 + i)), f"k:in/0/{i}").reservation)
    out.append(check(d, "copy0", syndicate(article(500), 1), "k:in/1/0").reservation)
    out.append(check(d, "exact1", text(article(501)), "k:in/1/1").reservation)
    out.append(check(d, "a2", text(article(500 + 2)[:-1]), "k:in/0/9").reservation)  # update
    out.append(check(d, "brief", brief(3), "k:in/2/0").reservation)
    out.append(check(d, "é\udcff", "", "id:é\udcff").reservation)  # odd id, empty text
    return [r for r in out if r is not None]


def same_rows(a: changelog.Entries, b: changelog.Entries) -> None:
    for name in (*changelog._ROW_COLUMNS, "bands", "samples"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert (a.doc_ids, a.origins, a.dup_of) == (b.doc_ids, b.origins, b.dup_of)


def test_rows_survive_encoding_and_decoding_exactly() -> None:
    d = MemoryDeduper()
    rows = d.export_entries(stream(d))
    assert len(rows) == 11
    assert set(rows.status.tolist()) == {0, 1, 2, 3}  # new, updated, exact and near copies
    assert rows.band_counts[rows.status >= 2].sum() == 0  # a copy's row carries no sketch
    same_rows(rows, changelog.decode_batch(changelog.encode_batch(rows)))


def test_a_story_costs_less_than_its_raw_sketch_on_the_wire() -> None:
    """A canonical's sketch is 256 band-key bytes and up to 768 sample bytes; the columnar,
    delta-coded, zstd-framed record must do better than that raw size."""
    d = MemoryDeduper()
    kept = [check(d, f"s{i}", text(article(900 + i)), f"k:in/0/{i}").reservation for i in range(64)]
    rows = d.export_entries([r for r in kept if r is not None])
    raw = 256 * 64 + 3 * int(rows.sample_counts.sum()) + 5 * 16 * 64
    assert len(changelog.encode_batch(rows)) < 0.85 * raw


def test_an_index_rebuilt_from_the_changelog_decides_as_the_original() -> None:
    a = MemoryDeduper()
    rows = a.export_entries(stream(a))
    b = MemoryDeduper()
    assert b.apply_entries(changelog.decode_batch(changelog.encode_batch(rows))) == 11
    # replays get the very same verdict (same output under the same key)
    for doc_id, body, origin in [
        ("a0", text(article(500)), "k:in/0/0"),
        ("copy0", syndicate(article(500), 1), "k:in/1/0"),
        ("a2", text(article(502)[:-1]), "k:in/0/9"),
    ]:
        assert check(b, doc_id, body, origin) == check(a, doc_id, body, origin)
    # new copies of pre-rebuild stories are copies; an unchanged recrawl is not republished
    for d in (a, b):
        assert check(d, "copy3", syndicate(article(503), 2), "k:in/2/7").duplicate_of == "a3"
        assert check(d, "exact4", text(article(504)), "k:in/2/8").status == "exact_duplicate"
        assert check(d, "a5", text(article(505)), "k:in/0/50").status == "unchanged"
        assert check(d, "a2", text(article(502)[:-1]), "k:in/0/51").status == "unchanged"
        assert check(d, "b9", brief(3), "k:in/2/9").status == "exact_duplicate"


def test_without_the_rebuild_the_copies_are_new() -> None:
    """The control of the test above: a fresh index knows none of it."""
    assert check(MemoryDeduper(), "copy3", syndicate(article(503), 2), "x").status == "new"


def test_only_unconfirmed_published_rows_are_exported() -> None:
    d = MemoryDeduper()
    first = check(d, "a", text(article(1)), "k:in/0/0").reservation
    second = check(d, "b", text(article(2)), "k:in/0/1").reservation
    assert first is not None and second is not None
    d.confirm([first])  # written with an earlier batch
    replay = check(d, "b", text(article(2)), "k:in/0/1").reservation
    assert d.export_entries([first, second, replay]).doc_ids == ["b"]
    d.release([second])  # its output became a dead letter: never in the changelog
    assert len(d.export_entries([second])) == 0


def test_rows_older_than_the_window_are_not_rebuilt() -> None:
    clock = Clock()
    a = MemoryDeduper(window_s=3600, clock=clock)
    old = check(a, "old", text(article(31)), "k:in/0/0").reservation
    clock.now += 3000
    young = check(a, "young", text(article(32)), "k:in/0/1").reservation
    rows = a.export_entries([r for r in (old, young) if r is not None])
    clock.now += 1000  # "old" is 4000 s old now, "young" 1000 s
    b = MemoryDeduper(window_s=3600, clock=clock)
    assert b.apply_entries(rows) == 1
    assert check(b, "c1", syndicate(article(31), 1), "x1").status == "new"
    assert check(b, "c2", syndicate(article(32), 1), "x2").duplicate_of == "young"


def test_a_replacing_row_supersedes_the_earlier_row_of_the_page_and_origin() -> None:
    """How a correction is recorded: the published canonical "late" is demoted in place to
    a copy of "early", and written again as a REPLACES row of the same page and origin."""
    a = MemoryDeduper()
    kept = check(a, "late", text(article(41)), "k:in/0/0").reservation
    assert kept is not None
    rows = a.export_entries([kept])
    a.confirm([kept])
    chunk, row = a._chunks[kept.token // a.chunk_docs], kept.token % a.chunk_docs
    chunk.status[row], chunk.dup_of[row] = 3, "early"  # what a correction changes in place
    assert len(a.export_entries([kept])) == 0  # confirmed: not written again by itself
    demoted = a.export_entries([kept], replacing={kept.token})
    assert demoted.kind.tolist() == [changelog.REPLACES] and demoted.band_counts.sum() == 0
    b = MemoryDeduper()
    b.apply_entries(changelog.decode_batch(changelog.encode_batch(rows)))
    assert check(b, "c0", syndicate(article(41), 1), "k:in/1/9").duplicate_of == "late"
    b.apply_entries(changelog.decode_batch(changelog.encode_batch(demoted)))
    replay = check(b, "late", text(article(41)), "k:in/0/0")
    assert (replay.status, replay.duplicate_of) == ("near_duplicate", "early")


def test_split_messages_concatenate_back_to_the_same_rows() -> None:
    d = MemoryDeduper()
    rows = d.export_entries(stream(d))
    parts = changelog.split(rows, rows=4)
    assert [len(p) for p in parts] == [4, 4, 3]
    same_rows(
        changelog.concat([changelog.decode_batch(changelog.encode_batch(p)) for p in parts]), rows
    )


@pytest.mark.parametrize(
    "value", [b"", b"IWDC", b"not a changelog record at all", b"IWDC\x09\x01\x00\x00\x00\x00"]
)
def test_what_is_not_a_changelog_record_is_refused(value: bytes) -> None:
    with pytest.raises(ValueError):
        changelog.decode_batch(value)


def test_bulk_added_keys_are_found_as_keys_added_one_by_one() -> None:
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 50, size=(300, 4), dtype=np.uint64)
    one, many = KeyIndex(buffer_docs=16, max_segment_docs=64), KeyIndex(16, 64)
    for seq in range(300):
        one.add(keys[seq], seq, 0)
    many.add_many(keys.ravel(), np.repeat(np.arange(300, dtype=np.int64), 4), 0)
    for probe in range(50):
        wanted = np.array([probe], dtype=np.uint64)
        assert many.lookup(wanted, 16) == one.lookup(wanted, 16)
        assert many.lookup(wanted, 10**6) == one.lookup(wanted, 10**6)


# --- writing and reading, with stand-in clients ------------------------------------------------


@dataclass
class Future:
    error: Exception | None = None

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class Producer:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.sent = error, []

    def send(self, topic: str, **kwargs: object) -> Future:
        self.sent.append((topic, kwargs))
        return Future(self.error)

    def flush(self, timeout: float) -> None:
        pass


def test_a_changelog_write_the_broker_does_not_acknowledge_holds_the_batch() -> None:
    d = MemoryDeduper()
    rows = d.export_entries(stream(d))
    with pytest.raises(TransientError):  # the worker retries the batch and never commits it
        changelog.ChangelogWriter(Producer(TimeoutError("no ack")), "t", "w").write(rows)
    ok = Producer()
    changelog.ChangelogWriter(ok, "t", "w").write(rows)
    ((topic, sent),) = ok.sent
    assert topic == "t" and sent["key"] == b"w"
    same_rows(changelog.decode_batch(sent["value"]), rows)


@dataclass
class Record:
    offset: int
    timestamp: int
    key: bytes = b"w"
    value: bytes = b""


@dataclass
class Found:
    offset: int
    timestamp: int


class Consumer:
    """One partition of records with growing timestamps, answering ``offsets_for_times`` as
    Tansu does (the log start, whatever the time asked)."""

    def __init__(self, records: list[Record], unsupported: bool = False) -> None:
        self.records, self.at, self.probes = records, 0, 0
        self.unsupported = unsupported

    def offsets_for_times(self, wanted: dict) -> dict:
        if self.unsupported:
            raise NotImplementedError("an old broker")
        return {tp: Found(0, self.records[0].timestamp) for tp in wanted}

    def beginning_offsets(self, tps: list) -> dict:
        return {tp: 0 for tp in tps}

    def seek(self, tp: object, offset: int) -> None:
        self.at = offset

    def poll(self, timeout_ms: int, max_records: int = 500) -> dict:
        self.probes += max_records == 1
        out = self.records[self.at : self.at + max_records]
        self.at += len(out)
        return {"tp": out} if out else {}


def test_the_window_start_is_found_by_timestamp_where_the_broker_ignores_it() -> None:
    records = [Record(i, 1000 + 10 * i) for i in range(1000)]
    consumer = Consumer(records)
    assert changelog.window_start(consumer, "tp", 1000 + 10 * 700 - 5, 1000) == 700
    assert consumer.probes <= 11  # a binary search, not a scan
    assert changelog.window_start(Consumer(records), "tp", 0, 1000) == 0
    assert changelog.window_start(Consumer(records), "tp", 10**9, 1000) == 1000
    assert changelog.window_start(Consumer(records, unsupported=True), "tp", 1500, 1000) == 50


def test_the_follower_skips_its_own_rows_and_rows_before_the_window() -> None:
    d = MemoryDeduper()
    value = changelog.encode_batch(d.export_entries(stream(d)))
    records = [
        Record(0, 5, b"other", value),
        Record(1, 50, b"me", value),
        Record(2, 60, b"x", b"junk"),
    ]
    got, bad = [], []
    follower = changelog.Follower(
        Consumer(records), "t", got.append, own_writer="me", on_unreadable=bad.append
    )
    follower.since_ms = 10
    assert follower.poll() == 0  # the old one is skipped, its own is skipped
    assert bad and follower.stats.skipped_old == 1 and follower.stats.unreadable == 1
    follower = changelog.Follower(Consumer(records), "t", got.append, own_writer="me")
    assert follower.poll() == 11 and len(got) == 1


def test_a_takeover_writes_the_demoted_canonical_to_the_changelog() -> None:
    """The race rule (``dedup.race``) demotes a published canonical in place: the batch of
    the copy that took over writes that demotion too, so a rebuilt index knows it."""
    t0 = 1_800_000_000.0
    a = MemoryDeduper(race_window_s=3600)
    body = text(article(43))
    late = a.check(
        "late", body, sighting=Sighting("k:in/0/0", text_hash(body), text_hash(body), t0)
    )
    assert late.reservation is not None
    a.keep_output(late.reservation, "clean", b"{}")
    rows = a.export_entries([late.reservation])
    a.confirm([late.reservation])
    copy = syndicate(article(43), 1)
    early = a.check(
        "early", copy, sighting=Sighting("k:in/1/0", text_hash(copy), text_hash(copy), t0 - 600)
    )
    assert early.status == "new" and early.correction is not None and early.reservation
    taken = a.export_entries([early.reservation])
    assert taken.kind.tolist() == [changelog.ADD, changelog.REPLACES]
    b = MemoryDeduper()
    for entries in (rows, taken):
        b.apply_entries(changelog.decode_batch(changelog.encode_batch(entries)))
    replay = check(b, "late", body, "k:in/0/0")
    assert (replay.status, replay.duplicate_of) == ("near_duplicate", "early")
