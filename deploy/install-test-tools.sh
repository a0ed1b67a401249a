#!/usr/bin/env bash
# Installs the deployment checks' tools that are not Python packages: promtool and the
# prometheus server, from Debian's `prometheus` package. Quick no-op when both are present.
# (hadolint and check-jsonschema come with the Python dev extras.)
#
# The package would start and enable a system Prometheus on port 9090; the tests run their
# own on a free loopback port, so the service is kept from starting and left disabled.
set -euo pipefail

have_tools() { command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; }

if have_tools; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "install-test-tools: promtool/prometheus missing and no root apt-get here;" \
        "install Prometheus 2.x yourself (the deployment tests skip without it)" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
    # invoke-rc.d and deb-systemd-invoke ask this script whether they may start a service:
    # 101 = no. Only ours is removed afterwards.
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

install() { apt-get install -y -q --no-install-recommends prometheus >/dev/null; }
if ! install; then
    apt-get update -q >/dev/null
    install
fi

# Not at boot either, and stopped if anything started it anyway.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
else
    if command -v deb-systemd-helper >/dev/null 2>&1; then
        deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then
        update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
    # The init script stops only the process in its pid file (user prometheus).
    if [ -f /run/prometheus/prometheus.pid ] && [ -x /etc/init.d/prometheus ]; then
        /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
fi

have_tools
echo "install-test-tools: $(promtool --version 2>&1 | head -n 1)"
