"""The earliest copy is canonical when copies race: the rule, as pure functions.

Copies of a story reach the worker in the order partitions happen to be read, not the
order they were fetched. A copy is *fetched* at its record's ``fetched_at`` (the crawler's
clock), or, without one, at its Kafka record timestamp; a ``fetched_at`` later than that
timestamp (or the worker's clock, without one) plus ``MAX_SKEW_S`` is not believed and
counts as that bound. Published dates (``published_at``) play no part: sites set them by
hand, and a syndicated copy usually carries the original's.

A copy *takes over* the canonical when all of these hold:

* it is a copy (exact or near) of the canonical and the first version of its own page;
* both fetch times are known and the copy's is strictly earlier (ties keep the first seen);
* it arrives within ``window_s`` of the canonical's arrival (the worker's, or Redis', clock);
* the canonical is its page's only version, published ``new`` (never an update's page).

The copy is then published ``new`` under the canonical's ``cluster_id``, and the canonical
is published again under its own key as the copy's ``near_duplicate`` (a correction).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

MAX_SKEW_S = 300.0  # how far past the record's timestamp (or now) a fetched_at is believed
WINDOW_S = 3600.0  # the default race window (INGEST_DEDUP_RACE_WINDOW_S)
KEPT_OUTPUTS = 50_000  # published canonicals the in-process index keeps for corrections


def parse_time(value: str | None) -> float | None:
    """An ISO 8601 time as epoch seconds (no zone: UTC); None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    seconds = parsed.timestamp()
    return seconds if math.isfinite(seconds) else None


def fetch_time(fetched_at: str | None, timestamp_ms: int | None, now: float) -> float | None:
    """When a record's page was fetched, in epoch seconds, bounded against clock skew.

    ``fetched_at`` when readable, at most ``MAX_SKEW_S`` past the record's timestamp
    (``timestamp_ms``; ``now`` when there is none); else the record's timestamp; else None
    (unknown: the record neither takes over nor is taken over)."""
    stamp = timestamp_ms / 1000 if timestamp_ms is not None and timestamp_ms > 0 else None
    claimed = parse_time(fetched_at)
    if claimed is None:
        return stamp
    return min(claimed, (now if stamp is None else stamp) + MAX_SKEW_S)


def takes_over(
    copy_fetched: float | None,
    canonical_fetched: float | None,
    arrived: float,
    canonical_arrived: float,
    window_s: float,
) -> bool:
    """Whether a copy fetched at ``copy_fetched`` and arriving at ``arrived`` replaces the
    canonical (the other conditions, copy and only version, are the caller's)."""
    if copy_fetched is None or canonical_fetched is None or window_s <= 0:
        return False
    return copy_fetched < canonical_fetched and arrived - canonical_arrived <= window_s
