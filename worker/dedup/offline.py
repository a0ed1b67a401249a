"""Offline dedup over JSON lines, with the worker's own deduper.

Input lines ``{"id","ts","source","title","text"}`` in arrival order; output one
``{"id","duplicate_of"}`` line each (null when new), written as soon as decided. The
earliest copy is canonical as in the worker (``race``; fetch time: ``fetched_at``, else
``ts``): when a copy fetched earlier takes a canonical's place, the canonical's
correction follows as ``{"id","duplicate_of","corrected": true}`` (an id's last line is
its final verdict).

    ingest-worker dedup [--dedup-backend memory|redis] [--dedup-containment 0.6] < stream.jsonl
    python -m worker.dedup.offline [--backend memory|redis] < stream.jsonl  (the same)
"""

from __future__ import annotations

import time
from typing import BinaryIO

import orjson

from worker.dedup import Deduper, pages, race
from worker.model import Sighting


def run_offline(inp: BinaryIO, out: BinaryIO, deduper: Deduper) -> int:
    """Decide every line of ``inp`` in order; returns the number of documents."""
    count = 0
    for line in inp:
        if not line.strip():
            continue
        doc = orjson.loads(line)
        doc_id, text = str(doc["id"]), doc.get("text") or ""
        seen = pages.default_sighting(doc_id, text)
        claimed = doc.get("fetched_at") or doc.get("ts")
        fetched = race.fetch_time(claimed if isinstance(claimed, str) else None, None, time.time())
        verdict = deduper.check(
            doc_id, text, None, Sighting(seen.origin, seen.raw_hash, seen.content_hash, fetched)
        )
        if verdict.reservation is not None:  # written at once: nothing to wait for
            if verdict.status == "new":  # what a correction would publish again: the id
                deduper.keep_output(verdict.reservation, None, orjson.dumps(doc["id"]))
            deduper.confirm([verdict.reservation])
        out.write(orjson.dumps({"id": doc["id"], "duplicate_of": verdict.duplicate_of}) + b"\n")
        if verdict.correction is not None:
            taken = orjson.loads(verdict.correction.value)
            line = {"id": taken, "duplicate_of": doc["id"], "corrected": True}
            out.write(orjson.dumps(line) + b"\n")
        count += 1
    out.flush()
    return count


if __name__ == "__main__":  # the older entry point: ``ingest-worker dedup`` (worker.cli)
    from worker.cli import dedup_module_main

    raise SystemExit(dedup_module_main())
