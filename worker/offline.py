"""``ingest-worker extract``: the worker's pipeline over files, no broker.

Every input record gives exactly one output line, in input order: the article
record for published pages and duplicates, or ``{"id", "text": "", "status",
"reason"}`` for skips and dead letters. ``id`` is the input's own id when it
has one (so callers can join on it), else the article id.

Site templates are learnt across the input's records in order, exactly as the worker
does. With cold start "republish" a page may be improved by later pages of its site: while
its line is among the last ``REVISE_WINDOW`` not yet written, the line is updated in place;
after that the improved version follows as an extra line with the same ``id`` and status
``revised`` (like the worker's re-publication under the same key: the last line of an id is
its final version). A canonical taken over by a copy fetched earlier (``dedup.race``) is
corrected the same way: its line, still unwritten, becomes a ``duplicate`` with the
correction's ``dedup``; else a line with status ``corrected`` follows.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Sequence
from typing import BinaryIO

import orjson

from worker.config import Settings
from worker.model import Origin
from worker.pipeline import Outcome, build_stages, process
from worker.sources import read_messages

REVISE_WINDOW = 1000  # output lines kept back so revisions can still replace them
REVISED = ("text", "word_count", "content_hash", "processed_at", "extraction")  # what changes
WITH_RECORD = ("published", "duplicate", "revised", "corrected")  # lines that are articles


def extract_files(inputs: Sequence[str], output: str, settings: Settings) -> int:
    stages = build_stages(settings)
    out: BinaryIO = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
    # lines not yet written, and of those the articles' by input position (a revision's
    # provenance offset: keys may be shared, e.g. by pages with the same canonical URL)
    pending: deque[tuple[int, dict]] = deque()
    unwritten: dict[int, dict] = {}
    racing = settings.dedup_race_window_s > 0  # a canonical's line may still be corrected
    window = REVISE_WINDOW if stages.templates is not None or racing else 0
    try:
        for index, msg in enumerate(read_messages(inputs, stdin=sys.stdin.buffer)):
            outcome = process(msg.value, msg.headers, msg.key, Origin(offset=index), stages)
            if outcome.reservation is not None:  # written below: nothing to wait for
                stages.deduper.confirm([outcome.reservation])
            for revision in outcome.revisions:
                record = orjson.loads(revision.value or b"{}")
                line = unwritten.get(record.get("provenance", {}).get("offset", -1))
                if line is None:
                    out.write(orjson.dumps(output_line(revision)) + b"\n")
                elif revision.kind == "corrected":
                    line.update(dedup=record["dedup"], status="duplicate")
                else:
                    line.update({k: record[k] for k in REVISED if k in record})
            pending.append((index, output_line(outcome)))
            if outcome.kind in ("published", "duplicate"):
                unwritten[index] = pending[-1][1]
            while len(pending) > window:
                write_oldest(out, pending, unwritten)
            out.flush()
        while pending:
            write_oldest(out, pending, unwritten)
    finally:
        stages.deduper.close()
        if stages.templates is not None:
            stages.templates.save()  # a no-op besides expiry unless INGEST_SITE_SNAPSHOT is set
        if out is not sys.stdout.buffer:
            out.close()
    return 0


def write_oldest(
    out: BinaryIO, pending: deque[tuple[int, dict]], unwritten: dict[int, dict]
) -> None:
    index, line = pending.popleft()
    unwritten.pop(index, None)
    out.write(orjson.dumps(line) + b"\n")


def output_line(outcome: Outcome) -> dict:
    own_id = outcome.record_id
    seconds = round(sum(outcome.timings.values()), 6)
    if outcome.kind in WITH_RECORD and outcome.value is not None:
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
