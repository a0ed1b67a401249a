"""``ingest-worker extract``: the worker's pipeline over files, no broker.

Every input record gives exactly one output line, in input order: the article
record for published pages and duplicates, or ``{"id", "text": "", "status",
"reason"}`` for skips and dead letters. ``id`` is the input's own id when it
has one (so callers can join on it), else the article id.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import BinaryIO

import orjson

from worker.config import Settings
from worker.pipeline import Outcome, build_stages, process
from worker.records import Origin
from worker.sources import read_messages


def extract_files(inputs: Sequence[str], output: str, settings: Settings) -> int:
    stages = build_stages(settings)
    out: BinaryIO = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
    try:
        for index, msg in enumerate(read_messages(inputs, stdin=sys.stdin.buffer)):
            outcome = process(msg.value, msg.headers, msg.key, Origin(offset=index), stages)
            out.write(orjson.dumps(output_line(outcome)) + b"\n")
            out.flush()
    finally:
        stages.deduper.close()
        if out is not sys.stdout.buffer:
            out.close()
    return 0


def output_line(outcome: Outcome) -> dict:
    own_id = outcome.record_id
    seconds = round(sum(outcome.timings.values()), 6)
    if outcome.kind in ("published", "duplicate") and outcome.value is not None:
        record = orjson.loads(outcome.value)
        if own_id is not None:
            record["article_id"] = record["id"]
            record["id"] = own_id
        record["status"] = outcome.kind
        record["t"] = seconds
        return record
    return {
        "id": own_id,
        "text": "",
        "title": None,
        "status": outcome.kind,
        "reason": outcome.reason,
        "stage": outcome.stage,
        "t": seconds,
    }
