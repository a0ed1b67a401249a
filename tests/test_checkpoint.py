"""Every path that ends a batch, on fake Kafka clients: the broker tests cover the real ones.

The worker is driven one step at a time (``run`` for whole runs) with a fake consumer
(a log per partition, a group's committed offsets) and a fake producer (futures that
fail on demand), so each path's order (publish -> ack -> settle -> commit) is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
import pytest
from kafka import OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import (
    CommitFailedError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RebalanceInProgressError,
    UnknownTopicOrPartitionError,
)

from tests.kit.pages import article_html
from worker.app import Worker
from worker.checkpoint import Batch, Offsets, State, WrongState
from worker.config import Settings
from worker.dedup import NotDurable
from worker.dedup.memory import MemoryDeduper
from worker.extract import make_extractor
from worker.model import Reservation, TransientError
from worker.parallel import CpuPool
from worker.pipeline import Outcome, Stages

TOPIC = "pages.raw"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def page(seed: int) -> bytes:
    url = f"https://news.example/story/{seed}"
    return orjson.dumps({"url": url, "html": article_html(seed), "status": 200})


def record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        tp.topic, tp.partition, -1, offset, 1_700_000_000_000, 0, b"k", value, [], None, 1, 1, 0
    )


@dataclass
class FakeFuture:
    error: Exception | None = None

    def get(self, timeout: float | None = None) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class FakeProducer:
    """Keeps what was sent; ``ack_errors`` fail the next acks in order, ``send_errors``
    the sends by their number (from 0)."""

    sent: list[tuple[str, bytes | None, dict[str, bytes]]] = field(default_factory=list)
    ack_errors: list[Exception] = field(default_factory=list)
    send_errors: dict[int, Exception] = field(default_factory=dict)
    sends: int = 0

    def send(self, topic: str, key: bytes | None = None, value: bytes | None = None, headers=None):
        self.sends += 1
        if self.sends - 1 in self.send_errors:
            raise self.send_errors[self.sends - 1]
        self.sent.append((topic, value, dict(headers or [])))
        return FakeFuture(self.ack_errors.pop(0) if self.ack_errors else None)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass

    def topics(self) -> list[str]:
        return [topic for topic, _, _ in self.sent]


@dataclass
class FakeConsumer:
    """Partition logs read from a position; commits land in ``group`` (and ``commits``)."""

    logs: dict[TopicPartition, list[ConsumerRecord]]
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    group: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)
    commits: list[dict[TopicPartition, OffsetAndMetadata]] = field(default_factory=list)
    commit_errors: list[Exception] = field(default_factory=list)

    def poll(self, timeout_ms: int = 0, max_records: int = 500):
        out = {}
        for tp, log in self.logs.items():
            start = self.positions.get(tp, self.group[tp].offset if tp in self.group else 0)
            got = log[start : start + max_records]
            if got:
                out[tp] = got
                self.positions[tp] = start + len(got)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        if self.commit_errors:
            raise self.commit_errors.pop(0)
        self.commits.append(dict(offsets))
        self.group.update(offsets)

    def committed(self, tp: TopicPartition, metadata: bool = False):
        return self.group.get(tp)

    def end_offsets(self, tps, timeout_ms: int = 0):
        return {tp: len(self.logs.get(tp, [])) for tp in tps}

    def highwater(self, tp: TopicPartition) -> int:
        return len(self.logs.get(tp, []))

    def position(self, tp: TopicPartition, timeout_ms: int = 0) -> int:
        return self.positions.get(tp, 0)

    def close(self, autocommit: bool = True) -> None:
        pass

    def offset(self, tp: TopicPartition) -> int | None:
        return self.group[tp].offset if tp in self.group else None


class Store(MemoryDeduper):
    """The in-process index, with the failures of a shared store on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.checks = 0
        self.check_errors: list[Exception] = []
        self.settle_errors: list[Exception] = []
        self.confirmed: list[Reservation] = []
        self.released: list[Reservation] = []

    def check(self, *args, **kwargs):
        self.checks += 1
        if self.check_errors:
            raise self.check_errors.pop(0)
        return super().check(*args, **kwargs)

    def confirm(self, reservations: list[Reservation]) -> None:
        if self.settle_errors:
            raise self.settle_errors.pop(0)
        super().confirm(reservations)
        self.confirmed += reservations

    def release(self, reservations: list[Reservation]) -> None:
        super().release(reservations)
        self.released += reservations


