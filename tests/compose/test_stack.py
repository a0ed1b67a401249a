"""The docker-compose stack, built and run for real: `make test-compose` (tests/compose/run.sh)
prepares Docker, the images and the environment, then runs this module. The tests run in
file order on one stack: each step builds on the state the previous ones left.

Every client runs inside the compose network (the `probe` service of the test override);
the host reaches only the ports the override publishes on 127.0.0.1 (Prometheus, workers).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import shlex
import subprocess
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_deploy import alert_rules, dashboard_exprs
from tests.test_deploy_prometheus import GRAFANA_MACROS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = shlex.split(os.environ.get("COMPOSE", "docker compose"))
DATA = Path(os.environ.get("COMPOSE_TEST_DATA", REPO.parent / "shared" / "data"))
REAL_PAGES = 300
EXEMPT = ("kafka_consumergroup_lag",)  # only the kafka-exporter has it
STATE: dict[str, Any] = {}  # what one step leaves for the next


def compose(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*COMPOSE, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"compose {' '.join(args)}: {result.stderr[-4000:]}")
    return result


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr[-2000:]}")
    return result


def wait_for(predicate: Any, timeout: float, what: str, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


# --- the stack -----------------------------------------------------------------------------
def containers(service: str) -> list[str]:
    return compose("ps", "-q", service).stdout.split()


def host_port(container: str, port: int) -> int:
    out = docker("port", container, str(port)).stdout.split()[0]
    return int(out.rsplit(":", 1)[1])


def http(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def worker_metrics(container: str) -> dict[str, float]:
    status, body = http(host_port(container, 9108), "/metrics")
    if status != 200:
        return {}
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def prom(path: str, **params: Any) -> Any:
    port = STATE["prometheus_port"]
    query = urllib.parse.urlencode(params)
    status, body = http(port, f"/api/v1/{path}?{query}")
    reply = json.loads(body)
    assert status == 200 and reply["status"] == "success", (path, params, body[:500])
    return reply["data"]


def instant(expr: str, at: float | None = None) -> list[dict[str, Any]]:
    return prom("query", query=expr, **({"time": at} if at else {}))["result"]


# --- input ---------------------------------------------------------------------------------
def real_pages(start: int, count: int) -> list[dict[str, Any]]:
    """Real crawled pages (Dragnet benchmark) as feed envelopes, ``record_id`` = their id."""
    path = DATA / "dragnet" / "pages.jsonl.gz"
    if not path.exists():
        pytest.fail(f"{path} missing: set COMPOSE_TEST_DATA to the shared data folder")
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i >= start + count:
                break
            if i >= start:
                page = json.loads(line)
                out.append({"url": page["url"], "html": page["html"], "record_id": page["id"]})
    return out


def write_pages(name: str, pages: list[dict[str, Any]], broken: int = 0) -> str:
    """A JSON-lines file in the folder the probe mounts at /pages, plus ``broken`` lines
    cut short (dead letters); returns its path inside the container."""
    lines = [json.dumps(p) for p in pages]
    for i in range(broken):
        lines.append(json.dumps({"url": f"https://broken.example/{i}", "html": "<p>x"})[:25])
    (STATE["pages_dir"] / name).write_text("\n".join(lines) + "\n")
    return f"/pages/{name}"


def feed(*paths: str, rate: float = 0.0, detach: bool = False) -> str:
    args = ["run", "--rm", "-T"] + (["-d"] if detach else [])
    args += ["--entrypoint", "ingest-worker", "probe", "feed", "--quiet"]
    args += [*paths] + (["--rate", str(rate)] if rate else [])
    return compose(*args).stdout.strip()


def account(timeout: float = 300) -> dict[str, Any]:
    """Waits until the group committed every input; what became of each input, by record id."""
    out = compose("run", "--rm", "-T", "probe", "/probe/probe.py", str(timeout)).stdout
    report = json.loads(out)
    assert report["committed"], "the workers did not commit every input in time"
    by_source: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for o in report["outputs"]:
        by_source.setdefault(tuple(o["source"]), []).append(o)
    ends: dict[str, list[dict[str, Any]]] = {}
    for i in report["inputs"]:
        rid = i["rid"] or f"unparsable@{i['source'][0]}:{i['source'][1]}"
        ends.setdefault(rid, []).extend(by_source.get(tuple(i["source"]), []))
    return ends


def kinds(outputs: list[dict[str, Any]]) -> set[str]:
    return {o["where"] for o in outputs}


# --- the steps -----------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    pages = tmp_path_factory.mktemp("pages")
    pages.chmod(0o755)
    os.environ["COMPOSE_TEST_PAGES"] = str(pages)
    STATE["pages_dir"] = pages
    compose("down", "-v", "--remove-orphans")  # what an interrupted run left
    t0 = time.monotonic()
    try:
        compose("up", "-d", "--wait", timeout=900)
        print(f"\ncompose up --wait (images built): {time.monotonic() - t0:.1f} s")
        STATE["prometheus_port"] = host_port(containers("prometheus")[0], 9090)
        yield
    finally:
        tear_down()


def tear_down() -> None:
    """Logs kept for a failure's post-mortem, then `down -v`, which must leave nothing."""
    if not os.environ.get("COMPOSE_TEST_KEEP"):
        logs = compose("logs", "--no-color", "--tail", "300", check=False).stdout
        (STATE["pages_dir"] / "compose.log").write_text(logs)
        compose("down", "-v", "--remove-orphans", "--timeout", "20")
        project = os.environ.get("COMPOSE_PROJECT_NAME", "")
        label = f"label=com.docker.compose.project={project}"
        left = [
            docker("ps", "-aq", "--filter", label).stdout.split(),
            docker("volume", "ls", "-q", "--filter", label).stdout.split(),
            docker("network", "ls", "-q", "--filter", label).stdout.split(),
        ]
        assert left == [[], [], []], f"left behind by down -v: {left}"


