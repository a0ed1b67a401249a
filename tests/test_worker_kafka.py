"""The worker end to end on a real broker: all input forms, DLQ, offsets, metrics, restarts."""

from __future__ import annotations

import io
import json
import signal
from importlib import resources
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.kit.kafka import (
    Topics,
    committed_offsets,
    end_offsets,
    http_get,
    produce,
    read_all,
    start_worker,
    wait_for,
)
from tests.kit.pages import article_html, article_text

pytestmark = pytest.mark.integration

SCHEMA = json.loads((resources.files("worker") / "schemas" / "article.schema.json").read_text())


def envelope(seed: int, **extra: object) -> bytes:
    fields = {"url": f"https://news.example/story/{seed}", "html": article_html(seed)}
    return orjson.dumps({**fields, "status": 200, "record_id": f"r{seed}", **extra})


def warc_response(seed: int) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    body = article_html(seed).encode()
    http = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    record = writer.create_warc_record(
        f"https://warc.example/{seed}", "response", payload=io.BytesIO(body), http_headers=http
    )
    writer.write_record(record)
    return buf.getvalue()


@pytest.fixture
def topics(unique: str) -> Topics:
    return Topics(f"t{unique}")


def test_all_input_forms_end_to_end(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> None:
    text_page = "\n\n".join(
        [
            "Home | News | Sport",
            "A text page headline about the bridge",
            *article_text(42),
            "Sign up for our newsletter",
        ]
    )
    messages = [
        (b"news.example", envelope(1), []),
        (
            b"raw.example",
            article_html(2).encode(),
            [("content-type", b"text/html; charset=utf-8"), ("url", b"https://raw.example/2")],
        ),
        (b"warc.example", warc_response(3), [("content-type", b"application/warc")]),
        (b"text.example", orjson.dumps({"url": "https://text.example/a", "text": text_page}), []),
        (b"news.example", envelope(1, url="https://mirror.example/copy-of-1"), []),
        (
            b"news.example",
            orjson.dumps(
                {"url": "https://news.example/gone", "status": 404, "html": "<p>not found</p>"}
            ),
            [],
        ),
        (b"bad", b'{"url": "https://bad.example/", "html": ', [("trace", b"keep-me")]),
    ]
    worker = start_worker(topics.env(kafka_bootstrap), tmp_path / "worker.log")
    try:
        produce(kafka_bootstrap, topics.input, messages)
        articles = read_all(kafka_bootstrap, topics.output, 4, timeout=90)
        duplicates = read_all(kafka_bootstrap, topics.duplicates, 1, timeout=30)
        dead = read_all(kafka_bootstrap, topics.dlq, 1, timeout=30)
        wait_for(
            lambda: worker.metrics().get("ingest_records_consumed_total") == 7,
            30,
            "metrics to count all records",
        )
        metrics = worker.metrics()
        status, why = http_get(worker.port, "/readyz")
    finally:
        assert worker.stop() == 0, worker.log()[-3000:]

    values = [orjson.loads(r.value) for r in articles]
    validator = Draft202012Validator(SCHEMA)
    for value in values:
        validator.validate(value)
    formats = sorted(v["provenance"]["input_format"] for v in values)
    assert formats == ["json", "json", "raw", "warc"]
    assert all(r.key == v["id"].encode() for r, v in zip(articles, values, strict=True))
    by_url = {v["url"]: v for v in values}
    assert "Sign up to our newsletter" not in by_url["https://news.example/story/1"]["text"]
    assert article_text(1)[0][:60] in by_url["https://news.example/story/1"]["text"]

    dup = orjson.loads(duplicates[0].value)
    assert dup["dedup"]["status"] == "exact_duplicate"
    assert dup["dedup"]["duplicate_of"] == by_url["https://news.example/story/1"]["id"]

    headers = dict(dead[0].headers)
    assert dead[0].value == messages[-1][1]
    assert headers["trace"] == b"keep-me"
    assert headers["error_stage"] == b"decode"
    assert headers["source_topic"] == topics.input.encode()
    assert headers["error_reason"]

    assert status == 200, why
    assert metrics["ingest_articles_published_total"] == 4
    assert metrics['ingest_duplicates_total{status="exact_duplicate"}'] == 1
    assert metrics['ingest_records_skipped_total{reason="http_status"}'] == 1
    assert (
        sum(v for k, v in metrics.items() if k.startswith("ingest_records_dead_lettered_total"))
        == 1
    )
    assert metrics['ingest_stage_duration_seconds_count{stage="extract"}'] >= 5
    assert metrics["ingest_end_to_end_latency_seconds_count"] == 7
    assert metrics["ingest_rebalances_total"] >= 1
    lag = {k: v for k, v in metrics.items() if k.startswith("ingest_consumer_lag")}
    assert lag and all(v == 0 for v in lag.values())

    committed = committed_offsets(kafka_bootstrap, topics.group, topics.input, topics.partitions)
    assert committed == end_offsets(kafka_bootstrap, topics.input, len(messages))


def test_restart_resumes_from_committed_offsets(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    env = topics.env(kafka_bootstrap)
    first = [(f"s{i}".encode(), envelope(100 + i), []) for i in range(10)]
    second = [(f"s{i}".encode(), envelope(200 + i), []) for i in range(6)]

    worker = start_worker(env, tmp_path / "w1.log")
    produce(kafka_bootstrap, topics.input, first)
    read_all(kafka_bootstrap, topics.output, 10, timeout=90)
    assert worker.stop(signal.SIGTERM) == 0
    assert '"worker_stopped"' in worker.log()

    produce(kafka_bootstrap, topics.input, second)
    worker = start_worker(env, tmp_path / "w2.log")
    try:
        out = read_all(kafka_bootstrap, topics.output, 16, timeout=90, settle=3)
        wait_for(
            lambda: worker.metrics().get("ingest_records_consumed_total") == 6,
            30,
            "the second worker to consume only the new records",
        )
    finally:
        worker.stop()
    ids = [orjson.loads(r.value)["provenance"]["record_id"] for r in out]
    assert sorted(ids) == sorted(f"r{100 + i}" for i in range(10)) + sorted(
        f"r{200 + i}" for i in range(6)
    )


def test_killed_worker_redoes_at_most_the_uncommitted_batch(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    env = {**topics.env(kafka_bootstrap), "INGEST_BATCH_SIZE": "4"}
    pages = [(f"k{i}".encode(), envelope(300 + i), []) for i in range(30)]
    worker = start_worker(env, tmp_path / "w1.log")
    produce(kafka_bootstrap, topics.input, pages)
    read_all(kafka_bootstrap, topics.output, 8, timeout=90)
    worker.stop(signal.SIGKILL)

    worker = start_worker(env, tmp_path / "w2.log")
    try:
        out = read_all(kafka_bootstrap, topics.output, 30, timeout=120, settle=3)
    finally:
        worker.stop()
    ids = [orjson.loads(r.value)["provenance"]["record_id"] for r in out]
    assert set(ids) == {f"r{300 + i}" for i in range(30)}  # nothing lost
    # Redone records are republished under the same key, at most one batch per partition.
    assert len(ids) - len(set(ids)) <= 4 * topics.partitions
    keys = {}
    for r in out:
        rid = orjson.loads(r.value)["provenance"]["record_id"]
        assert keys.setdefault(rid, r.key) == r.key


def test_two_workers_share_partitions_and_one_leaving_loses_nothing(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    env = {**topics.env(kafka_bootstrap), "INGEST_BATCH_SIZE": "4"}
    first = start_worker(env, tmp_path / "a.log")
    second = start_worker(env, tmp_path / "b.log")
    try:
        wait_for(
            lambda: all(
                w.metrics().get("ingest_assigned_partitions", 0) > 0 for w in (first, second)
            ),
            60,
            "both workers to own partitions",
        )
        produce(
            kafka_bootstrap,
            topics.input,
            [(f"h{i}".encode(), envelope(400 + i), []) for i in range(24)],
        )
        read_all(kafka_bootstrap, topics.output, 24, timeout=90)
        assert first.stop(signal.SIGTERM) == 0  # leaves the group; the other takes over
        wait_for(
            lambda: second.metrics().get("ingest_assigned_partitions") == topics.partitions,
            60,
            "the remaining worker to own every partition",
        )
        produce(
            kafka_bootstrap,
            topics.input,
            [(f"h{i}".encode(), envelope(500 + i), []) for i in range(12)],
        )
        out = read_all(kafka_bootstrap, topics.output, 36, timeout=90, settle=2)
    finally:
        first.stop()
        second.stop()
    ids = [orjson.loads(r.value)["provenance"]["record_id"] for r in out]
    expected = {f"r{400 + i}" for i in range(24)} | {f"r{500 + i}" for i in range(12)}
    assert set(ids) == expected
    assert len(ids) == len(expected)  # a graceful hand-over redoes nothing


def test_ready_once_assigned_and_exits_cleanly_on_sigint(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    worker = start_worker(topics.env(kafka_bootstrap), tmp_path / "w.log")
    try:
        assert http_get(worker.port, "/healthz")[0] == 200
        wait_for(lambda: http_get(worker.port, "/readyz")[0] == 200, 60, "readiness")
    finally:
        code = worker.stop(signal.SIGINT)
    assert code == 0
    log = worker.log()
    assert log.index('"stopping"') < log.index('"worker_stopped"')


def test_recrawls_are_published_once_per_version(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    """Issue: the same URL re-fetched unchanged was published again as new on every crawl."""
    env = topics.env(kafka_bootstrap)
    url = "https://news.example/story/recrawled"
    crawls = [
        envelope(400, url=url, record_id="c1"),
        envelope(400, url=url, record_id="c2"),  # unchanged
        envelope(401, url=url, record_id="c3"),  # changed
        envelope(401, url=url, record_id="c4"),  # unchanged again
    ]
    worker = start_worker(env, tmp_path / "w.log")
    try:
        produce(kafka_bootstrap, topics.input, [(b"same", value, []) for value in crawls])
        out = read_all(kafka_bootstrap, topics.output, 2, timeout=90, settle=3)
        wait_for(
            lambda: worker.metrics().get('ingest_records_skipped_total{reason="unchanged"}') == 2,
            30,
            "two unchanged recrawls counted",
        )
        assert worker.metrics()["ingest_articles_updated_total"] == 1
    finally:
        worker.stop()
    records = [orjson.loads(r.value) for r in out]
    assert [r["provenance"]["record_id"] for r in records] == ["c1", "c3"]
    first, second = (r["dedup"] for r in records)
    assert (first["status"], first["version"]) == ("new", 1)
    assert (second["status"], second["version"]) == ("updated", 2)
    assert second["previous_content_hash"] == records[0]["content_hash"]
    assert out[0].key == out[1].key
    for record in records:
        Draft202012Validator(SCHEMA).validate(record)