@dataclass
class Rig:
    worker: Worker
    consumer: FakeConsumer
    producer: FakeProducer
    store: Store

    def step_to(self, state: State) -> Batch:
        """One turn of the loop, which leaves the batch at ``state``."""
        batch = self.step()
        assert batch is not None and batch.state == state, batch and batch.state
        return batch

    def step(self) -> Batch | None:
        """One turn of the loop: poll and start a batch if none is held, then try it."""
        w = self.worker
        if w._held is None:
            polled = w._poll()
            assert polled, "nothing to poll"
            assert w.checkpoint is not None
            w._held = w.checkpoint.offsets.begin(polled)
        held = w._held
        held.retry_at = 0.0  # no waiting in tests
        w._try_held()
        return held


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield make_rig({P0: 3})


def make_rig(sizes: dict[TopicPartition, int]) -> Rig:
    settings = Settings(poll_timeout_ms=1)
    store = Store()
    worker = Worker(settings, Stages(settings, make_extractor(), store), CpuPool(settings, None, 0))
    worker.pool.extract = worker.stages.extract
    logs = {
        tp: [record(tp, i, page(tp.partition * 100 + i)) for i in range(n)]
        for tp, n in sizes.items()
    }
    consumer, producer = FakeConsumer(logs), FakeProducer()
    worker.attach(producer, consumer)  # type: ignore[arg-type]
    worker.on_assigned(set(sizes))
    return Rig(worker, consumer, producer, store)


def articles(rig: Rig) -> int:
    return rig.producer.topics().count(rig.worker.settings.output_topic)


# --- the normal path ------------------------------------------------------------------


def test_a_batch_is_marked_published_acked_settled_then_committed(rig: Rig) -> None:
    rig.step_to(State.COMMITTED)
    assert articles(rig) == 3
    mark, done = rig.consumer.commits  # the attempts mark before, the next offset after
    assert (mark[P0].offset, mark[P0].metadata) == (0, "tries=1;careful_until=-1")
    assert (done[P0].offset, done[P0].metadata) == (3, "tries=0;careful_until=-1")
    assert len(rig.store.confirmed) == 3
    assert rig.worker._held is None and rig.worker._totals == {"published": 3}


def test_run_to_idle_commits_everything_and_leaves(rig: Rig) -> None:
    rig.worker.run(max_idle_s=0)
    assert articles(rig) == 3 and rig.consumer.offset(P0) == 3
    assert rig.worker.consumer is None and rig.worker.producer is None


# --- retries --------------------------------------------------------------------------


def test_acks_that_do_not_come_hold_the_batch_and_it_is_sent_again(rig: Rig) -> None:
    rig.producer.ack_errors = [KafkaTimeoutError("no ack")]
    batch = rig.step_to(State.FINISHED)
    assert batch.attempts == 1
    assert rig.consumer.offset(P0) == 0  # only the attempts mark
    assert rig.worker.readiness() == (False, "waiting for a dependency (see ingest_errors_total)")
    assert rig.store.confirmed == []  # nothing settled before the acks
    checks = rig.store.checks
    rig.step()
    assert batch.state == State.COMMITTED and rig.consumer.offset(P0) == 3
    assert articles(rig) == 6  # at least once: the whole batch again
    assert rig.store.checks == checks  # finished once: not deduplicated again


def test_a_refusing_broker_is_not_retried(rig: Rig) -> None:
    rig.producer.ack_errors = [UnknownTopicOrPartitionError()]
    rig.producer.ack_errors[0].retriable = False  # type: ignore[attr-defined]
    with pytest.raises(UnknownTopicOrPartitionError):
        rig.step()
    assert rig.consumer.offset(P0) == 0


def test_a_dedup_store_down_mid_batch_finishes_it_later_without_extracting_again(
    rig: Rig,
) -> None:
    extracted: list[int] = []
    prepare_all = rig.worker.pool.prepare_all
    rig.worker.pool.prepare_all = lambda items, *a, **k: (  # type: ignore[method-assign]
        extracted.append(len(items)) or prepare_all(items, *a, **k)
    )
    rig.store.check_errors = [TransientError("redis: refused")]
    batch = rig.step_to(State.PREPARED)
    assert rig.producer.sent == [] and rig.consumer.offset(P0) == 0
    assert rig.worker.metrics.dedup_up._value.get() == 0
    rig.step()
    assert batch.state == State.COMMITTED and articles(rig) == 3 and extracted == [3]
    assert rig.worker.metrics.dedup_up._value.get() == 1


