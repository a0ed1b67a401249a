"""The glue code a user would otherwise write: the baseline ``make bench`` compares against.

One process: a kafka-python consumer -> trafilatura.extract -> datasketch MinHashLSH
-> a producer, committing after each batch. Written the way the libraries' docs
suggest, with the same Kafka settings that matter (acks=all, manual commits), so
the comparison measures our pipeline, not a careless loop.

    python -m bench.glue_baseline BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC GROUP IDLE_S
"""

from __future__ import annotations

import gzip
import json
import sys
import time

import trafilatura
from datasketch import MinHash, MinHashLSH
from kafka import KafkaConsumer, KafkaProducer

NUM_PERM = 128
THRESHOLD = 0.8


def minhash(text: str) -> MinHash:
    words = text.lower().split()
    m = MinHash(num_perm=NUM_PERM)
    for i in range(max(1, len(words) - 4)):
        m.update(" ".join(words[i : i + 5]).encode())
    return m


def main() -> int:
    bootstrap, in_topic, out_topic, group, idle_s = sys.argv[1:6]
    consumer = KafkaConsumer(
        in_topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=64,
        max_partition_fetch_bytes=32 * 2**20,
        fetch_max_bytes=64 * 2**20,
    )
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        compression_type="zstd",
        max_request_size=32 * 2**20,
    )
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    last = time.monotonic()
    while time.monotonic() - last < float(idle_s):
        batch = consumer.poll(timeout_ms=500)
        for records in batch.values():
            for record in records:
                last = time.monotonic()
                value = record.value
                if value[:2] == b"\x1f\x8b":
                    value = gzip.decompress(value)
                try:
                    html = json.loads(value)["html"]
                except (ValueError, KeyError, TypeError):
                    html = value.decode("utf-8", "replace")
                text = trafilatura.extract(html, include_comments=False) or ""
                m = minhash(text)
                key = f"{record.partition}:{record.offset}"
                duplicate = bool(lsh.query(m))
                if not duplicate:
                    lsh.insert(key, m)
                producer.send(
                    out_topic,
                    key=key.encode(),
                    value=json.dumps(
                        {
                            "partition": record.partition,
                            "offset": record.offset,
                            "text": text,
                            "duplicate": duplicate,
                        }
                    ).encode(),
                )
        if batch:
            producer.flush()
            consumer.commit()
    producer.close()
    consumer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
