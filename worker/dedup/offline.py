"""Offline dedup over JSON lines, with the worker's own deduper.

Input lines ``{"id","ts","source","title","text"}`` in arrival order; output one
``{"id","duplicate_of"}`` line each (null when new), written as soon as decided.

    ingest-worker dedup [--dedup-backend memory|redis] [--dedup-containment 0.6] < stream.jsonl
    python -m worker.dedup.offline [--backend memory|redis] < stream.jsonl  (the same)
"""

from __future__ import annotations

import sys
from typing import BinaryIO

import orjson

from worker.dedup import Deduper


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


# This module's older flag names, and the settings they stand for.
OLD_FLAGS = {
    "--backend": "--dedup-backend",
    "--key-prefix": "--redis-key-prefix",
    "--snapshot": "--dedup-snapshot",
}


def main(argv: list[str] | None = None) -> int:
    """``ingest-worker dedup`` over stdin: its settings (``INGEST_*`` variables, flags) give
    every default, so this entry point keeps none of its own; the older flags still work."""
    from worker.cli import main as cli_main

    args = sys.argv[1:] if argv is None else argv
    return cli_main(["dedup", *map(new_flag, args)])


def new_flag(arg: str) -> str:
    name, eq, value = arg.partition("=")
    return OLD_FLAGS.get(name, name) + eq + value


if __name__ == "__main__":
    raise SystemExit(main())
