"""A batch that never finishes is narrowed to its record and given up, counted in Kafka."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from tests.kit.kafka import Topics, committed_offsets, produce, read_all
from tests.test_worker_kafka import envelope
from worker.app import Worker
from worker.attempts import MAX_TRIES, Mark, finished, merge, parse, plan
from worker.checkpoint import Batch
from worker.config import Settings, load
from worker.extract import make_extractor
from worker.parallel import CpuPool
from worker.pipeline import build_stages


def test_a_first_start_processes_the_batch() -> None:
    assert plan(None, 10, 20) == (Mark(10, 1, -1), "batch")
    assert plan(Mark(10, 0, -1), 10, 20) == (Mark(10, 1, -1), "batch")


def test_a_second_start_at_the_same_offset_goes_one_record_at_a_time() -> None:
    mark, mode = plan(Mark(10, 1, -1), 10, 20)
    assert (mark, mode) == (Mark(10, 2, 21), "single")
    # that record finished: the next ones stay careful up to the end of the failed batch
    after = finished(mark, 11)
    assert after == Mark(11, 0, 21)
    assert plan(after, 11, 30) == (Mark(11, 1, 21), "single")
    assert plan(finished(Mark(20, 1, 21), 21), 21, 40) == (Mark(21, 1, -1), "batch")


def test_a_record_started_max_tries_times_is_given_up() -> None:
    mark = Mark(10, 1, -1)
    modes = []
    for _ in range(MAX_TRIES):
        mark, mode = plan(mark, 10, 20)
        modes.append(mode)
    assert modes == ["single", "single", "give_up"]
    assert mark.tries == MAX_TRIES + 1


def test_marks_round_trip_through_commit_metadata_and_foreign_metadata_is_ignored() -> None:
    mark = Mark(5, 2, 9)
    assert parse(5, mark.metadata()) == mark
    assert parse(5, "") == Mark(5)
    assert parse(5, "written by another tool") == Mark(5)
    assert parse(5, "tries=x") == Mark(5)
    assert parse(None, "tries=3") is None


def test_the_group_mark_wins_unless_it_lost_the_count() -> None:
    assert merge(None, Mark(3, 1)) == Mark(3, 1)
    assert merge(Mark(3, 2), None) == Mark(3, 2)
    assert merge(Mark(3, 2), Mark(3, 0)) == Mark(3, 2)  # metadata dropped by the broker
    assert merge(Mark(3, 2), Mark(7, 0)) == Mark(7, 0)  # someone else moved on


def new_worker(settings: Settings) -> Worker:
    worker = Worker(settings, build_stages(settings), CpuPool(settings, make_extractor(), 0))
    worker.start()
    return worker


def poll_some(worker: Worker) -> list:
    for _ in range(100):
        polled = worker._poll()
        if polled:
            return polled
    raise AssertionError("nothing polled")


def begin(worker: Worker) -> Batch:
    assert worker.checkpoint is not None
    return worker.checkpoint.offsets.begin(poll_some(worker))


def started(held: Batch) -> list:
    return [r.offset for r in held.records] + (["given_up"] if held.given_up else [])


def die(worker: Worker) -> None:
    """Leave without committing anything, as an OOM kill would."""
    assert worker.consumer is not None
    worker.consumer.close(autocommit=False)
    worker.consumer = None
    worker.pool.close()


def broker_keeps_commit_metadata(bootstrap: str, topic: str) -> bool:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{topic}.probe")
    tp = TopicPartition(topic, 0)
    try:
        consumer.commit({tp: OffsetAndMetadata(0, "probe", -1)})
        committed = consumer.committed(tp, metadata=True)
    finally:
        consumer.close(autocommit=False)
    return committed is not None and committed.metadata == "probe"


@pytest.fixture
def poisoned(kafka_bootstrap: str, unique: str) -> tuple[Topics, Settings]:
    topics = Topics(f"t{unique}", partitions=1)
    settings = load(env=topics.env(kafka_bootstrap), metrics_port=0, processes=0)
    produce(kafka_bootstrap, topics.input, [(b"k", envelope(i), []) for i in range(3)])
    return topics, settings


def finish_and_check(kafka_bootstrap: str, topics: Topics, worker: Worker) -> None:
    """The given-up record is dead-lettered, the rest published, everything committed."""
    worker.run(max_idle_s=5)
    dlq = read_all(kafka_bootstrap, topics.dlq, 1, timeout=30)
    out = read_all(kafka_bootstrap, topics.output, 2, timeout=30)
    assert [dict(r.headers)["error_reason"] for r in dlq] == [b"not_finished"]
    assert len(out) == 2
    assert committed_offsets(kafka_bootstrap, topics.group, topics.input, 1) == {0: 3}


@pytest.mark.integration
def test_a_batch_redone_in_one_process_is_narrowed_then_given_up(
    kafka_bootstrap: str, poisoned: tuple[Topics, Settings]
) -> None:
    """The same process starts the batch again (its batch was lost to an eviction)."""
    topics, settings = poisoned
    worker = new_worker(settings)
    assert worker.consumer is not None
    starts = []
    for _ in range(MAX_TRIES + 1):
        held = begin(worker)
        starts.append(started(held))
        worker.consumer.seek(TopicPartition(topics.input, 0), 0)  # redone from the start
    assert starts == [[0, 1, 2], [0], [0], [0, "given_up"]]
    finish_and_check(kafka_bootstrap, topics, worker)


@pytest.mark.integration
def test_workers_that_never_finish_a_batch_give_its_record_up_on_the_fourth_start(
    kafka_bootstrap: str, poisoned: tuple[Topics, Settings]
) -> None:
    """Each worker starts the batch and dies before committing; the count lives in the
    group's committed offsets, so the next worker sees it."""
    topics, settings = poisoned
    if not broker_keeps_commit_metadata(kafka_bootstrap, topics.input):
        pytest.skip("this broker drops commit metadata (Tansu 0.6): counts last a process")
    starts = []
    for _ in range(MAX_TRIES + 1):
        worker = new_worker(settings)
        starts.append(started(begin(worker)))
        die(worker)
    assert starts == [[0, 1, 2], [0], [0], [0, "given_up"]]
    finish_and_check(kafka_bootstrap, topics, new_worker(settings))
