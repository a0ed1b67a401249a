"""Prometheus checks: promtool on the config and rules, the rules' unit tests, and a real
Prometheus scraping a running worker, evaluating every dashboard and alert expression.

A Grafana dashboard or alert that names a metric the worker does not export, or that does
not parse, shows "No data" forever and never fires; only evaluating it against the real
exporter catches that.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.kit.kafka import Topics, WorkerProcess, http_get, produce, start_worker, wait_for
from tests.kit.pages import article_html
from tests.test_deploy import (
    DOCKERFILE,
    PROMETHEUS_DIR,
    alert_rules,
    dashboard_exprs,
    load_yaml,
    tool,
)
from worker.broker import free_port

# Grafana's macros, as Grafana would expand them for a short time range.
GRAFANA_MACROS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
_NAME = re.compile(r"\bingest_[a-zA-Z0-9_]+")
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def _run(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)


# --- promtool ------------------------------------------------------------------------------
def test_promtool_accepts_the_config_and_rules(tmp_path: Path) -> None:
    promtool = tool("promtool")
    checked = _run(promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout + checked.stderr
    rules = _run(promtool, "check", "rules", str(PROMETHEUS_DIR / "alerts.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    broken = tmp_path / "alerts.yml"
    broken.write_text((PROMETHEUS_DIR / "alerts.yml").read_text().replace("> 1000", "> > 1000"))
    assert _run(promtool, "check", "rules", str(broken)).returncode != 0


def test_alert_rules_pass_their_unit_tests() -> None:
    result = _run(tool("promtool"), "test", "rules", "alerts_test.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


# --- a worker and a Prometheus scraping it ---------------------------------------------------
@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    topics = Topics(f"deploy{uuid.uuid4().hex[:8]}", partitions=2)
    log = tmp_path_factory.mktemp("deploy-worker") / "worker.log"
    proc = start_worker(topics.env(kafka_bootstrap), log)
    try:
        yield proc, topics
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def prometheus(
    worker: tuple[WorkerProcess, Topics], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """Prometheus with the repository's config, the worker job pointed at the test worker."""
    binary = tool("prometheus")
    proc_worker, _ = worker
    workdir = tmp_path_factory.mktemp("prometheus")
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "ingest-worker"]
    del job["dns_sd_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{proc_worker.port}"]}]
    config["scrape_configs"] = [job]
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(PROMETHEUS_DIR / f) for f in config["rule_files"]]
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    out = open(workdir / "prometheus.log", "wb")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _ready(port) or proc.poll() is not None, 60, "Prometheus ready")
        if proc.poll() is not None:
            pytest.fail((workdir / "prometheus.log").read_text()[-3000:])
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def _ready(port: int) -> bool:
    try:
        return http_get(port, "/-/ready")[0] == 200
    except OSError:
        return False


def _api(port: int, path: str, **params: str) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _values(port: int, expr: str) -> list[float]:
    status, body = _api(port, "/api/v1/query", query=expr)
    assert status == 200, body
    return [float(r["value"][1]) for r in body["data"]["result"]]


def _pages() -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    def page(url: str, seed: int, status: int = 200) -> bytes:
        return orjson.dumps({"url": url, "html": article_html(seed), "status": status})

    return [
        (b"a.example", page("https://a.example/one", 1), []),
        (b"b.example", page("https://b.example/two", 2), []),
        (b"c.example", page("https://c.example/three", 3), []),
        (b"a.example", page("https://a.example/one", 1), []),  # exact duplicate
        (b"a.example", page("https://a.example/gone", 4, status=404), []),  # skipped
        (b"bad", b'{"url": "https://bad.example/", "html": ', []),  # dead-lettered
    ]


@pytest.fixture(scope="module")
def scraped(kafka_bootstrap: str, worker: tuple[WorkerProcess, Topics], prometheus: int) -> int:
    """Prometheus once it has scraped the worker before and after it processed pages."""
    proc_worker, topics = worker
    wait_for(lambda: _values(prometheus, 'up{job="ingest-worker"}') == [1.0], 60, "first scrape")
    sent = produce(kafka_bootstrap, topics.input, _pages())
    wait_for(
        lambda: proc_worker.metrics().get("ingest_records_consumed_total") == sent,
        90,
        "the worker to process every page",
    )
    wait_for(
        lambda: _values(prometheus, "sum(ingest_records_consumed_total)") == [float(sent)],
        60,
        "Prometheus to scrape the processed counts",
    )
    wait_for(
        lambda: _finite(
            _values(prometheus, _quantile("ingest_end_to_end_latency_seconds", "0.95"))
        ),
        60,
        "a rate over two scrapes",
    )
    return prometheus


