"""State that survives a SIGKILL with no extra service: the dedupe changelog, wired up.

The memory backend's index lives in the process. ``DedupState`` keeps it in Kafka too
(``worker/dedup/changelog.py``): before a batch's offsets are committed, the rows of
every dedupe decision the batch published are written to the changelog topic and
acknowledged; a worker that starts rebuilds its index from the topic's recent window
before it joins the consumer group, then keeps applying the rows other workers write.

What workers on the memory backend share: everything written before one of them starts
(so a restarted or newly scaled worker knows every story any of them published within
the window), and afterwards each other's rows a poll later (between batches). Two copies
of one story processed by two workers within that gap are both published as new: only
Redis shares the index atomically.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from kafka import TopicPartition

from worker import kafka_io
from worker.config import Settings, dedup_changelog_topic
from worker.dedup import changelog
from worker.logs import get_logger
from worker.pipeline import Outcome

log = get_logger("worker.state")


class DedupState:
    def __init__(self, settings: Settings, deduper: Any, producer: Any, topic: str) -> None:
        self.settings, self.deduper, self.topic = settings, deduper, topic
        self.writer_id = uuid.uuid4().hex
        self.writer = changelog.ChangelogWriter(producer, topic, self.writer_id)
        self.follower: changelog.Follower | None = None

    @kafka_io.kafka_retry  # a broker away at start-up: read it all again, from scratch
    def restore(self) -> changelog.ReadStats:
        """Rebuild the index from the changelog's window (replacing a loaded snapshot when
        the changelog has rows), then follow it."""
        self.close()
        consumer = kafka_io.plain_consumer(self.settings)
        self.follower = changelog.Follower(
            consumer,
            self.topic,
            self.deduper.apply_entries,
            own_writer=self.writer_id,
            on_unreadable=lambda error: log.warning("dedup_changelog_unreadable", error=error),
        )
        since_ms = int((time.time() - self.settings.dedup_window_s) * 1000)
        t0 = time.monotonic()
        if _holds_rows(consumer, self.topic):
            self.deduper.clear_index()
        stats = self.follower.catch_up(since_ms)
        log.info(
            "dedup_index_rebuilt",
            topic=self.topic,
            rows=stats.rows,
            messages=stats.messages,
            skipped_old=stats.skipped_old,
            unreadable=stats.unreadable,
            cpu_s=round(stats.seconds, 2),
            wall_s=round(time.monotonic() - t0, 2),
        )
        return stats

    def before_commit(self, outcomes: list[Outcome]) -> None:
        """Write the rows of the batch's published decisions and wait for the broker:
        raises ``ChangelogNotWritten`` (transient: the batch is retried, never committed)."""
        kept = [o.reservation for o in outcomes if o.reservation and o.kind != "dead_letter"]
        if kept:
            self.writer.write(self.deduper.export_entries(kept))

    def follow(self) -> int:
        """Apply what other workers wrote since (non-blocking); returns the rows applied."""
        if self.follower is not None:
            try:
                return self.follower.poll()
            except Exception as exc:  # noqa: BLE001 - live sharing is best effort
                log.warning("dedup_changelog_follow_failed", error=type(exc).__name__)
        return 0

    @property
    def rows_read(self) -> int:
        """Rows read from the changelog so far: the start-up window, then others' rows."""
        return self.follower.stats.rows if self.follower is not None else 0

    def close(self) -> None:
        if self.follower is not None:
            self.follower.close()
            self.follower = None


def _holds_rows(consumer: Any, topic: str) -> bool:
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    return bool(tps) and sum(consumer.end_offsets(tps).values()) > 0


def start(settings: Settings, deduper: Any, producer: Any) -> DedupState | None:
    """The dedupe state rebuilt and followed, or None (Redis backend, or changelog off)."""
    topic = dedup_changelog_topic(settings)
    if topic is None or not hasattr(deduper, "apply_entries"):
        return None
    state = DedupState(settings, deduper, producer, topic)
    state.restore()
    return state