def test_the_stack_comes_up_with_two_healthy_workers() -> None:
    workers = containers("worker")
    assert len(workers) == 2
    for c in workers:
        health = docker("inspect", "-f", "{{.State.Health.Status}}", c).stdout.strip()
        assert health == "healthy", c
    init = compose("ps", "-a", "--format", "json", "topic-init").stdout
    assert '"ExitCode":0' in init.replace(" ", ""), init


def test_samples_and_real_pages_come_out_as_expected() -> None:
    real = real_pages(0, REAL_PAGES)
    feed("/app/samples", write_pages("real.jsonl", real, broken=5))
    ends = account()
    # The bundled samples: three stories, a syndicated copy and a text rendering of two of
    # them (whichever of a pair the workers reach first is the original), a 404, a cut line.
    samples = {rid: kinds(o) for rid, o in ends.items() if rid.startswith("sample-")}
    assert samples["sample-3"] == {"published"}
    assert samples["sample-6-404"] == set()  # a counted skip: no output
    for pair in (("sample-1", "sample-4-syndicated"), ("sample-2", "sample-5-text")):
        assert sorted(k for rid in pair for k in samples[rid]) == ["duplicate", "published"]
    unparsable = [o for rid, o in ends.items() if rid.startswith("unparsable@")]
    assert len(unparsable) == 1 + 5  # the samples' cut line and ours
    for o in unparsable:
        assert kinds(o) == {"dead_letter"} and o[0]["reason"] == "malformed_json", o
    outcome = {p["record_id"]: ends.get(p["record_id"], []) for p in real}
    for rid, o in outcome.items():  # a revision (site templates) is published under its key
        assert len(kinds(o)) <= 1 and len({x["key"] for x in o}) <= 1, (rid, o)
    published = [rid for rid, o in outcome.items() if kinds(o) == {"published"}]
    counts = Counter(next(iter(kinds(o)), "skipped") for o in outcome.values())
    print(f"\n{REAL_PAGES} real pages: {dict(counts)}")
    assert len(published) >= 0.8 * REAL_PAGES, counts
    STATE["real"] = real
    STATE["real_outcome"] = {rid: (o[0] if o else None) for rid, o in outcome.items()}

    # Syndicated copies of published pages, on another site: each a duplicate of its original.
    originals = {p["record_id"]: p for p in real}
    copies = [
        {**originals[rid], "url": f"https://syndicator.example/c/{n}", "record_id": f"copy-{rid}"}
        for n, rid in enumerate(published[:30])
    ]
    feed(write_pages("copies.jsonl", copies))
    ends = account()
    for rid in published[:30]:
        (out,) = ends[f"copy-{rid}"]
        assert out["where"] == "duplicate", (rid, out)
        assert out["dedup"]["duplicate_of"] == STATE["real_outcome"][rid]["id"], (rid, out)