def test_a_store_that_cannot_keep_the_settlement_holds_the_commit(rig: Rig) -> None:
    rig.store.settle_errors = [NotDurable("changelog not written")]
    batch = rig.step_to(State.ACKED)
    assert rig.consumer.offset(P0) == 0 and articles(rig) == 3
    rig.step()
    assert batch.state == State.COMMITTED and rig.consumer.offset(P0) == 3
    assert articles(rig) == 3  # acknowledged once: not sent again
    assert len(rig.store.confirmed) == 3


def test_a_store_down_while_settling_does_not_hold_the_commit(rig: Rig) -> None:
    """The reservations stand (they expire); they are settled with the next batch."""
    rig.store.settle_errors = [TransientError("redis: refused")]
    rig.step_to(State.COMMITTED)
    assert rig.consumer.offset(P0) == 3
    assert rig.worker.checkpoint is not None
    assert len(rig.worker.checkpoint.settler.unsettled) == 3
    rig.worker.close()  # settled before leaving
    assert rig.worker.checkpoint.settler.unsettled == [] and len(rig.store.confirmed) == 3


# --- outputs the broker or the client will not take -------------------------------------


def test_an_output_refused_at_send_goes_out_as_a_dead_letter_in_its_place(rig: Rig) -> None:
    # sends: article 0 (refused), its dead letter, article 1 (refused), its dead letter, ...
    rig.producer.send_errors = {0: MessageSizeTooLargeError(), 2: TypeError("not bytes")}
    rig.step_to(State.COMMITTED)
    dlq = [h for topic, _, h in rig.producer.sent if topic == rig.worker.settings.dlq_topic]
    assert [h["error_reason"] for h in dlq] == [b"too_large_to_publish", b"unsendable"]
    assert all(h["value_omitted"] for h in dlq) and articles(rig) == 1
    assert rig.consumer.offset(P0) == 3
    assert (len(rig.store.confirmed), len(rig.store.released)) == (1, 2)  # dead letters: released


def test_an_output_over_the_broker_limit_is_replaced_by_a_dead_letter(rig: Rig) -> None:
    rig.producer.ack_errors = [MessageSizeTooLargeError()]
    rig.step_to(State.COMMITTED)
    assert rig.producer.topics().count(rig.worker.settings.dlq_topic) == 1
    assert rig.worker._totals == {"dead_letter": 1, "published": 2}


def finished_with_a_correction(rig: Rig) -> Batch:
    """A finished batch of one article that took over a published canonical: its outcome
    carries the correction of that canonical as a revision."""
    settings = rig.worker.settings
    batch = Batch([record(P0, 0, page(0))])
    batch.to(State.PREPARED)
    correction = Outcome("corrected", settings.duplicates_topic, b"old", b'{"corrected":1}')
    article = Outcome("published", settings.output_topic, b"new", b"{}", revisions=[correction])
    batch.finished_as([article])
    return batch


def test_a_correction_goes_out_only_after_the_new_canonical_is_acknowledged(rig: Rig) -> None:
    assert rig.worker.checkpoint is not None
    batch = finished_with_a_correction(rig)
    rig.worker.checkpoint.complete(batch)
    assert [value for _, value, _ in rig.producer.sent] == [b"{}", b'{"corrected":1}']


@pytest.mark.parametrize("refused", ["at_send", "at_ack"])
def test_no_correction_names_a_canonical_that_became_a_dead_letter(rig: Rig, refused: str) -> None:
    assert rig.worker.checkpoint is not None
    if refused == "at_send":
        rig.producer.send_errors = {0: MessageSizeTooLargeError()}
    else:
        rig.producer.ack_errors = [MessageSizeTooLargeError()]
    batch = finished_with_a_correction(rig)
    rig.worker.checkpoint.complete(batch)
    assert batch.state == State.COMMITTED
    assert rig.producer.topics() == [rig.worker.settings.dlq_topic] or (
        rig.producer.topics() == [rig.worker.settings.output_topic, rig.worker.settings.dlq_topic]
    )
    assert all(value != b'{"corrected":1}' for _, value, _ in rig.producer.sent)


# --- leaving and rebalances -----------------------------------------------------------


def test_close_publishes_and_commits_a_finished_batch(rig: Rig) -> None:
    rig.producer.ack_errors = [KafkaTimeoutError("no ack")]
    batch = rig.step_to(State.FINISHED)
    rig.worker.close()
    assert batch.state == State.COMMITTED and rig.consumer.offset(P0) == 3


