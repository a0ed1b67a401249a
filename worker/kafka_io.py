"""Thin wrappers around kafka-python: client settings, topics, producer, consumer.

Everything Kafka-specific the worker needs lives here, so the loop in ``app``
reads as poll -> process -> publish -> commit.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import KafkaError, TopicAlreadyExistsError
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from worker import kafka_records
from worker.config import ConfigError, Settings, dedup_changelog_topic
from worker.logs import get_logger

log = get_logger("worker.kafka")

_MB = 2**20
DEFAULT_PORT = 9092
LAG_LIST_TIMEOUT_MS = 500  # a slow ListOffsets only skips one lag update


class BrokerUnreachable(ConfigError):
    """No broker answered at start-up; the message is the one line a user needs."""


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: the broker is away or busy, not the request being wrong."""
    if isinstance(exc, KafkaError):
        return bool(getattr(exc, "retriable", False))
    return isinstance(exc, (ConnectionError, TimeoutError))


def wait_for_broker(settings: Settings, timeout_s: float | None = None) -> str:
    """Before anything else talks to Kafka at start-up: wait up to ``startup_timeout_s`` for
    one bootstrap address to accept a connection, and return it. Otherwise raise one line
    naming KAFKA_BOOTSTRAP_SERVERS and what each address answered, instead of kafka-python's
    two minutes of retries and a traceback. (A broker lost later is retried as usual.)"""
    budget = settings.startup_timeout_s if timeout_s is None else timeout_s
    addresses = [a.strip() for a in settings.kafka_bootstrap_servers.split(",") if a.strip()]
    deadline = time.monotonic() + budget
    tried: dict[str, str] = {}
    while True:
        for address in addresses:
            remaining = deadline - time.monotonic()
            try:
                host, port = split_address(address)
                with socket.create_connection((host, port), timeout=min(2.0, max(remaining, 0.1))):
                    return address
            except ValueError as exc:
                tried[address] = str(exc)
            except OSError as exc:
                tried[address] = _why(exc)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        time.sleep(min(0.5, remaining))
    detail = "; ".join(f"{address}: {why}" for address, why in tried.items()) or "no address"
    raise BrokerUnreachable(
        f"KAFKA_BOOTSTRAP_SERVERS: no Kafka broker answered within {budget:g} s "
        f"(tried {detail}); check the host:port, or wait longer with INGEST_STARTUP_TIMEOUT_S"
    )


def split_address(address: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``PLAINTEXT://host:port`` (port 9092 when absent)."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest.removeprefix(":")
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    else:
        host, port = hostport, ""
    if not host or not (port.isdigit() or port == "") or int(port or DEFAULT_PORT) > 65535:
        raise ValueError("not a host:port")
    return host, int(port or DEFAULT_PORT)


def _why(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer"
    return exc.strerror or type(exc).__name__


kafka_retry = retry(
    retry=retry_if_exception(is_transient),
    wait=wait_exponential_jitter(multiplier=0.2, max=10),
    stop=stop_after_delay(120),
    reraise=True,
)


def client_config(settings: Settings) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "security_protocol": settings.security_protocol,
        "client_id": "ingest-worker",
    }
    if settings.sasl_mechanism:
        cfg.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password,
        )
    if settings.ssl_cafile:
        cfg["ssl_cafile"] = settings.ssl_cafile
    return cfg


def max_message_bytes(settings: Settings) -> int:
    """Room for the largest accepted page plus its envelope and headers."""
    return settings.max_page_bytes + _MB


def all_topics(settings: Settings) -> list[str]:
    changelog = dedup_changelog_topic(settings)
    return [
        settings.input_topic,
        settings.output_topic,
        settings.duplicates_topic,
        settings.dlq_topic,
        *([changelog] if changelog else []),
    ]


def topic_configs(settings: Settings, topic: str) -> dict[str, str]:
    """The dedup changelog is only read back for the index's window: a broker that deletes
    old segments may drop what is a day older (no compaction needed, none relied on)."""
    configs = {"max.message.bytes": str(max_message_bytes(settings))}
    if topic == dedup_changelog_topic(settings):
        retention_ms = int((settings.dedup_window_s + 86400) * 1000)
        configs.update({"cleanup.policy": "delete", "retention.ms": str(retention_ms)})
    return configs