def test_both_workers_consume() -> None:
    for c in containers("worker"):
        assert worker_metrics(c).get("ingest_records_consumed_total", 0) > 0, c
        assert worker_metrics(c).get("ingest_assigned_partitions", 0) > 0, c


PW = "compose-test-pw"
REFUSALS = {
    # reply: (break, fix) as (password, redis-cli arguments) inside the redis container
    "NOAUTH": (
        [("", ["CONFIG", "SET", "requirepass", PW]), (PW, ["CLIENT", "KILL", "TYPE", "normal"])],
        [(PW, ["CONFIG", "SET", "requirepass", ""])],
    ),
    "DENIED": (
        [
            ("", ["CONFIG", "SET", "protected-mode", "yes"]),
            ("", ["CLIENT", "KILL", "TYPE", "normal"]),
        ],
        [("", ["CONFIG", "SET", "protected-mode", "no"])],
    ),
    "NOPERM": (
        [("", ["ACL", "SETUSER", "default", "-evalsha", "-eval"])],
        [("", ["ACL", "SETUSER", "default", "+@all"])],
    ),
}


def redis_cli(password: str, args: list[str]) -> None:
    auth = ["-a", password, "--no-auth-warning"] if password else []
    out = compose("exec", "-T", "redis", "redis-cli", *auth, *args).stdout
    assert not re.search(r"ERR|NOAUTH|WRONGPASS|NOPERM|DENIED", out), (args, out)


@pytest.mark.parametrize("reply", list(REFUSALS))
def test_a_refusing_redis_holds_the_batch_and_dead_letters_nothing(reply: str) -> None:
    """Protected mode, a password and an ACL: the stack's real Redis refuses the workers
    (another container, so protected mode applies), pages arrive meanwhile, the operator
    fixes it, and the pages come out as articles."""
    broken, fixed = REFUSALS[reply]
    pages = [
        {**p, "url": f"https://refused-{reply.lower()}.example/{i}", "record_id": f"{reply}-{i}"}
        for i, p in enumerate(real_pages(REAL_PAGES + 10 * list(REFUSALS).index(reply), 4))
    ]
    for password, args in broken:
        redis_cli(password, args)
    try:
        feed(write_pages(f"refused-{reply}.jsonl", pages))

        def one_held() -> bool:
            return any(
                http(host_port(c, 9108), "/readyz")[0] == 503
                and worker_metrics(c).get("ingest_dedup_store_up") == 0
                for c in containers("worker")
            )

        wait_for(one_held, 90, f"a worker not ready on {reply}")
        if not STATE.get("refused"):  # the alert's expression has data while it lasts
            wait_for(lambda: instant("ingest_dedup_store_up == 0"), 60, "Prometheus to see it")
            STATE["refused_at"] = time.time()
        logs = compose("logs", "--no-color", "--since", "5m", "worker").stdout
        assert f'"reply":"{reply}"' in logs and '"dedup_store_refused"' in logs, logs[-2000:]
    finally:
        for password, args in fixed:
            redis_cli(password, args)
    ends = account()
    for p in pages:  # real pages: some are near-copies of earlier ones
        assert kinds(ends[p["record_id"]]) in ({"published"}, {"duplicate"}), ends[p["record_id"]]
    for c in containers("worker"):
        wait_for(lambda c=c: http(host_port(c, 9108), "/readyz")[0] == 200, 60, "ready again")
    STATE.setdefault("refused", []).append(reply)


