"""Security: Kafka SASL/TLS and Redis auth/TLS settings reach the clients, secrets never reach
the log, and the metrics and health endpoints expose no page content."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
import redis

from tests.kit.kafka import (
    Topics,
    drain,
    http_get,
    produce,
    read_all,
    start_worker,
    wait_for,
)
from tests.kit.pages import article_html
from tests.kit.services import RedisServer, private_redis, redis_available
from worker import config, kafka_io
from worker.broker import free_port, port_open, tansu_binary
from worker.dedup import make_deduper

SASL_PASSWORD = "kafka-Secret-" + uuid.uuid4().hex[:8]
REDIS_PASSWORD = "redis-Secret-" + uuid.uuid4().hex[:8]
URL_PASSWORD = "url-Secret-" + uuid.uuid4().hex[:8]


class Recorder:
    """Stands in for a kafka-python client and keeps the configuration it was given."""

    made: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, *topics: str, **config: Any) -> None:
        Recorder.made.append((type(self).__name__, config))

    def list_topics(self) -> list[str]:
        return []

    def create_topics(self, new: object) -> None:
        pass

    def subscribe(self, topics: object, listener: object = None) -> None:
        pass

    def close(self) -> None:
        pass


def test_kafka_sasl_and_tls_settings_reach_every_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "sasl-password"
    secret_file.write_text(SASL_PASSWORD + "\n")
    settings = config.load(
        env={
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.internal:9093",
            "INGEST_SECURITY_PROTOCOL": "SASL_SSL",
            "INGEST_SASL_MECHANISM": "SCRAM-SHA-512",
            "INGEST_SASL_USERNAME": "ingest",
            "INGEST_SASL_PASSWORD_FILE": str(secret_file),
            "INGEST_SSL_CAFILE": "/etc/ssl/kafka-ca.pem",
        }
    )
    for name in ("KafkaAdminClient", "KafkaProducer", "KafkaConsumer"):
        monkeypatch.setattr(kafka_io, name, type(name, (Recorder,), {}))
    Recorder.made = []
    kafka_io.ensure_topics(settings)
    kafka_io.missing_topics(settings)
    kafka_io.make_producer(settings)
    kafka_io.make_consumer(settings)
    kafka_io.plain_consumer(settings)
    assert {kind for kind, _ in Recorder.made} == {
        "KafkaAdminClient",
        "KafkaProducer",
        "KafkaConsumer",
    }
    assert len(Recorder.made) == 5
    for kind, cfg in Recorder.made:
        assert cfg["security_protocol"] == "SASL_SSL", kind
        assert cfg["sasl_mechanism"] == "SCRAM-SHA-512", kind
        assert cfg["sasl_plain_username"] == "ingest", kind
        assert cfg["sasl_plain_password"] == SASL_PASSWORD, kind
        assert cfg["ssl_cafile"] == "/etc/ssl/kafka-ca.pem", kind
    assert SASL_PASSWORD not in str(settings.public())


def test_a_rediss_url_gives_the_dedup_client_tls_and_the_password() -> None:
    deduper = make_deduper("redis", redis_url=f"rediss://:{REDIS_PASSWORD}@127.0.0.1:6390/0")
    try:
        pool = deduper._client.connection_pool  # no connection is made until the first check
        assert pool.connection_class is redis.SSLConnection
        assert pool.connection_kwargs["password"] == REDIS_PASSWORD
    finally:
        deduper.close()


@pytest.fixture
def secured_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.skip("no redis-server binary to start a Redis of our own")
    with private_redis(tmp_path / "redis", password=REDIS_PASSWORD) as server:
        yield server


def envelope(seed: int, url: str, **extra: object) -> bytes:
    return orjson.dumps({"url": url, "html": article_html(seed), "record_id": url, **extra})


@pytest.mark.integration
def test_secrets_never_reach_the_log_even_at_debug_and_through_an_outage(
    kafka_bootstrap: str, unique: str, tmp_path: Path, secured_redis: RedisServer
) -> None:
    topics = Topics(f"s{unique}")
    env = {
        **topics.env(kafka_bootstrap),
        "INGEST_LOG_LEVEL": "DEBUG",
        "INGEST_PROCESSES": "1",
        "INGEST_SASL_PASSWORD": SASL_PASSWORD,  # set, though this broker needs none
        "INGEST_DEDUP_BACKEND": "redis",
        "INGEST_REDIS_URL": secured_redis.url,
    }
    seed = int(unique, 16) % 10**9
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        produce(
            kafka_bootstrap,
            topics.input,
            [
                (b"a", envelope(seed, f"https://a.example/{unique}"), []),
                (b"a", envelope(seed, f"https://b.example/{unique}"), []),  # a copy
            ],
        )
        read_all(kafka_bootstrap, topics.duplicates, 1, timeout=90)
        secured_redis.stop()  # the retry path logs errors: they must not carry the URL
        # a page URL with credentials in it, and final_url with the userinfo disguise
        page_c = envelope(
            seed + 1,
            f"https://carol:{URL_PASSWORD}@c.ex/1",
            final_url=f"https://trusted.example:{URL_PASSWORD}@c.ex/1",
            record_id="c",
        )
        produce(kafka_bootstrap, topics.input, [(b"c", page_c, [])])
        wait_for(lambda: http_get(worker.port, "/readyz")[0] == 503, 60, "not ready")
        secured_redis.start()
        published = read_all(kafka_bootstrap, topics.output, 2, timeout=90)
    finally:
        assert worker.stop() == 0
    log = worker.log()
    assert '"batch_retry"' in log and '"settings"' in log  # both paths were logged
    assert SASL_PASSWORD not in log
    assert REDIS_PASSWORD not in log
    assert URL_PASSWORD not in log
    record_c = next(orjson.loads(r.value) for r in published if b"c.ex" in r.value)
    assert record_c["url"] == record_c["final_url"] == "https://c.ex/1"
    assert all(URL_PASSWORD.encode() not in r.value for r in published)
    settings_line = next(line for line in log.splitlines() if '"settings"' in line)
    entry = orjson.loads(settings_line)
    assert entry["sasl_password"] == "***" and entry["redis_url"] == "***"


@pytest.mark.integration
def test_a_sasl_worker_authenticates_without_logging_its_password(tmp_path: Path) -> None:
    """Against a broker that requires SASL (and knows no such user), the worker runs the
    SCRAM exchange with our settings at DEBUG level; the password never shows."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen(
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--authentication"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        "INGEST_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "INGEST_SASL_MECHANISM": "SCRAM-SHA-512",
        "INGEST_SASL_USERNAME": "ingest",
        "INGEST_SASL_PASSWORD": SASL_PASSWORD,
        "INGEST_LOG_LEVEL": "DEBUG",
        "INGEST_METRICS_PORT": "0",
        "INGEST_INPUT_TOPIC": f"sasl{uuid.uuid4().hex[:6]}",
    }
    try:
        wait_for(lambda: port_open("127.0.0.1", port), 20, "the SASL broker")
        with open(log_path, "wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "worker", "run"], env=env, stdout=out, stderr=out
            )
            try:
                wait_for(lambda: "sasl" in log_path.read_text().lower(), 60, "a SASL exchange")
                time.sleep(2)  # a few more attempts and their errors
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
    finally:
        broker.kill()
        broker.wait(10)
    log = log_path.read_text()
    assert SASL_PASSWORD not in log