@kafka_retry
def ensure_topics(settings: Settings, topics: Iterable[str] | None = None) -> list[str]:
    """Create the topics that are missing; returns the names created."""
    wanted = list(topics or all_topics(settings))
    admin = KafkaAdminClient(**client_config(settings))
    try:
        missing = [t for t in wanted if t not in set(admin.list_topics())]
        if missing:
            new = [
                NewTopic(
                    t,
                    settings.partitions,
                    settings.replication_factor,
                    topic_configs=topic_configs(settings, t),
                )
                for t in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                admin.create_topics(new)
        return missing
    finally:
        admin.close()


@kafka_retry
def missing_topics(settings: Settings, topics: Iterable[str] | None = None) -> list[str]:
    admin = KafkaAdminClient(**client_config(settings))
    try:
        existing = set(admin.list_topics())
        return [t for t in (topics or all_topics(settings)) if t not in existing]
    finally:
        admin.close()


@kafka_retry
def make_producer(settings: Settings) -> KafkaProducer:
    """acks=all without idempotence: a retry may write an output twice (same key, as any
    redo does), never lose one. With idempotence on, a batch retried across a broker restart
    was acknowledged without landing (kafka-python 3.0.12 on Tansu 0.6.0), and the input
    was committed."""
    return KafkaProducer(
        **client_config(settings),
        acks="all",
        enable_idempotence=False,
        compression_type="zstd",
        linger_ms=settings.linger_ms,
        batch_size=settings.producer_batch_bytes,
        max_request_size=max_message_bytes(settings),
        allow_auto_create_topics=False,
        retries=2**31 - 1,
        delivery_timeout_ms=120_000,
    )


@kafka_retry
def make_consumer(
    settings: Settings,
    listener: ConsumerRebalanceListener | None = None,
    topics: Iterable[str] | None = None,
) -> KafkaConsumer:
    if not kafka_records.install():
        log.warning(
            "lenient_batch_reader_unavailable",
            detail="this kafka-python lacks the batch reader we wrap: a batch it cannot "
            "decode will stop its partition",
        )
    consumer = KafkaConsumer(
        **client_config(settings),
        group_id=settings.group_id,
        allow_auto_create_topics=False,
        enable_auto_commit=False,
        auto_offset_reset=settings.auto_offset_reset,
        partition_assignment_strategy=[CooperativeStickyAssignor],
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        max_poll_records=settings.batch_size,
        max_partition_fetch_bytes=max_message_bytes(settings),
        fetch_max_bytes=max(64 * _MB, max_message_bytes(settings)),
    )
    consumer.subscribe(list(topics or [settings.input_topic]), listener=listener)
    return consumer


def plain_consumer(settings: Settings, **kwargs: Any) -> KafkaConsumer:
    """A group-less consumer for tools (tail, replay-dlq) that read topics from the start."""
    return KafkaConsumer(
        **client_config(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=max_message_bytes(settings),
        fetch_max_bytes=max(64 * _MB, max_message_bytes(settings)),
        **kwargs,
    )


def consumer_lag(
    consumer: KafkaConsumer,
    partitions: Iterable[TopicPartition],
    timeout_ms: int = LAG_LIST_TIMEOUT_MS,
) -> dict[TopicPartition, int]:
    """Records behind the log end per partition, for those whose end and position are known.

    The end is the larger of two answers, because each alone reads short: the high
    watermark of the last fetch response is as old as the data kafka-python still has
    buffered (it sends no new fetch for a partition until that is consumed), and Tansu
    answers ListOffsets(latest) with its last batch's base offset + 1. On Apache Kafka
    ListOffsets is exact; on Tansu the lag can read short by at most the last producer
    batch of a partition.
    """
    wanted = list(partitions)
    if not wanted:
        return {}
    try:
        listed = consumer.end_offsets(wanted, timeout_ms=timeout_ms)
    except KafkaError:
        listed = {}
    lag: dict[TopicPartition, int] = {}
    for tp in wanted:
        ends = [end for end in (consumer.highwater(tp), listed.get(tp)) if end is not None]
        if not ends:
            continue
        try:
            position = consumer.position(tp, timeout_ms=100)
        except Exception:  # noqa: BLE001 - position unknown right now; try next round
            continue
        if position is not None:
            lag[tp] = max(0, max(ends) - position)
    return lag
