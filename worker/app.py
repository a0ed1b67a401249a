"""The worker loop: poll a batch -> process each record -> hand it to the checkpoint
(``worker/checkpoint.py``: publish -> wait for acks -> settle dedupe -> commit).

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

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from worker import attempts, kafka_io, state
from worker.checkpoint import Batch, Checkpoint, Offsets, Settler, State, origin_of
from worker.config import Settings
from worker.logs import get_logger
from worker.metrics import Metrics, serve
from worker.model import TransientError
from worker.parallel import CpuPool
from worker.pipeline import Failed, Outcome, Prepared, Stages, finish

log = get_logger("worker.app")

MAX_BACKOFF_S = 15.0
PROGRESS_LOG_S = 10.0  # totals in the log at most this often, not per batch


@dataclass
class Worker:
    settings: Settings
    stages: Stages
    pool: CpuPool
    metrics: Metrics = field(default_factory=Metrics)
    consumer: KafkaConsumer | None = None
    producer: KafkaProducer | None = None
    checkpoint: Checkpoint | None = None
    stopping: bool = False
    _held: Batch | None = None
    _joined: bool = False
    _last_poll_ok: float = 0.0
    _signals: int = 0
    _totals: dict[str, int] = field(default_factory=dict)
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
        producer = kafka_io.make_producer(s)
        # the dedupe index is rebuilt from its changelog before joining the group
        self.dedup_state = state.start(s, self.stages.deduper, producer)
        if self.dedup_state is not None:
            self.metrics.changelog_rows.inc(self.dedup_state.rows_read)
        self.attach(producer, kafka_io.make_consumer(s, _Listener(self)))
        log.info(
            "worker_started",
            input_topic=s.input_topic,
            output_topic=s.output_topic,
            group_id=s.group_id,
            metrics_port=self.metrics_port,
        )

    def attach(self, producer: KafkaProducer, consumer: KafkaConsumer) -> None:
        """Use these clients (``start`` makes real ones; unit tests pass fakes)."""
        self.producer, self.consumer = producer, consumer
        self.checkpoint = Checkpoint(
            producer,
            Offsets(consumer, self._keep_alive),
            Settler(self.stages.deduper, self.metrics),
            self.settings,
            self.metrics,
            self.dedup_state,
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
                    if self.dedup_state is not None:  # other workers' changelog rows
                        self.metrics.changelog_rows.inc(self.dedup_state.follow())
                    polled = self._poll()
                    if polled:
                        self._held = self._checkpoint().offsets.begin(polled)
                        idle_since = time.monotonic()
                    elif max_idle_s is not None and time.monotonic() - idle_since > max_idle_s:
                        break
                if self._held is not None:
                    self._try_held()
                self._update_lag()
        finally:
            self.close()

    def close(self) -> None:
        if self._held is not None and self._held.state >= State.FINISHED:
            try:  # a batch already processed: publish and commit it before leaving
                self._complete(self._held)
            except Exception as exc:  # noqa: BLE001 - leaving anyway; it will be redone
                log.warning("final_batch_not_committed", error=type(exc).__name__)
        if self.checkpoint is not None:
            self.checkpoint.settler.before_leaving()
        if self.producer is not None:
            self.producer.flush(timeout=30)
            self.producer.close(timeout=10)
            self.producer = None
        if self.consumer is not None:
            self.consumer.close()  # leaves the group, so it rebalances at once
            self.consumer = None
        self.pool.close()
        if self.dedup_state is not None:
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

    def _checkpoint(self) -> Checkpoint:
        assert self.checkpoint is not None, "start() or attach() first"
        return self.checkpoint

    def _try_held(self) -> None:
        held = self._held
        assert held is not None
        now = time.monotonic()
        if now < held.retry_at:
            self._keep_alive(held.retry_at - now)
            return
        try:
            if held.state == State.POLLED:
                self._prepare_and_finish(held)
            if held.state == State.PREPARED:  # a retry: finish it again, without extracting
                assert held.prepared is not None
                held.finished_as(
                    [self._finish(r, p) for r, p in zip(held.records, held.prepared, strict=True)]
                )
            self._complete(held)
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
        self._save_templates()

    def _complete(self, batch: Batch) -> None:
        """Every path that ends a batch: publish, ack, settle, commit, then count it."""
        self._checkpoint().complete(batch)
        self._record(batch)
        self._held = None  # also what a revoke meanwhile kept of it: those records are done

    def _prepare_and_finish(self, held: Batch) -> None:
        """Each record is finished (templates, dedupe: offset order, this process) as soon as
        it is prepared, while the pool works on the next ones. When the dedup store is down
        the pool still completes the batch, so a retry finishes it without extracting again
        (finishing a record twice is safe: a replay)."""
        outcomes: list[Outcome] = []
        down: list[TransientError] = []
        if held.given_up:  # started MAX_TRIES times without finishing: not again
            detail = f"processing started {attempts.MAX_TRIES} times and never finished"
            held.prepared_as([Failed("dead_letter", "extract", "not_finished", detail)])
            held.finished_as([self._finish(held.records[0], held.prepared[0])])
            return

        def on_ready(i: int, prepared: Prepared | Failed) -> None:
            if down:
                return
            try:
                outcomes.append(self._finish(held.records[i], prepared))
            except TransientError as exc:
                down.append(exc)

        held.prepared_as(
            self.pool.prepare_all(
                [(r.value, r.headers or []) for r in held.records],
                on_ready,
                tick=lambda: self._keep_alive(0.0),  # a slow batch must not get us evicted
            )
        )
        if down:
            raise down[0]
        held.finished_as(outcomes)

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
        return finish(
            prepared, record.value, record.headers or [], record.key, origin_of(record), self.stages
        )

    def _record(self, held: Batch) -> None:
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
            m.corrections.inc(sum(1 for r in outcome.revisions if r.kind == "corrected"))
            if record.timestamp and record.timestamp > 0:
                m.end_to_end_seconds.observe(max(0.0, (now_ms - record.timestamp) / 1000))
        m.last_processed.set(time.time())
        for outcome in held.outcomes:
            self._totals[outcome.kind] = self._totals.get(outcome.kind, 0) + 1
        if time.monotonic() - self._last_progress_log >= PROGRESS_LOG_S:
            self._last_progress_log = time.monotonic()
            log.info("progress", **self._totals)

    # --- waiting out an outage ---------------------------------------------------------
    def _back_off(self, held: Batch, component: str, exc: Exception) -> None:
        held.attempts += 1
        delay = min(MAX_BACKOFF_S, 0.5 * 2 ** (held.attempts - 1))
        held.retry_at = time.monotonic() + delay
        self.metrics.errors.labels(component).inc()
        log.warning(
            "batch_retry",
            component=component,
            error=type(exc).__name__,
            detail=str(exc)[:200],
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
        offsets = self._checkpoint().offsets
        self.metrics.assigned.set(len(offsets.assigned - revoked))
        held = self._held
        if held is not None and held.state >= State.FINISHED:
            try:
                self._complete(held)
            except Exception as exc:  # noqa: BLE001 - the new owner redoes them
                log.warning("revoked_batch_not_committed", error=type(exc).__name__)
        if self._held is not None:  # not committed: keep what is still ours, from the start
            self._held = self._held.keeping(revoked)
        offsets.revoke(revoked)
        for tp in revoked:
            with contextlib.suppress(KeyError):
                self.metrics.lag.remove(tp.topic, str(tp.partition))
        log.info("partitions_revoked", partitions=sorted(tp.partition for tp in revoked))

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._joined = True
        offsets = self._checkpoint().offsets
        offsets.assign(assigned)
        self.metrics.rebalances.inc()
        self.metrics.assigned.set(len(offsets.assigned))
        log.info("partitions_assigned", partitions=sorted(tp.partition for tp in assigned))

    def _update_lag(self) -> None:
        if self.consumer is None or self.checkpoint is None:
            return
        assigned = list(self.checkpoint.offsets.assigned)
        for tp, behind in kafka_io.consumer_lag(self.consumer, assigned).items():
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
