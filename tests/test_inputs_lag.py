"""Consumer lag on a real broker: the records that wait, not the last fetch's view of them."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from tests.kit.kafka import wait_for
from worker.kafka_io import consumer_lag

pytestmark = pytest.mark.integration


def test_lag_counts_records_produced_after_the_last_fetch(kafka_bootstrap: str, unique: str):
    """The gauge read the high watermark of the last fetch response, which kafka-python does
    not refresh while it has fetched records buffered: records produced meanwhile (and, on
    Tansu, whole batches) were missing from the lag."""
    topic = f"lag{unique}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    tp = TopicPartition(topic, 0)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=50, batch_size=2**20)

    def produce(count: int, one_per_batch: bool = False) -> None:
        for i in range(count):
            producer.send(topic, value=b"page %d" % i)
            if one_per_batch:
                producer.flush()
        producer.flush()

    produce(300)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=5,
    )
    consumer.assign([tp])
    polled: list = []
    wait_for(lambda: polled.extend(consumer.poll(200).get(tp, [])) or polled, 30, "a first poll")
    position = consumer.position(tp)
    # More records arrive while the worker works through what it fetched; the last one in
    # a batch of its own, so the true end is known on every broker.
    produce(300)
    produce(1, one_per_batch=True)
    try:
        assert consumer_lag(consumer, [tp]) == {tp: 601 - position}
    finally:
        consumer.close()
        producer.close()
