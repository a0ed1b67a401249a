"""The worker: poll a batch -> process each record -> publish -> wait for acks -> commit.

At-least-once: offsets are committed only after every output of the batch is
acknowledged by the broker. When a dependency is down (broker, dedup store) the
batch is held, nothing further is consumed (the group membership stays alive) and
the batch is retried with backoff; /readyz reports not ready meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import (
    CommitFailedError,
    KafkaError,
    MessageSizeTooLargeError,
    RebalanceInProgressError,
)

from worker import attempts, kafka_io, state
from worker.config import Settings
from worker.logs import get_logger
from worker.metrics import Metrics, serve
from worker.parallel import CpuPool
from worker.pipeline import Failed, Outcome, Prepared, Stages, failed_outcome, finish
from worker.records import Origin, Reservation, TransientError

log = get_logger("worker.app")

ACK_TIMEOUT_S = 130.0  # a little above the producer's delivery timeout
MAX_BACKOFF_S = 15.0
PROGRESS_LOG_S = 10.0  # totals in the log at most this often, not per batch
SETTLE_ON_EXIT_S = 10.0  # how long a leaving worker retries settling its reservations
# What kafka-python raises from send() for a record it cannot serialise (a header value
# that is not bytes, a key that does not encode): the record's fault, not the broker's.
UNSENDABLE = (TypeError, ValueError, UnicodeError, AssertionError)


@dataclass
class _Held:
    """Records polled but not yet committed, with their outcomes once computed."""

    records: list[ConsumerRecord]
    prepared: list[Prepared | Failed] | None = None
    given_up: bool = False  # its one record was started MAX_TRIES times without finishing
    outcomes: list[Outcome] | None = None
    attempts: int = 0
    retry_at: float = 0.0


@dataclass
class Worker:
    settings: Settings
    stages: Stages
    pool: CpuPool
    metrics: Metrics = field(default_factory=Metrics)
    consumer: KafkaConsumer | None = None
    producer: KafkaProducer | None = None
    stopping: bool = False
    _held: _Held | None = None
    _assigned: set[TopicPartition] = field(default_factory=set)
    _joined: bool = False
    _last_poll_ok: float = 0.0
    _signals: int = 0
    _totals: dict[str, int] = field(default_factory=dict)
    _marks: dict[TopicPartition, attempts.Mark] = field(default_factory=dict)
    _fetched_marks: set[TopicPartition] = field(default_factory=set)
    _unsettled: list[tuple[str, Reservation]] = field(default_factory=list)  # (kind, it)
    _last_progress_log: float = 0.0
    metrics_port: int | None = None
    dedup_state: state.DedupState | None = None  # the dedupe changelog (memory backend)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        s = self.settings
        if s.create_topics:
            created = kafka_io.ensure_topics(s)
            if created:
                log.info("topics_created", topics=created, partitions=s.partitions)
        else:
            missing = kafka_io.missing_topics(s)
            if missing:
                raise SystemExit(f"topics missing and INGEST_CREATE_TOPICS is false: {missing}")
        server = serve(self.metrics, s.metrics_host, s.metrics_port, self.readiness)
        self.metrics_port = server.server_port
        self.pool.start()  # before joining the group: ready means able to extract
        self.producer = kafka_io.make_producer(s)
        # STATE HOOK 1/4: rebuild the dedupe index from its changelog before joining
        self.dedup_state = state.start(s, self.stages.deduper, self.producer)
        self.consumer = kafka_io.make_consumer(s, _Listener(self))
        log.info(
            "worker_started",
            input_topic=s.input_topic,
            output_topic=s.output_topic,
            group_id=s.group_id,
            metrics_port=self.metrics_port,
        )

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, frame: object) -> None:
            self._signals += 1
            if self._signals > 1:
                log.warning("second_signal_exit_now", signal=signum)
                os._exit(128 + signum)
            log.info("stopping", signal=signum)
            self.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self, max_idle_s: float | None = None) -> None:
        """Poll until asked to stop (or, for tools and tests, until idle for ``max_idle_s``)."""
        assert self.consumer is not None
        idle_since = time.monotonic()
        try:
            while not self.stopping:
                if self._held is None:
                    if self.dedup_state is not None:  # STATE HOOK 2/4: others' rows
                        self.dedup_state.follow()
                    polled = self._poll()
                    if polled:
                        self._held = self._start_batch(polled)
                        idle_since = time.monotonic()
                    elif max_idle_s is not None and time.monotonic() - idle_since > max_idle_s:
                        break
                if self._held is not None:
                    self._try_held()
                self._update_lag()
        finally:
            self.close()

    def close(self) -> None:
        if self._held is not None and self._held.outcomes is not None:
            try:  # a batch already processed: publish and commit it before leaving
                self._publish_and_commit(self._held)
            except Exception as exc:  # noqa: BLE001 - leaving anyway; it will be redone
                log.warning("final_batch_not_committed", error=type(exc).__name__)
        self._settle_before_leaving()
        if self.producer is not None:
            self.producer.flush(timeout=30)
            self.producer.close(timeout=10)
            self.producer = None
        if self.consumer is not None:
            self.consumer.close()  # leaves the group, so it rebalances at once
            self.consumer = None
        self.pool.close()
        if self.dedup_state is not None:  # STATE HOOK 4/4
            self.dedup_state.close()
        self.stages.deduper.close()
        self._save_templates(force=True)
        log.info("worker_stopped", **self._totals)

    # --- the loop ----------------------------------------------------------------------
    def _poll(self) -> list[ConsumerRecord]:
        assert self.consumer is not None
        try:
            polled = self.consumer.poll(
                timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.batch_size
            )
        except Exception as exc:  # noqa: BLE001 - a fetch that fails must not stop the worker
            # Batches the client cannot decode are read past (``kafka_records``); what is
            # left is the broker's or the set-up's state: say so, wait, poll again.
            transient = kafka_io.is_transient(exc)
            self.metrics.errors.labels("kafka").inc()
            report = log.warning if transient else log.error
            report("poll_failed", error=f"{type(exc).__name__}: {exc}"[:300], transient=transient)
            time.sleep(1 if transient else 5)
            return []
        self._last_poll_ok = time.monotonic()
        records = [r for batch in polled.values() for r in batch]
        if records:
            self.metrics.consumed.inc(len(records))
            self.metrics.consumed_bytes.inc(sum(len(r.value or b"") for r in records))
        return records

    def _start_batch(self, records: list[ConsumerRecord]) -> _Held:
        """Mark where each partition starts (``attempts``) before any work, so a batch that
        never finishes is narrowed down to its record, then given up, by whoever redoes it.
        While a partition is in careful mode the batch is that partition's one record; the
        rest of the poll is handed back."""
        assert self.consumer is not None
        by_tp: dict[TopicPartition, list[ConsumerRecord]] = {}
        for r in records:
            by_tp.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
        plans = {
            tp: attempts.plan(self._mark_of(tp), rs[0].offset, rs[-1].offset)
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
        marks = {tp: mark for tp, (mark, _) in plans.items()}
        self._commit_marks(marks)
        return _Held(records, given_up=careful is not None and plans[careful][1] == "give_up")

    def _mark_of(self, tp: TopicPartition) -> attempts.Mark | None:
        """The group's mark for ``tp`` when first seen since assignment, merged with this
        process's own (a broker that drops commit metadata, as Tansu 0.6 does, keeps the
        count for as long as this process lives)."""
        if tp not in self._fetched_marks:
            assert self.consumer is not None
            try:
                committed = self.consumer.committed(tp, metadata=True)
            except Exception as exc:  # noqa: BLE001 - unknown: count from what we know
                log.warning("committed_offset_unknown", error=type(exc).__name__)
                committed = None
            self._fetched_marks.add(tp)
            group = None if committed is None else attempts.parse(*committed[:2])
            merged = attempts.merge(self._marks.get(tp), group)
            if merged is not None:
                self._marks[tp] = merged
        return self._marks.get(tp)

    def _commit_marks(self, marks: dict[TopicPartition, attempts.Mark]) -> None:
        assert self.consumer is not None
        offsets = {
            tp: OffsetAndMetadata(m.offset, m.metadata(), -1)
            for tp, m in marks.items()
            if tp in self._assigned
        }
        for attempt in range(3):
            offsets = {tp: o for tp, o in offsets.items() if tp in self._assigned}
            if not offsets:
                return
            try:
                self.consumer.commit(offsets)
                self._marks.update(marks)
                return
            except RebalanceInProgressError:  # a join round is on: let poll complete it
                self._keep_alive(0.1 * (attempt + 1))
            except (CommitFailedError, KafkaError) as exc:  # the batch itself will find out
                log.warning("attempt_mark_not_committed", error=type(exc).__name__)
                return
        log.warning("attempt_mark_not_committed", error="RebalanceInProgressError")

    def _try_held(self) -> None:
        held = self._held
        assert held is not None
        now = time.monotonic()
        if now < held.retry_at:
            self._keep_alive(held.retry_at - now)
            return
        try:
            if held.prepared is None:
                self._prepare_and_finish(held)
            if held.outcomes is None:  # a retry: the batch is prepared, finish it again
                held.outcomes = [
                    self._finish(r, p) for r, p in zip(held.records, held.prepared, strict=True)
                ]
            self._publish_and_commit(held)
        except TransientError as exc:
            self._back_off(held, "dedup", exc)
            self.metrics.dedup_up.set(0)
            return
        except KafkaError as exc:
            if not kafka_io.is_transient(exc):
                raise
            self._back_off(held, "kafka", exc)
            return
        self.metrics.dedup_up.set(1)
        self._record(held)
        self._held = None
        self._save_templates()

    def _prepare_and_finish(self, held: _Held) -> None:
        """Each record is finished (templates, dedupe: offset order, this process) as soon as
        it is prepared, while the pool works on the next ones. When the dedup store is down
        the pool still completes the batch, so a retry finishes it without extracting again
        (finishing a record twice is safe: a replay)."""
        outcomes: list[Outcome] = []
        down: list[TransientError] = []
        if held.given_up:  # started MAX_TRIES times without finishing: not again
            held.prepared = [
                Failed(
                    "dead_letter",
                    "extract",
                    "not_finished",
                    f"processing started {attempts.MAX_TRIES} times and never finished",
                )
            ]
            held.outcomes = [self._finish(held.records[0], held.prepared[0])]
            return

        def on_ready(i: int, prepared: Prepared | Failed) -> None:
            if down:
                return
            try:
                outcomes.append(self._finish(held.records[i], prepared))
            except TransientError as exc:
                down.append(exc)

        held.prepared = self.pool.prepare_all(
            [(r.value, r.headers or []) for r in held.records],
            on_ready,
            tick=lambda: self._keep_alive(0.0),  # a slow batch must not get us evicted
        )
        if down:
            raise down[0]
        held.outcomes = outcomes

    def _save_templates(self, force: bool = False) -> None:
        """Snapshot the site templates (throttled), after a commit and at shutdown."""
        templates = self.stages.templates
        if templates is None:
            return
        try:
            if force:
                templates.save()
            elif not templates.maybe_save():
                return
            log.info("site_templates_saved", **templates.stats())
        except OSError as exc:  # the state is only an optimisation: keep going without it
            log.warning("site_templates_not_saved", error=str(exc))

    def _finish(self, record: ConsumerRecord, prepared: Prepared | Failed) -> Outcome:
        origin = Origin(record.topic, record.partition, record.offset, record.timestamp)
        return finish(prepared, record.value, record.headers or [], record.key, origin, self.stages)

    def _publish_and_commit(self, held: _Held) -> None:
        assert self.producer is not None and self.consumer is not None
        assert held.outcomes is not None
        t0 = time.perf_counter()
        futures, revisions = [], []
        for i, (record, outcome) in enumerate(zip(held.records, held.outcomes, strict=True)):
            for revision in outcome.revisions:
                with contextlib.suppress(MessageSizeTooLargeError, *UNSENDABLE):
                    revisions.append(self._send(revision))  # the first version stands
            if outcome.topic is None:
                continue
            try:
                futures.append((i, self._send(outcome)))
            except MessageSizeTooLargeError:
                held.outcomes[i] = self._in_place_of(record, outcome, "too_large_to_publish")
                futures.append((i, self._send(held.outcomes[i])))
            except UNSENDABLE as exc:  # the client refused it: never let that stop the batch
                held.outcomes[i] = self._in_place_of(record, outcome, "unsendable", exc)
                futures.append((i, self._send(held.outcomes[i])))
        self.producer.flush(timeout=ACK_TIMEOUT_S)
        for i, future in futures:
            try:
                future.get(timeout=ACK_TIMEOUT_S)
            except MessageSizeTooLargeError:  # the broker's limit is below ours
                record, outcome = held.records[i], held.outcomes[i]
                held.outcomes[i] = self._in_place_of(record, outcome, "too_large_to_publish")
                self._send(held.outcomes[i]).get(timeout=ACK_TIMEOUT_S)
        for future in revisions:
            with contextlib.suppress(MessageSizeTooLargeError):  # the first version stands
                future.get(timeout=ACK_TIMEOUT_S)
        if self.dedup_state is not None:  # STATE HOOK 3/4: changelog acked before commit
            self.dedup_state.before_commit(held.outcomes)
        self.metrics.stage_seconds.labels("publish").observe(time.perf_counter() - t0)
        self._settle_dedupe(held.outcomes)
        self._commit(held.records)

    def _settle_dedupe(self, outcomes: list[Outcome]) -> None:
        """Every output is acknowledged: dedupe keeps what was published (or recorded with
        nothing to send) and forgets what ended as a dead letter instead. On failure (the
        store is down) the reservations are kept and settled with the next batch, or before
        leaving: unsettled, they hold other workers' copies back until they expire."""
        held = self._unsettled + [
            (o.kind, o.reservation) for o in outcomes if o.reservation is not None
        ]
        if not held:
            return
        try:
            self.stages.deduper.release([r for kind, r in held if kind == "dead_letter"])
            self.stages.deduper.confirm([r for kind, r in held if kind != "dead_letter"])
            self._unsettled = []
        except Exception as exc:  # noqa: BLE001 - never fatal: settled again later
            self._unsettled = held
            self.metrics.errors.labels("dedup").inc()
            log.warning("dedup_not_settled", error=type(exc).__name__, pending=len(held))

    def _settle_before_leaving(self, within_s: float = SETTLE_ON_EXIT_S) -> None:
        deadline = time.monotonic() + within_s
        while self._unsettled and time.monotonic() < deadline:
            time.sleep(0.5)
            self._settle_dedupe([])

    def _send(self, outcome: Outcome) -> Any:
        assert self.producer is not None
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
        origin = Origin(record.topic, record.partition, record.offset, record.timestamp)
        dead = failed_outcome(failed, None, record.headers or [], record.key, origin, self.settings)
        dead.headers.append(("value_omitted", reason.encode()))
        dead.reservation = outcome.reservation  # released once the batch is acknowledged
        return dead

    def _commit(self, records: list[ConsumerRecord]) -> None:
        assert self.consumer is not None
        marks: dict[TopicPartition, attempts.Mark] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            if tp in self._assigned:
                marks[tp] = attempts.finished(self._marks.get(tp), r.offset + 1)
        if not marks:
            return
        offsets = {tp: OffsetAndMetadata(m.offset, m.metadata(), -1) for tp, m in marks.items()}
        try:
            self.consumer.commit(offsets)
        except CommitFailedError:
            # The group moved on (rebalance): the new owner redoes these records.
            log.warning("commit_failed_rebalance", partitions=len(offsets))
            return
        self._marks.update(marks)

    def _record(self, held: _Held) -> None:
        """Count outcomes once they are safely published and committed."""
        m = self.metrics
        now_ms = time.time() * 1000
        assert held.outcomes is not None
        for record, outcome in zip(held.records, held.outcomes, strict=True):
            for stage, seconds in outcome.timings.items():
                m.stage_seconds.labels(stage).observe(seconds)
            if outcome.kind == "published":
                m.published.inc()
                if outcome.dedup_status == "updated":
                    m.updated.inc()
            elif outcome.kind == "duplicate":
                m.duplicates.labels(outcome.dedup_status or "duplicate").inc()
            elif outcome.kind == "skipped":
                m.skipped.labels(outcome.reason or "unknown").inc()
            else:
                m.dead_lettered.labels(
                    outcome.stage or "unknown", outcome.reason or "unknown"
                ).inc()
            if outcome.boilerplate_ratio is not None:
                m.boilerplate_ratio.observe(outcome.boilerplate_ratio)
            m.count_truncated(outcome.truncated)
            if record.timestamp and record.timestamp > 0:
                m.end_to_end_seconds.observe(max(0.0, (now_ms - record.timestamp) / 1000))
        m.last_processed.set(time.time())
        for outcome in held.outcomes:
            self._totals[outcome.kind] = self._totals.get(outcome.kind, 0) + 1
        if time.monotonic() - self._last_progress_log >= PROGRESS_LOG_S:
            self._last_progress_log = time.monotonic()
            log.info("progress", **self._totals)

    # --- waiting out an outage ---------------------------------------------------------
    def _back_off(self, held: _Held, component: str, exc: Exception) -> None:
        held.attempts += 1
        delay = min(MAX_BACKOFF_S, 0.5 * 2 ** (held.attempts - 1))
        held.retry_at = time.monotonic() + delay
        self.metrics.errors.labels(component).inc()
        log.warning(
            "batch_retry",
            component=component,
            error=type(exc).__name__,
            attempt=held.attempts,
            retry_in_s=round(delay, 2),
        )

    def _keep_alive(self, wait_s: float) -> None:
        """Poll while we wait, so the group keeps us, and hand back what it returns.

        Records that come back (the partitions are not paused) are rewound, so none is
        skipped, including those of partitions assigned while we wait. Pausing instead
        loses partitions: kafka-python 3.0.12 parks the fetched records of a paused
        partition and, after a rebalance, may never fetch that partition again.
        """
        assert self.consumer is not None
        wait_s = min(wait_s, self.settings.poll_timeout_ms / 1000)
        try:
            polled = self.consumer.poll(timeout_ms=max(int(wait_s * 1000), 1), max_records=1)
        except Exception as exc:  # noqa: BLE001 - waiting anyway; the batch is retried
            log.warning("keep_alive_poll_failed", error=type(exc).__name__)
            time.sleep(wait_s)
            return
        for tp, records in polled.items():
            self.consumer.seek(tp, records[0].offset)
        if polled:  # buffered records come back at once: do not spin
            time.sleep(wait_s)

    # --- rebalances --------------------------------------------------------------------
    def on_revoked(self, revoked: set[TopicPartition]) -> None:
        self.metrics.assigned.set(len(self._assigned - set(revoked)))
        if self._held is not None:
            if self._held.outcomes is not None:
                try:
                    self._publish_and_commit(self._held)
                    self._record(self._held)
                    self._held = None
                except Exception as exc:  # noqa: BLE001 - the new owner redoes them
                    log.warning("revoked_batch_not_committed", error=type(exc).__name__)
            if self._held is not None:
                kept = [
                    r
                    for r in self._held.records
                    if TopicPartition(r.topic, r.partition) not in revoked
                ]
                self._held = _Held(kept) if kept else None
        self._assigned -= set(revoked)
        self._fetched_marks -= set(revoked)  # read the group's mark again if it comes back
        for tp in revoked:
            with contextlib.suppress(KeyError):
                self.metrics.lag.remove(tp.topic, str(tp.partition))
        log.info("partitions_revoked", partitions=sorted(tp.partition for tp in revoked))

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._joined = True
        self._assigned |= set(assigned)
        self.metrics.rebalances.inc()
        self.metrics.assigned.set(len(self._assigned))
        log.info("partitions_assigned", partitions=sorted(tp.partition for tp in assigned))

    def _update_lag(self) -> None:
        if self.consumer is None:
            return
        for tp, behind in kafka_io.consumer_lag(self.consumer, list(self._assigned)).items():
            self.metrics.lag.labels(tp.topic, str(tp.partition)).set(behind)

    # --- health ------------------------------------------------------------------------
    def readiness(self) -> tuple[bool, str]:
        if not self._joined:
            return False, "not yet assigned partitions"
        if time.monotonic() - self._last_poll_ok > max(
            30.0, self.settings.session_timeout_ms / 1000 * 3
        ):
            return False, "broker not reachable"
        if self._held is not None and self._held.attempts > 0:
            return False, "waiting for a dependency (see ingest_errors_total)"
        return True, "ready"


class _Listener(ConsumerRebalanceListener):
    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.worker.on_revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.worker.on_assigned(set(assigned))
