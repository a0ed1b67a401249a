"""What real third-party producers send reaches the worker: librdkafka with every codec."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from kafka import KafkaAdminClient, codec
from kafka.admin import NewTopic
from kafka.partitioner.default import murmur2

from tests.kit.kafka import Topics, read_all, start_worker
from tests.kit.pages import article_html

# Every compression.type Kafka defines, as librdkafka names them.
CODECS = ("gzip", "snappy", "lz4", "zstd")


def test_every_kafka_codec_can_be_read() -> None:
    """kafka-python decodes a batch only with the codec's library installed."""
    available = {
        "gzip": codec.has_gzip(),
        "snappy": codec.has_snappy(),
        "lz4": codec.has_lz4(),
        "zstd": codec.has_zstd(),
    }
    assert available == dict.fromkeys(CODECS, True)


@pytest.mark.integration
def test_librdkafka_producer_with_each_codec(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    """A snappy batch from confluent-kafka once made ``poll()`` raise and the worker exit."""
    topics = Topics(f"codec{unique}")
    worker = start_worker(topics.env(kafka_bootstrap), tmp_path / "worker.log")
    try:
        for seed, name in enumerate(CODECS):
            producer = Producer(
                {"bootstrap.servers": kafka_bootstrap, "compression.type": name, "linger.ms": 5}
            )
            url = f"https://{name}.example/story/{seed}"
            value = orjson.dumps({"url": url, "html": article_html(seed), "status": 200})
            producer.produce(topics.input, key=url.encode(), value=value)
            assert producer.flush(30) == 0
            producer.close()
        articles = read_all(kafka_bootstrap, topics.output, len(CODECS), timeout=90)
    finally:
        assert worker.stop() == 0, worker.log()[-3000:]
    hosts = sorted(orjson.loads(r.value)["url"].split("/")[2] for r in articles)
    assert hosts == sorted(f"{name}.example" for name in CODECS)


@pytest.mark.integration
def test_librdkafka_murmur2_random_keeps_a_host_where_kafka_python_puts_it(
    kafka_bootstrap: str, unique: str
) -> None:
    """What the README tells librdkafka crawlers to set: its default partitioner (CRC32)
    sends a host to another partition than the feed tool and Java/kafka-python producers."""
    topic = f"part{unique}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 6, 1)])
    admin.close()
    hosts = [f"site{i}.example".encode() for i in range(30)]
    java_like = {host: (murmur2(host) & 0x7FFFFFFF) % 6 for host in hosts}

    def placed(extra: dict[str, str]) -> dict[bytes, int]:
        where: dict[bytes, int] = {}
        producer = Producer({"bootstrap.servers": kafka_bootstrap, **extra})
        for host in hosts:
            producer.produce(
                topic,
                key=host,
                value=b"x",
                on_delivery=lambda e, m: where.update({m.key(): m.partition()}),
            )
        assert producer.flush(30) == 0
        producer.close()
        return where

    assert placed({"partitioner": "murmur2_random"}) == java_like
    assert placed({}) != java_like