@pytest.mark.integration
def test_metrics_and_health_expose_no_page_content(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    marker = f"zebrafinch{unique}"
    topics = Topics(f"m{unique}")
    worker = start_worker(topics.env(kafka_bootstrap), tmp_path / "worker.log")
    page = article_html(int(unique, 16) % 10**9, title=f"The {marker} story").replace(
        "<p>", f"<p>{marker} ", 1
    )
    gone = {"url": f"https://x.example/{marker}", "status": 404, "html": page}
    messages = [
        (b"k", orjson.dumps({"url": f"https://{marker}.example/a", "html": page}), []),
        (b"k", orjson.dumps(gone), []),  # skipped
        (b"k", f'{{"url": "https://x.example/{marker}", "html": '.encode(), [(marker, b"x")]),
    ]
    try:
        produce(kafka_bootstrap, topics.input, messages)
        wait_for(
            lambda: (
                worker.metrics().get("ingest_records_consumed_total") == 3
                and worker.metrics().get("ingest_articles_published_total") == 1
            ),
            90,
            "the three records",
        )
        bodies = [http_get(worker.port, p)[1] for p in ("/metrics", "/readyz", "/healthz", "/x")]
    finally:
        worker.stop()
    published = drain(kafka_bootstrap, topics.output)
    assert marker in orjson.loads(published[0].value)["text"]  # it was read and published
    for body in bodies:
        assert marker not in body
