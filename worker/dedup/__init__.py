"""The dedupe stage: decide whether an article's text was already published.

A deduper checks and records in one step (``check``), so that two workers
sharing an index cannot both decide "new" for the same story. The first copy
seen is canonical. Per page id it keeps the latest versions (``pages``): a record
read again at the same origin (a replay after a crash) gets the same verdict again,
never a duplicate of itself; a recrawl with the same extracted text is
``unchanged``, a changed one a new version (``updated``).

What ``check`` stores is reserved until the caller knows the output's fate: it
calls ``confirm`` with the verdicts' ``reservation`` once the broker acknowledged
them, ``release`` when the output will not be published (the version is then
forgotten, so no copy is ever marked a duplicate of an id never published).

When copies race, the earliest-fetched is canonical (``race``): a copy fetched earlier
than the canonical it matches, arriving within the race window, takes its place; its
verdict is ``new`` with a ``correction`` holding the demoted canonical's output, which the
caller publishes again as a duplicate. For that the caller hands each output published
``new`` to ``keep_output``. Releasing a takeover's reservation restores the canonical.

Pipeline: normalise -> exact hash -> MinHash LSH candidates -> containment
verification (``verify.decide``, shared by both index backends).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from worker.model import DedupVerdict, Reservation, Sighting, TransientError

if TYPE_CHECKING:
    import numpy as np

# The index's defaults, here once: the settings (``INGEST_DEDUP_*``, ``INGEST_REDIS_*``),
# ``make_deduper`` and the benchmarks take them from here.
BACKENDS = ("memory", "redis")  # the first is the default
WINDOW_S = 7 * 86400.0  # how long a story stays in the index
MAX_DOCS = 1_000_000  # most stories the in-process index holds
KEY_PREFIX = "ingest:dedup:"  # of every Redis key of the shared index
REDIS_URL = "redis://127.0.0.1:6379/0"
BUCKET_BITS = 16  # the Redis index has 2**bits buckets per epoch


class NotDurable(TransientError):
    """The store took a settlement (``confirm``/``release``) but cannot promise to keep it
    yet: the batch's offsets wait, as committing them would let a crash forget what the
    committed records were deduplicated against."""


class Deduper(Protocol):
    def check(
        self,
        doc_id: str,
        text: str,
        tokens: np.ndarray | None = None,
        sighting: Sighting | None = None,
    ) -> DedupVerdict: ...

    def keep_output(self, reservation: Reservation, topic: str | None, value: bytes) -> None: ...

    def confirm(self, reservations: list[Reservation]) -> None: ...

    def release(self, reservations: list[Reservation]) -> None: ...

    def close(self) -> None: ...


def make_deduper(
    backend: str = BACKENDS[0],
    *,
    redis_url: str | None = None,
    key_prefix: str = KEY_PREFIX,
    window_s: float = WINDOW_S,
    max_docs: int = MAX_DOCS,
    snapshot_path: str | None = None,
    redis_bucket_bits: int = BUCKET_BITS,
    containment: float | None = None,
    race_window_s: float | None = None,
) -> Deduper:
    """A deduper on the in-process index (``memory``) or the shared one (``redis``).

    ``window_s`` is how long a story stays in either index; ``max_docs``/``snapshot_path``
    bound and persist the in-process one; ``key_prefix``/``redis_bucket_bits`` apply to
    Redis (size the buckets as ``RedisDeduper`` says). ``containment`` is the near-duplicate
    threshold (``INGEST_DEDUP_CONTAINMENT``; None: ``verify.CONTAINMENT``); ``race_window_s``
    the race window (``INGEST_DEDUP_RACE_WINDOW_S``; None: ``race.WINDOW_S``).
    """
    from worker.dedup.race import WINDOW_S
    from worker.dedup.verify import Thresholds

    race_window = WINDOW_S if race_window_s is None else race_window_s
    thresholds = Thresholds() if containment is None else Thresholds(containment=containment)
    if backend == "memory":
        from worker.dedup.memory import MemoryDeduper

        return MemoryDeduper(
            window_s=window_s,
            max_docs=max_docs,
            thresholds=thresholds,
            snapshot_path=snapshot_path,
            race_window_s=race_window,
        )
    if backend == "redis":
        from worker.dedup.redis_store import RedisDeduper

        return RedisDeduper(
            redis_url or REDIS_URL,
            key_prefix=key_prefix,
            ttl_s=int(window_s),
            bucket_bits=redis_bucket_bits,
            thresholds=thresholds,
            race_window_s=race_window,
        )
    raise ValueError(f"unknown dedup backend {backend!r}")
