"""A batch's way from polled to committed, with one owner for publish -> ack -> commit.

At-least-once: a batch's offsets are committed only once every output of it is
acknowledged by the broker and dedupe has settled what it reserved for them. Every path
that ends a batch (the loop, a retry after an outage, a revoke, shutdown) goes through
``Checkpoint.complete``, and ``Offsets`` is the one caller of ``consumer.commit`` (the
attempts marks included), so there is one place to read how a batch is committed.

A batch moves through ``State`` one step at a time; the only step back is a publish
whose acknowledgements did not all come (``PUBLISHED`` -> ``FINISHED``: sent again on
retry). Any other move raises ``WrongState``: a bug, never an input's fault.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import (
    CommitFailedError,
    KafkaError,
    MessageSizeTooLargeError,
    RebalanceInProgressError,
)

from worker import attempts
from worker.config import Settings
from worker.dedup import Deduper, NotDurable
from worker.logs import get_logger
from worker.metrics import Metrics
from worker.model import Origin, Reservation
from worker.pipeline import Failed, Outcome, Prepared, failed_outcome
from worker.state import DedupState

log = get_logger("worker.checkpoint")

ACK_TIMEOUT_S = 130.0  # a little above the producer's delivery timeout
SETTLE_ON_EXIT_S = 10.0  # how long a leaving worker retries settling its reservations
# What kafka-python raises from send() for a record it cannot serialise (a header value
# that is not bytes, a key that does not encode): the record's fault, not the broker's.
UNSENDABLE = (TypeError, ValueError, UnicodeError, AssertionError)


class State(enum.IntEnum):
    POLLED = 1  # read from the input, its start marked (``attempts``)
    PREPARED = 2  # extracted (the pool's part); dedupe may still be owed
    FINISHED = 3  # every record has its outcome
    PUBLISHED = 4  # every output sent and flushed
    ACKED = 5  # every output acknowledged by the broker
    SETTLED = 6  # dedupe kept what was published, forgot what was not (or will, later)
    COMMITTED = 7  # the offsets after the batch committed (or the partitions moved on)


_BACK = {State.PUBLISHED: State.FINISHED}  # acknowledgements missing: send again


class WrongState(RuntimeError):
    """A batch asked to skip or repeat a step."""


@dataclass
class Batch:
    """Records polled but not yet committed, and how far along they are."""

    records: list[ConsumerRecord]
    given_up: bool = False  # its one record was started MAX_TRIES times without finishing
    state: State = State.POLLED
    prepared: list[Prepared | Failed] | None = None
    outcomes: list[Outcome] | None = None
    attempts: int = 0  # retries after a dependency failed
    retry_at: float = 0.0
    sent: list[tuple[int, Any]] = field(default_factory=list)  # (index, future)
    revisions: list[Any] = field(default_factory=list)  # futures; the first version stands

    def to(self, state: State) -> None:
        if state != self.state + 1 and state != _BACK.get(self.state):
            raise WrongState(f"batch cannot go from {self.state.name} to {state.name}")
        self.state = state

    def prepared_as(self, prepared: list[Prepared | Failed]) -> None:
        self.prepared = prepared
        self.to(State.PREPARED)

    def finished_as(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        self.to(State.FINISHED)

    def keeping(self, revoked: set[TopicPartition]) -> Batch | None:
        """What is left to redo after ``revoked`` went to another worker: the records of
        the partitions still ours, from the start (None: nothing)."""
        kept = [r for r in self.records if _tp(r) not in revoked]
        return Batch(kept) if kept else None


def _tp(record: ConsumerRecord) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


def origin_of(record: ConsumerRecord) -> Origin:
    return Origin(record.topic, record.partition, record.offset, record.timestamp)


@dataclass
class Offsets:
    """The consumer's committed offsets: the attempts mark before a batch starts, the
    next offset once it is done. Only partitions still assigned are committed."""

    consumer: Any
    keep_alive: Callable[[float], None]  # polls while waiting, so the group keeps us
    assigned: set[TopicPartition] = field(default_factory=set)
    marks: dict[TopicPartition, attempts.Mark] = field(default_factory=dict)
    fetched: set[TopicPartition] = field(default_factory=set)  # group's mark read

    def assign(self, assigned: set[TopicPartition]) -> None:
        self.assigned |= assigned

    def revoke(self, revoked: set[TopicPartition]) -> None:
        self.assigned -= revoked
        self.fetched -= revoked  # read the group's mark again if it comes back

    def begin(self, records: list[ConsumerRecord]) -> Batch:
        """Mark where each partition starts (``attempts``) before any work, so a batch that
        never finishes is narrowed down to its record, then given up, by whoever redoes it.
        While a partition is in careful mode the batch is that partition's one record; the
        rest of the poll is handed back."""
        by_tp: dict[TopicPartition, list[ConsumerRecord]] = {}
        for r in records:
            by_tp.setdefault(_tp(r), []).append(r)
        plans = {
            tp: attempts.plan(self.mark_of(tp), rs[0].offset, rs[-1].offset)
            for tp, rs in by_tp.items()
        }
        careful = next((tp for tp, (_, mode) in plans.items() if mode != "batch"), None)
        if careful is not None:
            for tp, rs in by_tp.items():  # hand back all but the careful partition's first
                rest = rs[1:] if tp == careful else rs
                if rest:
                    self.consumer.seek(tp, rest[0].offset)
            plans = {careful: plans[careful]}
            records = by_tp[careful][:1]
            mark, mode = plans[careful]
            log.warning(
                "careful_mode",
                topic=careful.topic,
                partition=careful.partition,
                offset=mark.offset,
                tries=mark.tries,
                until=mark.careful_until,
                give_up=mode == "give_up",
            )
        self._commit_marks({tp: mark for tp, (mark, _) in plans.items()})
        return Batch(records, given_up=careful is not None and plans[careful][1] == "give_up")

    def mark_of(self, tp: TopicPartition) -> attempts.Mark | None:
        """The group's mark for ``tp`` when first seen since assignment, merged with this
        process's own (a broker that drops commit metadata, as Tansu 0.6 does, keeps the
        count for as long as this process lives)."""
        if tp not in self.fetched:
            try:
                committed = self.consumer.committed(tp, metadata=True)
            except Exception as exc:  # noqa: BLE001 - unknown: count from what we know
                log.warning("committed_offset_unknown", error=type(exc).__name__)
                committed = None
            self.fetched.add(tp)
            group = None if committed is None else attempts.parse(*committed[:2])
            merged = attempts.merge(self.marks.get(tp), group)
            if merged is not None:
                self.marks[tp] = merged
        return self.marks.get(tp)

    def _commit_marks(self, marks: dict[TopicPartition, attempts.Mark]) -> None:
        for attempt in range(3):
            try:
                self._commit(marks)
                return
            except RebalanceInProgressError:  # a join round is on: let poll complete it
                self.keep_alive(0.1 * (attempt + 1))
            except (CommitFailedError, KafkaError) as exc:  # the batch itself will find out
                log.warning("attempt_mark_not_committed", error=type(exc).__name__)
                return
        log.warning("attempt_mark_not_committed", error="RebalanceInProgressError")

    def commit(self, records: list[ConsumerRecord]) -> None:
        """Commit past ``records`` (all finished). A rebalance that moved the partitions on
        is no error: the new owner redoes them."""
        marks = {_tp(r): attempts.finished(self.marks.get(_tp(r)), r.offset + 1) for r in records}
        try:
            self._commit(marks)
        except CommitFailedError:
            log.warning("commit_failed_rebalance", partitions=len(marks))

    def _commit(self, marks: dict[TopicPartition, attempts.Mark]) -> None:
        """The one ``consumer.commit``: the marks of the partitions still assigned, kept
        as this process's own once the group has them."""
        ours = {tp: m for tp, m in marks.items() if tp in self.assigned}
        if not ours:
            return
        offsets = {tp: OffsetAndMetadata(m.offset, m.metadata(), -1) for tp, m in ours.items()}
        self.consumer.commit(offsets)
        self.marks.update(ours)


