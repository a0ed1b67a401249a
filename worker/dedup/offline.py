"""Offline dedup over JSON lines, with the worker's own deduper.

Input lines ``{"id","ts","source","title","text"}`` in arrival order; output one
``{"id","duplicate_of"}`` line each (null when new), written as soon as decided.

    python -m worker.dedup.offline [--backend memory|redis] < stream.jsonl
"""

from __future__ import annotations

import argparse
import sys
from typing import BinaryIO

import orjson

from worker.dedup import Deduper, make_deduper


def run_offline(inp: BinaryIO, out: BinaryIO, deduper: Deduper) -> int:
    """Decide every line of ``inp`` in order; returns the number of documents."""
    count = 0
    for line in inp:
        if not line.strip():
            continue
        doc = orjson.loads(line)
        verdict = deduper.check(str(doc["id"]), doc.get("text") or "")
        if verdict.reservation is not None:  # written at once: nothing to wait for
            deduper.confirm([verdict.reservation])
        out.write(orjson.dumps({"id": doc["id"], "duplicate_of": verdict.duplicate_of}) + b"\n")
        count += 1
    out.flush()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("memory", "redis"), default="memory")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--key-prefix", default="ingest:dedup:")
    parser.add_argument("--snapshot", help="memory backend: load from and save to this file")
    args = parser.parse_args(argv)
    deduper = make_deduper(
        args.backend,
        redis_url=args.redis_url,
        key_prefix=args.key_prefix,
        snapshot_path=args.snapshot,
    )
    try:
        run_offline(sys.stdin.buffer, sys.stdout.buffer, deduper)
    finally:
        deduper.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
