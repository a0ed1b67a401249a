"""Records the Kafka client cannot read, or the dead letter of which it cannot write, never
stop the worker: each offset ends as exactly one outcome and the partition goes on."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.kit.hostile import evasive_attributes_page
from tests.kit.kafka import (
    Topics,
    committed_offsets,
    group_reader,
    produce,
    produce_raw,
    read_all,
    record_batch,
    start_worker,
    wait_for,
)
from tests.test_worker_kafka import envelope
from worker.deadletter import safe_headers, unreadable
from worker.kafka_records import failing_batch

pytestmark = pytest.mark.integration


def corrupt_crc(batch: bytearray) -> bytearray:
    batch[17] ^= 0xFF
    return batch


def unknown_codec(batch: bytearray) -> bytearray:
    """Compression bits set to 7, a codec Kafka does not define (CRC made right)."""
    from kafka.record.util import calc_crc32c

    batch[22] |= 0x07
    batch[17:21] = calc_crc32c(memoryview(batch)[21:]).to_bytes(4, "big")
    return batch


def outputs_once_committed(
    bootstrap: str, topics: Topics, *, articles: int, dead: int, end: int
) -> tuple[list, list]:
    """The articles and dead letters of a one-partition input, once its offsets up to
    ``end`` are committed."""
    out = read_all(bootstrap, topics.output, articles, timeout=90)
    dlq = read_all(bootstrap, topics.dlq, dead, timeout=60)
    reader = group_reader(bootstrap, topics.group)
    try:
        wait_for(
            lambda: committed_offsets(bootstrap, topics.group, topics.input, 1, reader)[0] == end,
            60,
            "every offset committed",
        )
    finally:
        reader.close()
    return out, dlq


def test_unreadable_batches_and_unsafe_headers_become_dead_letters_and_the_partition_goes_on(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    topics = Topics(f"t{unique}", partitions=1)
    env = topics.env(kafka_bootstrap)
    worker = start_worker(env, tmp_path / "w.log")
    try:
        produce(kafka_bootstrap, topics.input, [(b"a", envelope(1), [])])  # offset 0
        raw_batches = [
            # offset 1: a header key that is not UTF-8 (a producer with its own encoder)
            record_batch(
                [(b"b", envelope(2), [("KEYX", b"v")])], header_key_bytes={"KEYX": b"\xff\xfeK\xc3"}
            ),
            # offsets 2-3: a batch whose CRC fails (corrupted on disk or on the way)
            corrupt_crc(record_batch([(b"c", envelope(3), []), (b"c", envelope(4), [])])),
            # offset 4: dead-lettered (no URL) and carries a null header value
            record_batch([(b"e", orjson.dumps({"html": "<p>x</p>"}), [("trace", None)])]),
        ]
        for batch in raw_batches:
            error = produce_raw(kafka_bootstrap, topics.input, 0, batch)
            if error != 0:
                pytest.skip(f"this broker validates batches on produce (error {error})")
        produce(kafka_bootstrap, topics.input, [(b"f", envelope(6), [])])  # offset 5

        out, dlq = outputs_once_committed(kafka_bootstrap, topics, articles=2, dead=4, end=6)
        assert worker.proc.poll() is None, worker.log()[-3000:]
    finally:
        worker.stop()
    assert sorted(orjson.loads(r.value)["provenance"]["record_id"] for r in out) == ["r1", "r6"]
    by_offset = {int(dict(r.headers)["source_offset"]): dict(r.headers) for r in dlq}
    assert sorted(by_offset) == [1, 2, 3, 4]
    reasons = {o: h["error_reason"].decode() for o, h in by_offset.items()}
    assert reasons[1] == "bad_header_key"
    assert reasons[2] == reasons[3] == "corrupt_record"
    assert reasons[4] == "missing_url"
    assert all(by_offset[o]["value_omitted"] for o in (1, 2, 3))
    # the null header value is made safe, the original preserved
    assert by_offset[4]["trace"] == b""
    assert orjson.loads(by_offset[4]["original_headers"]) == [["dHJhY2U=", None]]


def read_leniently(raw: bytes, fetch_offset: int = 0) -> list:
    """What the worker's consumer yields for these fetched bytes."""
    from kafka.consumer.fetcher import Fetcher
    from kafka.record import MemoryRecords
    from kafka.structs import TopicPartition as TP

    from worker import kafka_records

    assert kafka_records.install()
    part = Fetcher.PartitionRecords(fetch_offset, TP("t", 0), MemoryRecords(raw))
    return part.take()


def at(batch: bytearray, base: int) -> bytes:
    batch[0:8] = base.to_bytes(8, "big")
    return bytes(batch)