@dataclass
class Settler:
    """Once every output is acknowledged, dedupe keeps what was published (or recorded with
    nothing to send) and forgets what ended as a dead letter instead. When the store does
    not answer the reservations are kept and settled with the next batch, or before
    leaving: unsettled, they hold other workers' copies back until they expire. A store
    that answers but cannot keep what it was told (``NotDurable``) holds the batch: its
    offsets are not committed until the settlement is kept."""

    deduper: Deduper
    metrics: Metrics
    unsettled: list[tuple[str, Reservation]] = field(default_factory=list)  # (kind, it)

    def settle(self, outcomes: list[Outcome]) -> None:
        held = self.unsettled + [
            (o.kind, o.reservation) for o in outcomes if o.reservation is not None
        ]
        if not held:
            return
        try:
            self.deduper.release([r for kind, r in held if kind == "dead_letter"])
            self.deduper.confirm([r for kind, r in held if kind != "dead_letter"])
            self.unsettled = []
        except NotDurable:
            raise  # the batch waits; ``unsettled`` keeps only earlier batches' reservations
        except Exception as exc:  # noqa: BLE001 - never fatal: settled again later
            self.unsettled = held
            self.metrics.errors.labels("dedup").inc()
            log.warning("dedup_not_settled", error=type(exc).__name__, pending=len(held))

    def before_leaving(self, within_s: float = SETTLE_ON_EXIT_S) -> None:
        deadline = time.monotonic() + within_s
        while self.unsettled and time.monotonic() < deadline:
            time.sleep(0.5)
            with contextlib.suppress(NotDurable):
                self.settle([])


