"""Offline dedup over JSON lines, with the worker's own deduper.

Input lines ``{"id","ts","source","title","text"}`` in arrival order; output one
``{"id","duplicate_of"}`` line each (null when new), written as soon as decided.

    ingest-worker dedup [--dedup-backend memory|redis] [--dedup-containment 0.6] < stream.jsonl
    python -m worker.dedup.offline [--backend memory|redis] < stream.jsonl  (the same)
"""

from __future__ import annotations

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


if __name__ == "__main__":  # the older entry point: ``ingest-worker dedup`` (worker.cli)
    from worker.cli import dedup_module_main

    raise SystemExit(dedup_module_main())