def test_an_unknown_codec_a_bad_crc_and_a_bad_header_key_each_cost_only_their_batch() -> None:
    raw = (
        at(record_batch([(b"a", b"1", [])]), 0)
        + at(unknown_codec(record_batch([(b"b", b"2", []), (b"b", b"3", [])])), 1)
        + at(record_batch([(b"c", b"4", [])]), 3)
        + at(corrupt_crc(record_batch([(b"d", b"5", [])])), 4)
        + at(
            record_batch([(b"e", b"6", [("KEYX", b"")])], header_key_bytes={"KEYX": b"\xffKEY"}), 5
        )
        + at(record_batch([(b"f", b"7", [])]), 6)
    )
    records = read_leniently(raw)
    assert [r.offset for r in records] == [0, 1, 2, 3, 4, 5, 6]
    marks = [unreadable(r.headers) for r in records]
    assert [m[0] if m else r.value for m, r in zip(marks, records, strict=True)] == [
        b"1",
        "unsupported_codec",
        "unsupported_codec",
        b"4",
        "corrupt_record",
        "bad_header_key",
        b"7",
    ]
    assert read_leniently(raw, fetch_offset=2)[0].offset == 2  # mid-batch fetches still skip


def test_a_parse_that_never_returns_to_python_is_killed_and_the_worker_keeps_its_group(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    """One pool process, a poll interval shorter than the parse: before, the consumer was
    evicted and the batch redone for ever; now the page is killed at its hard limit, while
    the consumer keeps polling."""
    topics = Topics(f"t{unique}", partitions=1)
    env = {
        **topics.env(kafka_bootstrap),
        "INGEST_PROCESSES": "1",
        "INGEST_EXTRACT_TIMEOUT_S": "1",
        "INGEST_MAX_POLL_INTERVAL_MS": "2500",
        "INGEST_BATCH_SIZE": "4",
    }
    worker = start_worker(env, tmp_path / "w.log")
    slow = [("content-type", b"text/html"), ("url", b"https://slow.example/a")]
    try:
        produce(
            kafka_bootstrap,
            topics.input,
            [
                (b"a", envelope(1), []),
                (b"s", evasive_attributes_page(60_000), slow),
                (b"s", evasive_attributes_page(60_000), slow),
                (b"b", envelope(2), []),
            ],
        )
        out, dlq = outputs_once_committed(kafka_bootstrap, topics, articles=2, dead=2, end=4)
    finally:
        worker.stop()
    log = worker.log()
    assert sorted(orjson.loads(r.value)["provenance"]["record_id"] for r in out) == ["r1", "r2"]
    assert [dict(r.headers)["error_reason"] for r in dlq] == [b"timeout", b"timeout"]
    assert '"page_over_hard_limit"' in log
    assert '"partitions_revoked"' not in log.split('"stopping"')[0]  # never evicted


def test_a_client_reading_the_dead_letter_topic_sees_ordinary_records(
    kafka_bootstrap: str, unique: str
) -> None:
    """A placeholder never leaks to the output: the lenient reader only changes what the
    worker's own consumer yields, and a client reading a healthy topic gets the same."""
    topic = f"t{unique}.plain"
    produce(kafka_bootstrap, topic, [(b"k", b"v", [("h", b"1")])])
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, 0)])
    records = []
    for _ in range(50):
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        if records:
            break
    consumer.close()
    assert [(r.key, r.value, r.headers) for r in records] == [(b"k", b"v", [("h", b"1")])]
    assert unreadable(records[0].headers) is None


def test_failing_batch_frames_the_batch_holding_the_next_offset() -> None:
    one = bytes(record_batch([(b"a", b"1", []), (b"b", b"2", [])]))
    two = bytearray(record_batch([(b"c", b"3", [])]))
    two[0:8] = (2).to_bytes(8, "big")  # base offset 2
    raw = memoryview(one + bytes(two))
    assert failing_batch(raw, 0, 0) == (1, len(one))
    assert failing_batch(raw, 0, 1) == (1, len(one))
    assert failing_batch(raw, 0, 2) == (2, len(raw))
    assert failing_batch(raw, 0, 3) is None
    assert failing_batch(memoryview(b"\x00" * 5), 0, 0) is None


def test_safe_headers_are_always_producible() -> None:
    headers = [("ok", b"1"), ("null", None), ("bad\udcff", b"2"), ("error_reason", b"old")]
    safe = safe_headers(headers)
    for key, value in safe:
        key.encode("utf-8")
        assert isinstance(value, bytes)
    keys = [k for k, _ in safe]
    assert keys[:3] == ["ok", "null", "bad\ufffd"] and "error_reason" not in keys
    original = orjson.loads(dict(safe)["original_headers"])
    assert original[1] == ["bnVsbA==", None]
    assert safe_headers([("ok", b"1")]) == [("ok", b"1")]  # nothing to preserve
