"""The dedupe stage: decide whether an article's text was already published.

A deduper checks and records in one step (``check``), so that two workers
sharing an index cannot both decide "new" for the same story. The first copy
seen is canonical; a record seen again under its own id (a replay after a
crash) is "new" again with the same cluster, never a duplicate of itself.
"""

from __future__ import annotations

from typing import Protocol

from worker.records import DedupVerdict


class Deduper(Protocol):
    def check(self, doc_id: str, text: str) -> DedupVerdict: ...

    def close(self) -> None: ...