@dataclass
class Checkpoint:
    """Publish a finished batch, wait for the broker's acks, settle dedupe, commit."""

    producer: Any
    offsets: Offsets
    settler: Settler
    settings: Settings
    metrics: Metrics
    dedup_state: DedupState | None = None  # the dedupe changelog (memory backend), if any

    def complete(self, batch: Batch) -> None:
        """Drive ``batch`` from where it is (``FINISHED`` or later) to ``COMMITTED``. A
        broker or store that fails leaves it at the last step done; call again to resume."""
        if batch.state < State.FINISHED:
            raise WrongState(f"batch not finished: {batch.state.name}")
        t0 = time.perf_counter()
        if batch.state == State.FINISHED:
            self._publish(batch)
        if batch.state == State.PUBLISHED:
            self._await_acks(batch)
            self.metrics.stage_seconds.labels("publish").observe(time.perf_counter() - t0)
        if batch.state == State.ACKED:
            assert batch.outcomes is not None
            if self.dedup_state is not None:  # acknowledged before the offsets move
                self.dedup_state.before_commit(batch.outcomes)
            self.settler.settle(batch.outcomes)
            batch.to(State.SETTLED)
        if batch.state == State.SETTLED:
            self.offsets.commit(batch.records)
            batch.to(State.COMMITTED)

    def _publish(self, batch: Batch) -> None:
        """Send every output (revisions of earlier pages after their record's); an output
        the client refuses goes out as a dead letter in its place."""
        assert batch.outcomes is not None
        batch.sent, batch.revisions = [], []
        for i, (record, outcome) in enumerate(zip(batch.records, batch.outcomes, strict=True)):
            for revision in outcome.revisions:
                if revision.kind == "corrected":
                    continue  # sent once this record's own output is acknowledged
                with contextlib.suppress(MessageSizeTooLargeError, *UNSENDABLE):
                    batch.revisions.append(self._send(revision))  # the first version stands
            if outcome.topic is None:
                continue
            try:
                batch.sent.append((i, self._send(outcome)))
            except MessageSizeTooLargeError:
                batch.outcomes[i] = self._in_place_of(record, outcome, "too_large_to_publish")
                batch.sent.append((i, self._send(batch.outcomes[i])))
            except UNSENDABLE as exc:  # the client refused it: never let that stop the batch
                batch.outcomes[i] = self._in_place_of(record, outcome, "unsendable", exc)
                batch.sent.append((i, self._send(batch.outcomes[i])))
        self.producer.flush(timeout=ACK_TIMEOUT_S)
        batch.to(State.PUBLISHED)

    def _await_acks(self, batch: Batch) -> None:
        assert batch.outcomes is not None
        try:
            for i, future in batch.sent:
                try:
                    future.get(timeout=ACK_TIMEOUT_S)
                except MessageSizeTooLargeError:  # the broker's limit is below ours
                    record, outcome = batch.records[i], batch.outcomes[i]
                    batch.outcomes[i] = self._in_place_of(record, outcome, "too_large_to_publish")
                    self._send(batch.outcomes[i]).get(timeout=ACK_TIMEOUT_S)
            for future in batch.revisions:
                with contextlib.suppress(MessageSizeTooLargeError):  # the first version stands
                    future.get(timeout=ACK_TIMEOUT_S)
            self._send_corrections(batch)
        except KafkaError:
            batch.to(State.FINISHED)  # some were not acknowledged: send them all again
            raise
        batch.sent, batch.revisions = [], []
        batch.to(State.ACKED)

    def _send_corrections(self, batch: Batch) -> None:
        """A correction demotes a published canonical in favour of this batch's record: it
        goes out only once that record's own output is acknowledged, and never for a record
        whose output became a dead letter (its takeover is released with its reservation)."""
        assert batch.outcomes is not None
        futures = []
        for outcome in batch.outcomes:
            for revision in outcome.revisions if outcome.kind != "dead_letter" else ():
                if revision.kind == "corrected":
                    with contextlib.suppress(MessageSizeTooLargeError, *UNSENDABLE):
                        futures.append(self._send(revision))
        for future in futures:
            with contextlib.suppress(MessageSizeTooLargeError):  # the first version stands
                future.get(timeout=ACK_TIMEOUT_S)

    def _send(self, outcome: Outcome) -> Any:
        return self.producer.send(
            outcome.topic, key=outcome.key, value=outcome.value, headers=outcome.headers or None
        )

    def _in_place_of(
        self, record: ConsumerRecord, outcome: Outcome, reason: str, exc: Exception | None = None
    ) -> Outcome:
        """An output the broker or the client will not take: a dead letter without the value
        (headers made safe), pointing at the source record (which stays readable at its
        offset)."""
        detail = f"{outcome.kind} record over the broker's size limit"
        if exc is not None:
            detail = f"{outcome.kind} record refused by the client: {type(exc).__name__}"
        failed = Failed(
            "dead_letter", "publish", reason, detail, outcome.record_id, outcome.timings
        )
        dead = failed_outcome(
            failed,
            None,
            record.headers or [],
            record.key,
            origin_of(record),
            self.settings,
            value_omitted=True,
        )
        dead.reservation = outcome.reservation  # released once the batch is acknowledged
        return dead