def test_close_leaves_an_unfinished_batch_to_be_redone(rig: Rig) -> None:
    rig.store.check_errors = [TransientError("redis: refused")]
    rig.step_to(State.PREPARED)
    rig.worker.close()
    assert rig.producer.sent == [] and rig.consumer.offset(P0) == 0


def test_a_revoke_commits_a_finished_batch_before_the_partitions_go() -> None:
    rig = make_rig({P0: 2, P1: 2})
    rig.producer.ack_errors = [KafkaTimeoutError("no ack")]
    batch = rig.step_to(State.FINISHED)
    rig.worker.on_revoked({P0})
    assert batch.state == State.COMMITTED and rig.worker._held is None
    assert (rig.consumer.offset(P0), rig.consumer.offset(P1)) == (2, 2)
    assert rig.worker.checkpoint is not None
    assert rig.worker.checkpoint.offsets.assigned == {P1}


def test_a_revoke_keeps_an_unfinished_batchs_records_of_the_partitions_still_ours() -> None:
    rig = make_rig({P0: 2, P1: 2})
    rig.store.check_errors = [TransientError("redis: refused")]
    rig.step_to(State.PREPARED)
    rig.worker.on_revoked({P0})
    kept = rig.worker._held
    assert kept is not None and kept.state == State.POLLED
    assert [(r.partition, r.offset) for r in kept.records] == [(1, 0), (1, 1)]
    rig.step()
    assert kept.state == State.COMMITTED
    assert (rig.consumer.offset(P0), rig.consumer.offset(P1)) == (0, 2)  # P0: its new owner's


def test_a_revoke_whose_publish_fails_leaves_the_batch_to_the_new_owner() -> None:
    rig = make_rig({P0: 1, P1: 1})
    rig.producer.ack_errors = [KafkaTimeoutError("no ack")]
    rig.step()
    rig.producer.ack_errors = [KafkaTimeoutError("no ack")]
    rig.worker.on_revoked({P0})
    kept = rig.worker._held
    assert kept is not None and kept.state == State.POLLED
    assert [r.partition for r in kept.records] == [1]
    assert rig.consumer.offset(P0) == 0


# --- the parts ------------------------------------------------------------------------


def test_a_batch_moves_one_step_at_a_time() -> None:
    batch = Batch([])
    with pytest.raises(WrongState):
        batch.to(State.FINISHED)  # skipping PREPARED
    for state in list(State)[1:]:
        batch.to(state)
    assert batch.state == State.COMMITTED
    with pytest.raises(WrongState):
        batch.to(State.POLLED)
    unacked = Batch([], state=State.PUBLISHED)
    unacked.to(State.FINISHED)  # the one step back: acknowledgements missing
    with pytest.raises(WrongState):
        Batch([], state=State.ACKED).to(State.FINISHED)


def test_an_unfinished_batch_cannot_be_completed(rig: Rig) -> None:
    assert rig.worker.checkpoint is not None
    with pytest.raises(WrongState):
        rig.worker.checkpoint.complete(Batch([record(P0, 0, page(1))], state=State.PREPARED))
    assert rig.producer.sent == [] and rig.consumer.commits == []


def test_offsets_commit_only_partitions_still_assigned() -> None:
    consumer = FakeConsumer({P0: [], P1: []})
    offsets = Offsets(consumer, keep_alive=lambda s: None, assigned={P1})
    offsets.commit([record(P0, 4, b""), record(P1, 6, b"")])
    assert list(consumer.group) == [P1] and consumer.group[P1].offset == 7
    assert P0 not in offsets.marks


def test_a_mark_waits_out_a_join_round_and_a_lost_commit_is_no_error() -> None:
    waited: list[float] = []
    consumer = FakeConsumer({P0: [record(P0, 0, b"")]})
    consumer.commit_errors = [RebalanceInProgressError()]
    offsets = Offsets(consumer, keep_alive=waited.append, assigned={P0})
    batch = offsets.begin(consumer.poll()[P0])
    assert waited and consumer.group[P0].metadata == "tries=1;careful_until=-1"
    assert batch.state == State.POLLED and not batch.given_up
    consumer.commit_errors = [CommitFailedError()]
    offsets.commit(batch.records)  # the group moved on: the new owner redoes it
    assert consumer.group[P0].offset == 0 and offsets.marks[P0].tries == 1