def test_a_killed_worker_under_load_loses_nothing() -> None:
    """Two copies of the real pages, each on 6 more sites (so on every partition; never two
    copies of a page on one site, which the site templates would learn as boilerplate), fed
    at a steady rate; one worker is SIGKILLed while it consumes them. Each copy must end as
    its original did (a duplicate where the original was published), at least once, under
    the same key when redone."""
    outcome = STATE["real_outcome"]
    load = []
    for copy in ("a", "b"):
        load += [
            {
                **p,
                "url": f"https://mirror-{copy}{n % 6}.example/{n}",
                "record_id": f"mirror-{copy}-{p['record_id']}",
            }
            for n, p in enumerate(STATE["real"])
        ]
    victim = containers("worker")[0]
    consumed = worker_metrics(victim).get("ingest_records_consumed_total", 0)
    feeder = feed(write_pages("load.jsonl", load), rate=60, detach=True)

    def victim_busy() -> bool:
        return worker_metrics(victim).get("ingest_records_consumed_total", 0) > consumed + 20

    wait_for(victim_busy, 30, "the victim to consume the load", every=0.2)
    running = docker("inspect", "-f", "{{.State.Running}}", feeder, check=False).stdout
    assert running.strip() == "true", "the load was fed before the kill: feed more or slower"
    docker("kill", victim)
    docker("wait", feeder)
    STATE["loaded_at"] = time.time()
    ends = account(timeout=300)
    repeats = 0
    for p in load:
        original = outcome[p["record_id"].split("-", 2)[2]]
        outs = ends[p["record_id"]]
        if original is None:
            want = set()  # skipped, as the original was
        else:
            want = {"dead_letter" if original["where"] == "dead_letter" else "duplicate"}
        assert kinds(outs) == want, (p["record_id"], outs, original)
        assert len({o["key"] for o in outs}) <= 1, outs
        repeats += max(0, len(outs) - 1)
    print(f"\nkill under load: {len(load)} inputs, {repeats} redone after the kill")
    compose("up", "-d", "--wait", "worker")  # the stack as it was (restart policy or not)
    assert len(containers("worker")) == 2


def test_scaling_to_three_workers_rebalances_the_partitions() -> None:
    before = containers("worker")
    t0 = time.monotonic()
    compose("up", "-d", "--no-recreate", "--scale", "worker=3")
    workers = containers("worker")
    assert len(workers) == 3
    new = sorted(set(workers) - set(before))[0]
    port = host_port(new, 9108)
    wait_for(lambda: http(port, "/healthz")[0] == 200, 120, "the new replica", every=0.1)
    healthy = time.monotonic() - t0
    wait_for(lambda: http(port, "/readyz")[0] == 200, 120, "the new replica ready", every=0.1)
    ready = time.monotonic() - t0
    print(f"\nnew replica: /healthz after {healthy:.1f} s, /readyz after {ready:.1f} s")

    def balanced() -> list[float] | None:
        owned = [worker_metrics(c).get("ingest_assigned_partitions", 0) for c in workers]
        return owned if sum(owned) == 6 and all(n > 0 for n in owned) else None

    print(f"\npartitions per worker after scaling: {wait_for(balanced, 120, 'a rebalance')}")

    def three_up() -> bool:
        return len(instant('up{job="ingest-worker"} == 1')) == 3

    wait_for(three_up, 90, "Prometheus to scrape all three replicas")


def _expand(expr: str) -> str:
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    return expr


def _has_data(result: list[dict[str, Any]]) -> bool:
    return any(not math.isnan(float(r["value"][1])) for r in result)


def test_prometheus_evaluates_every_dashboard_and_alert_expression_with_data() -> None:
    rules = [r for g in prom("rules")["groups"] for r in g["rules"]]
    assert len(rules) == len(alert_rules()) and all(r["health"] == "ok" for r in rules), rules
    times = [STATE["loaded_at"], time.time()]
    empty = []
    for expr in dashboard_exprs():
        if any(name in expr for name in EXEMPT):
            continue
        query = _expand(expr)
        if not any(_has_data(instant(query, at)) for at in times):
            empty.append(query)
    assert not empty, f"dashboard queries without data: {empty}"
    for rule in alert_rules():
        expr = rule["expr"]
        for at in times:
            instant(expr, at)  # evaluates
        # Any series of each metric during the run: a counter lives in the worker that
        # counted (the one killed above may have held every dead letter so far).
        for name in set(re.findall(r"\b(ingest_\w+|up)\b(?=[{\[\s)]|$)", expr)):
            found = instant(f"count(last_over_time({name}[1h]))")
            assert found, f"{rule['alert']}: no series of {name}"
    assert instant("ingest_dedup_store_up == 0", STATE["refused_at"]), "IngestDedupStoreDown"