def _quantile(histogram: str, q: str, by: str = "le") -> str:
    return f"histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket[1m])))"


def _finite(values: list[float]) -> bool:
    return bool(values) and all(math.isfinite(v) for v in values)


def _expand(expr: str) -> str:
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    assert "$" not in expr, f"unexpanded Grafana variable in {expr!r}"
    return expr


def _exported_names(exposition: str) -> set[str]:
    """Every series name the worker can export, including families with no sample yet."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split()
            base = family.removesuffix("_total") if kind == "counter" else family
            names.update(base + suffix for suffix in _SUFFIXES.get(kind, ("",)))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


@pytest.mark.integration
def test_every_dashboard_and_alert_expression_evaluates(scraped: int) -> None:
    exprs = [*dashboard_exprs(), *(rule["expr"] for rule in alert_rules())]
    failures = {}
    for expr in exprs:
        status, body = _api(scraped, "/api/v1/query", query=_expand(expr))
        if status != 200 or body.get("status") != "success":
            failures[expr] = body.get("error", status)
    assert not failures, json.dumps(failures, indent=2)


@pytest.mark.integration
def test_queries_name_only_metrics_the_worker_exports(
    scraped: int, worker: tuple[WorkerProcess, Topics]
) -> None:
    proc_worker, _ = worker
    exported = _exported_names(http_get(proc_worker.port, "/metrics")[1])
    exprs = [*dashboard_exprs(), *(rule["expr"] for rule in alert_rules())]
    named = {name for expr in exprs for name in _NAME.findall(expr)}
    assert named, "the dashboard and alerts should use the worker's metrics"
    assert not named - exported, f"not exported by the worker: {sorted(named - exported)}"
    # The scrape went through: the dashboard's headline numbers come back from Prometheus.
    assert _values(scraped, 'count(up{job="ingest-worker"} == 1)') == [1.0]
    assert _finite(_values(scraped, _quantile("ingest_end_to_end_latency_seconds", "0.99")))
    by_stage = _quantile("ingest_stage_duration_seconds", "0.5", by="le, stage")
    body = _api(scraped, "/api/v1/query", query=by_stage)[1]
    stages = {r["metric"]["stage"] for r in body["data"]["result"]}
    assert {"decode", "extract", "dedupe", "publish"} <= stages


@pytest.mark.integration
def test_alert_rules_load_and_evaluate_without_errors(scraped: int) -> None:
    def rules() -> list[dict[str, Any]]:
        body = _api(scraped, "/api/v1/rules")[1]
        return [r for g in body["data"]["groups"] for r in g["rules"]]

    wait_for(
        lambda: rules() and all(r["lastEvaluation"][:4] != "0001" for r in rules()),
        30,
        "every rule evaluated once",
    )
    loaded = rules()
    assert {r["name"] for r in loaded} == {r["alert"] for r in alert_rules()}
    unhealthy = {r["name"]: r.get("lastError") for r in loaded if r["health"] != "ok"}
    assert not unhealthy, unhealthy
    # A healthy single worker with live metrics: neither "down" alert is even pending.
    active = {r["name"] for r in loaded if r["state"] != "inactive"}
    assert not active & {"IngestWorkerDown", "IngestNoWorkers"}, active


def _healthcheck_code() -> str:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    (line,) = [line for line in text.splitlines() if line.startswith("HEALTHCHECK")]
    command = json.loads(line.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    return command[2]


@pytest.mark.integration
def test_image_healthcheck_command_probes_the_worker(worker: tuple[WorkerProcess, Topics]) -> None:
    proc_worker, _ = worker
    code = _healthcheck_code()

    def probe(port: int) -> int:
        env = {"INGEST_METRICS_PORT": str(port), "PATH": "/usr/bin:/bin"}
        return subprocess.run([sys.executable, "-c", code], env=env, timeout=30).returncode

    assert probe(proc_worker.port) == 0
    assert probe(free_port()) != 0, "nothing listens there: the check must fail"
