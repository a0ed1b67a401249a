"""Runs inside the compose network (the worker image, `probe` service of the test
override): waits until the worker group has committed every input record, then prints on
stdout, as JSON, every input and every output mapped back to its input.

Only kafka-python and the standard library: it runs on the image's own interpreter.
"""

from __future__ import annotations

import json
import os
import sys
import time

from kafka import KafkaConsumer, TopicPartition

BOOTSTRAP = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
INPUT = os.environ.get("INGEST_INPUT_TOPIC", "pages.raw")
OUTPUT = os.environ.get("INGEST_OUTPUT_TOPIC", "articles")
DUPLICATES = os.environ.get("INGEST_DUPLICATES_TOPIC", "articles.duplicates")
DLQ = os.environ.get("INGEST_DLQ_TOPIC", "pages.dlq")
GROUP = os.environ.get("INGEST_GROUP_ID", "ingest-worker")


def drain(topic: str, quiet_s: float = 2.0) -> list:
    """Every record of ``topic`` (until nothing new came for ``quiet_s``)."""
    consumer = KafkaConsumer(
        bootstrap_servers=BOOTSTRAP,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 2**20,
        max_partition_fetch_bytes=32 * 2**20,
    )
    consumer.subscribe([topic])
    records: list = []
    last_new = time.monotonic()
    try:
        while time.monotonic() - last_new < quiet_s:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
                last_new = time.monotonic()
    finally:
        consumer.close()
    return records


def wait_committed(ends: dict[int, int], timeout: float) -> dict[int, int]:
    group = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=GROUP, enable_auto_commit=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            done = {p: group.committed(TopicPartition(INPUT, p)) or 0 for p in ends}
            if all(done[p] >= end for p, end in ends.items()) or time.monotonic() > deadline:
                return done
            time.sleep(1)
    finally:
        group.close()


def record_id(value: bytes | None) -> str | None:
    try:
        doc = json.loads(value or b"")
    except ValueError:
        return None
    return doc.get("record_id") or doc.get("url") if isinstance(doc, dict) else None


def main() -> int:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    inputs = drain(INPUT)
    ends: dict[int, int] = {}
    for r in inputs:
        ends[r.partition] = max(ends.get(r.partition, 0), r.offset + 1)
    done = wait_committed(ends, timeout)
    outputs = []
    for where, topic in (("published", OUTPUT), ("duplicate", DUPLICATES)):
        for r in drain(topic):
            doc = json.loads(r.value)
            prov = doc["provenance"]
            outputs.append(
                {
                    "where": where,
                    "source": [prov["partition"], prov["offset"]],
                    "key": (r.key or b"").decode("utf-8", "replace"),
                    "id": doc.get("id"),
                    "url": doc.get("url"),
                    "dedup": doc.get("dedup"),
                }
            )
    for r in drain(DLQ):
        h = {k: v.decode("utf-8", "replace") for k, v in r.headers}
        outputs.append(
            {
                "where": "dead_letter",
                "source": [int(h["source_partition"]), int(h["source_offset"])],
                "key": (r.key or b"").decode("utf-8", "replace"),
                "reason": h.get("error_reason", ""),
                "stage": h.get("error_stage", ""),
            }
        )
    report = {
        "committed": all(done[p] >= end for p, end in ends.items()),
        "inputs": [{"source": [r.partition, r.offset], "rid": record_id(r.value)} for r in inputs],
        "outputs": outputs,
    }
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
