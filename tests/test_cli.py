"""The command line as a user runs it: offline extract and dedup, feed/tail/topics/replay-dlq."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.kit.kafka import Topics, produce, read_all
from tests.kit.pages import article_html, article_text
from tests.kit.stories import article, text
from worker.broker import free_port


def cli(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def lines(out: bytes) -> list[dict]:
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def test_extract_speaks_the_scorers_protocol_in_input_order() -> None:
    pages = [
        {"id": f"p{i}", "url": f"https://site.example/{i}", "html": article_html(i)}
        for i in range(3)
    ]
    stdin = b"".join(orjson.dumps(p) + b"\n" for p in pages)
    stdin += b'{"id": "broken", "url": \n'
    stdin += (
        orjson.dumps(
            {"id": "gone", "url": "https://site.example/x", "status": 500, "html": "<p>error</p>"}
        )
        + b"\n"
    )
    result = cli("extract", stdin=stdin)
    assert result.returncode == 0, result.stderr.decode()
    out = lines(result.stdout)
    assert [o["id"] for o in out[:3]] == ["p0", "p1", "p2"]
    for i, record in enumerate(out[:3]):
        assert article_text(i)[1][:40] in record["text"]
        assert record["title"]
    assert out[3]["status"] == "dead_letter" and out[3]["text"] == ""
    assert (out[4]["id"], out[4]["status"], out[4]["reason"]) == ("gone", "skipped", "http_status")


def test_extract_reads_a_directory_of_gzipped_pages(tmp_path: Path) -> None:
    for i in range(2):
        (tmp_path / f"page{i}.html.gz").write_bytes(gzip.compress(article_html(10 + i).encode()))
    result = cli("extract", str(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    texts = sorted(o["text"] for o in lines(result.stdout))
    assert len(texts) == 2
    assert any(article_text(10)[0][:40] in t for t in texts)


def test_offline_dedup_protocol() -> None:
    story = " ".join(article_text(20))
    docs = [
        {"id": "a", "ts": "2026-01-01T00:00:00Z", "source": "x", "title": "t", "text": story},
        {
            "id": "b",
            "ts": "2026-01-01T00:01:00Z",
            "source": "y",
            "title": "u",
            "text": story.replace(".", "!", 3) + " Read more at x.",
        },
        {
            "id": "c",
            "ts": "2026-01-01T00:02:00Z",
            "source": "z",
            "title": "v",
            "text": " ".join(article_text(21)),
        },
    ]
    result = cli("dedup", stdin=b"".join(orjson.dumps(d) + b"\n" for d in docs))
    assert result.returncode == 0, result.stderr.decode()
    assert lines(result.stdout) == [
        {"id": "a", "duplicate_of": None},
        {"id": "b", "duplicate_of": "a"},
        {"id": "c", "duplicate_of": None},
    ]


def test_invalid_setting_stops_with_an_error_naming_it() -> None:
    result = cli("extract", env={"INGEST_MAX_PAGE_BYTES": "lots"}, stdin=b"")
    assert result.returncode == 2
    assert b"INGEST_MAX_PAGE_BYTES" in result.stderr


def test_feed_without_a_broker_names_the_setting() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "", "INGEST_KAFKA_BOOTSTRAP_SERVERS": ""}
    result = cli("feed", env=env, stdin=b"")
    assert result.returncode == 2
    assert b"KAFKA_BOOTSTRAP_SERVERS" in result.stderr


@pytest.mark.integration
def test_feed_keys_by_host_and_topics_check(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    topics = Topics(f"f{unique}")
    env = topics.env(kafka_bootstrap)
    assert cli("topics", "check", env=env).returncode == 1
    assert cli("topics", "create", env=env).returncode == 0
    assert cli("topics", "check", env=env).returncode == 0

    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_bytes(
        b"".join(
            orjson.dumps({"url": f"https://{host}/{i}", "html": article_html(i)}) + b"\n"
            for i, host in enumerate(["a.example", "b.example", "a.example"])
        )
    )
    result = cli("feed", str(jsonl), env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert b"fed 3 pages" in result.stderr
    records = read_all(kafka_bootstrap, topics.input, 3)
    assert sorted(r.key for r in records) == [b"a.example", b"a.example", b"b.example"]
    a_partitions = {r.partition for r in records if r.key == b"a.example"}
    assert len(a_partitions) == 1


@pytest.mark.integration
def test_replay_dlq_republishes_without_error_headers(kafka_bootstrap: str, unique: str) -> None:
    topics = Topics(f"d{unique}")
    env = topics.env(kafka_bootstrap)
    assert cli("topics", "create", env=env).returncode == 0
    dead = [
        (
            b"k1",
            b"page one",
            [("trace", b"t1"), ("error_stage", b"decode"), ("error_reason", b"malformed_json")],
        ),
        (b"k2", b"page two", [("error_stage", b"extract"), ("error_reason", b"time_budget")]),
    ]
    produce(kafka_bootstrap, topics.dlq, dead)
    result = cli("replay-dlq", "--reason", "malformed_json", "--idle", "3", env=env)
    assert result.returncode == 0, result.stderr.decode()
    replayed = read_all(kafka_bootstrap, topics.input, 1, settle=2)
    assert [(r.key, r.value, r.headers) for r in replayed] == [
        (b"k1", b"page one", [("trace", b"t1")])
    ]
    later = cli("replay-dlq", "--since", "2999-01-01T00:00:00Z", "--idle", "3", env=env)
    assert b"replayed 0 records" in later.stderr


def test_run_without_kafka_uses_the_embedded_broker_and_the_samples(tmp_path: Path) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "", "INGEST_METRICS_PORT": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "worker", "run", "--exit-when-idle", "15"],
        capture_output=True,
        timeout=240,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert b"ingest-worker is running on an embedded broker" in result.stderr
    stopped = [
        orjson.loads(line) for line in result.stderr.splitlines() if b'"worker_stopped"' in line
    ][-1]
    # The bundled samples: three stories, a syndicated copy and a text rendering of one of
    # them, a 404 and a truncated line.
    assert stopped.get("published") == 3
    assert stopped.get("duplicate") == 2
    assert stopped.get("skipped") == 1
    assert stopped.get("dead_letter") == 1


def test_unreachable_broker_fails_fast_with_one_line() -> None:
    """It took 125 s, 152 log lines and a KafkaTimeoutError traceback."""
    address = f"127.0.0.1:{free_port()}"
    env = {"KAFKA_BOOTSTRAP_SERVERS": address, "INGEST_STARTUP_TIMEOUT_S": "1"}
    for args in (["run"], ["tail", "--max", "1"], ["topics", "check"]):
        result = cli(*args, env=env, timeout=60)
        assert result.returncode == 2, args
        shown = [line for line in result.stderr.decode().splitlines() if line.strip()]
        assert len(shown) == 1, shown
        assert "KAFKA_BOOTSTRAP_SERVERS" in shown[0] and address in shown[0], shown
        assert "connection refused" in shown[0]


def test_feed_checks_its_inputs_before_the_broker(tmp_path: Path) -> None:
    """A missing file printed a traceback after contacting the broker; the address here
    has no broker, so only checking inputs first gives this line."""
    missing = tmp_path / "crawl.jsonl"
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}", "INGEST_STARTUP_TIMEOUT_S": "30"}
    result = cli("feed", str(missing), env=env, timeout=20)
    assert result.returncode == 2
    shown = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert shown == [f"ingest-worker feed: cannot read {missing} (no such file or directory)"]


def partial_copy() -> bytes:
    """A story, then a copy keeping three quarters of it (containment about 0.74)."""
    paras = article(30, paragraphs=8)
    docs = [{"id": "a", "text": text(paras)}, {"id": "b", "text": text(paras[:6] + article(31, 2))}]
    return b"".join(orjson.dumps(d) + b"\n" for d in docs)


def test_dedup_takes_the_containment_threshold_from_its_setting() -> None:
    """A copy sharing three quarters of a story is a near-duplicate at the default threshold
    and new above it; an out-of-range threshold stops the command naming the setting."""
    stdin = partial_copy()
    found = {}
    for threshold in ("0.6", "0.9"):
        result = cli("dedup", stdin=stdin, env={"INGEST_DEDUP_CONTAINMENT": threshold})
        assert result.returncode == 0, result.stderr.decode()
        found[threshold] = lines(result.stdout)[1]["duplicate_of"]
    assert found == {"0.6": "a", "0.9": None}
    refused = cli("dedup", stdin=stdin, env={"INGEST_DEDUP_CONTAINMENT": "1.5"}, timeout=60)
    assert refused.returncode != 0
    assert "INGEST_DEDUP_CONTAINMENT: must be <= 1.0" in refused.stderr.decode()


def test_the_dedup_module_entry_point_is_the_dedup_command() -> None:
    """``python -m worker.dedup.offline`` kept its own defaults and ignored the settings; it
    now runs ``ingest-worker dedup``, its older flag names mapped onto the settings' flags."""
    result = subprocess.run(
        [sys.executable, "-m", "worker.dedup.offline", "--backend=memory", "--key-prefix", "t:"],
        input=partial_copy(),
        capture_output=True,
        timeout=120,
        env={**os.environ, "INGEST_DEDUP_CONTAINMENT": "0.9"},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert lines(result.stdout) == [
        {"id": "a", "duplicate_of": None},
        {"id": "b", "duplicate_of": None},
    ]


def test_misspelt_setting_names_the_closest_one(tmp_path: Path) -> None:
    """A typo was silently ignored; a ``*_FILE`` secret is a known name."""
    secret = tmp_path / "password"
    secret.write_text("s3cret")
    env = {"INGEST_SITE_WINDOW": "8", "INGEST_SASL_PASSWORD_FILE": str(secret)}
    result = cli("dedup", stdin=b"", env=env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    warnings = [line for line in result.stderr.decode().splitlines() if "warning" in line]
    assert warnings == [
        "ingest-worker: warning: INGEST_SITE_WINDOW is not a setting and is ignored "
        "(did you mean INGEST_SITE_WINDOW_PAGES?)"
    ]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("kafka:9092", ("kafka", 9092)),
        ("PLAINTEXT://broker.example:19092", ("broker.example", 19092)),
        ("[::1]:9094", ("::1", 9094)),
        ("localhost", ("localhost", 9092)),
    ],
)
def test_bootstrap_addresses_are_read_as_kafka_clients_read_them(
    address: str, expected: tuple[str, int]
) -> None:
    from worker.kafka_io import split_address

    assert split_address(address) == expected
