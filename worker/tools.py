"""Operator tools: print a topic, replay the dead-letter topic, open input files."""

from __future__ import annotations

import gzip
import sys
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import orjson
from kafka import TopicPartition

from worker import kafka_io
from worker.config import Settings
from worker.deadletter import error_reason, replay_headers, replayable
from worker.logs import get_logger

log = get_logger("worker.tools")


def open_inputs(paths: Sequence[str]) -> Iterator[BinaryIO]:
    """Binary streams for each path ('-' or none: stdin); .gz files are unpacked."""
    if not paths or list(paths) == ["-"]:
        yield sys.stdin.buffer
        return
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as stream:
            yield stream


def drain(settings: Settings, topic: str, idle_s: float, since_ms: int | None = None) -> Iterator:
    """Records of ``topic`` from the start (or from ``since_ms``) until idle for ``idle_s``
    (0: for ever).

    Partitions are assigned, not subscribed: a tool must never join a worker's group.
    """
    consumer = kafka_io.plain_consumer(settings)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        last = time.monotonic()
        while idle_s <= 0 or time.monotonic() - last < idle_s:
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    last = time.monotonic()
                    if since_ms is None or record.timestamp >= since_ms:
                        yield record
    finally:
        consumer.close()


def tail(settings: Settings, topic: str, *, max_records: int = 0, idle_s: float = 5.0) -> int:
    out = sys.stdout.buffer
    for count, record in enumerate(drain(settings, topic, idle_s), start=1):
        value = record.value
        headers = record.headers or []
        if value is not None and value[:1] == b"{" and not headers:
            line = value
        else:  # dead letters and raw pages: show the headers, and the value as text
            line = orjson.dumps(
                {
                    "key": (record.key or b"").decode("utf-8", "replace"),
                    "headers": {k: v.decode("utf-8", "replace") for k, v in headers},
                    "value": None if value is None else value[:2000].decode("utf-8", "replace"),
                    "value_bytes": len(value or b""),
                }
            )
        out.write(line + b"\n")
        out.flush()
        if max_records and count >= max_records:
            break
    return 0


def replay_dlq(
    settings: Settings,
    *,
    reasons: set[str],
    dry_run: bool,
    idle_s: float,
    since_ms: int | None = None,
) -> int:
    """Re-publish dead letters to the input topic with the error headers removed.

    Replaying a record twice is harmless: it becomes the same article under the same
    key. ``--since`` limits a replay to what failed after a given time (e.g. the fix).
    """
    producer = None if dry_run else kafka_io.make_producer(settings)
    replayed = skipped = 0
    for record in drain(settings, settings.dlq_topic, idle_s, since_ms):
        headers = dict(record.headers or [])
        if (reasons and error_reason(headers) not in reasons) or not replayable(headers):
            skipped += 1
            continue
        if producer is not None:
            kept = replay_headers(record.headers or [])
            producer.send(
                settings.input_topic, key=record.key, value=record.value, headers=kept or None
            )
        replayed += 1
    if producer is not None:
        producer.flush()
        producer.close()
    verb = "would replay" if dry_run else "replayed"
    print(f"{verb} {replayed} records to {settings.input_topic}; left {skipped}", file=sys.stderr)
    log.info("replay_dlq_done", replayed=replayed, skipped=skipped, dry_run=dry_run)
    return 0
