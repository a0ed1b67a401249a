"""Nothing lost: SIGKILLed workers, a broker restart, a Redis outage and rebalances, each
checked by reading every output topic back and mapping it to the input records.

The same scenarios run longer in ``python -m bench.faults_bench``.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.faults import (
    Run,
    broker_restart_scenario,
    kill_scenario,
    rebalance_scenario,
    redis_outage_scenario,
)
from tests.kit.kafka import Topics
from tests.kit.services import (
    RedisServer,
    moto_available,
    private_redis,
    redis_available,
    start_moto,
)

pytestmark = pytest.mark.integration

KILL_BATCH_SIZE = 16  # what kill_scenario runs its workers with
WORKER_BATCH_SIZE = 8  # what the other scenarios run theirs with


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.skip("no redis-server binary to start a Redis of our own")
    with private_redis(tmp_path / "redis") as server:
        yield server


def assert_nothing_lost(run: Run) -> None:
    """Every input ended exactly once as it must (a redo only writes the same keys again),
    and the stream held every kind of outcome, so none of these checks is vacuous."""
    t = run.tally
    assert {"published", "duplicate", "dead_letter", "skipped"} <= set(t.outcomes), t.outcomes
    assert not t.lost, f"inputs with no outcome: {t.lost[:10]} ({run.observed})"
    assert not t.wrong, t.wrong[:10]
    assert not t.key_conflicts, t.key_conflicts[:10]
    assert t.accounted == t.records_in
    assert run.leftover_processes == [], "processes outlived their worker"


def test_sigkilled_workers_lose_nothing_and_redo_at_most_a_batch_per_kill(
    kafka_bootstrap: str, unique: str, tmp_path: Path, redis: RedisServer
) -> None:
    run = kill_scenario(
        kafka_bootstrap,
        Topics(f"k{unique}"),
        tmp_path,
        records=240,
        kills=3,
        rng=random.Random(11),
        redis=redis,
    )
    assert_nothing_lost(run)
    assert run.observed["final_exit_code"] == 0
    assert run.tally.copies_published == 0  # the shared index outlives the kills
    assert run.tally.recrawls_published == 0
    assert run.tally.repeats <= run.kills * KILL_BATCH_SIZE


def test_a_broker_restart_is_survived_by_the_same_worker_process(tmp_path: Path) -> None:
    if not moto_available():
        pytest.skip("moto[server] not installed: no local S3 for the broker's storage")
    s3 = start_moto(tmp_path / "moto.log")
    try:
        run = broker_restart_scenario(s3, tmp_path, records=200, restarts=1, rng=random.Random(12))
    finally:
        s3.stop()
    assert_nothing_lost(run)
    assert run.observed["worker_survived"], "the worker had to be restarted"
    assert run.observed["worker_exit_code"] == 0
    # a batch in flight at the restart may be written twice (same keys), no more
    assert run.tally.repeats <= WORKER_BATCH_SIZE * run.broker_restarts


def test_a_redis_outage_holds_the_batch_and_loses_nothing_across_a_rebalance(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    """A second worker leaves during the outage: the one waiting for Redis is handed its
    partitions, and must not skip their records while it waits."""
    if not redis_available():
        pytest.skip("no redis-server binary to start a Redis of our own")
    run = redis_outage_scenario(
        kafka_bootstrap,
        Topics(f"r{unique}", partitions=4),
        tmp_path,
        records=200,
        rng=random.Random(13),
        leaver=True,
    )
    seen = run.observed
    assert seen["leaver_exit_code"] == 0
    assert seen["readyz_during_outage"][0] == 503
    assert seen["store_up_during_outage"] == 0
    assert seen["commits_during_outage"] == 0  # held and retried, not skipping ahead
    assert seen["worker_alive_during_outage"]
    assert seen["dedup_errors"] > 0
    assert seen["store_up_after"] == 1
    assert seen["dead_letters_from_dedupe"] == 0  # held and retried, never dead-lettered
    assert_nothing_lost(run)
    assert run.tally.copies_published == 0
    assert run.tally.recrawls_published == 0


@pytest.mark.parametrize("leave", [signal.SIGTERM], ids=["sigterm"])
def test_workers_joining_and_leaving_under_load_lose_nothing(
    kafka_bootstrap: str, unique: str, tmp_path: Path, redis: RedisServer, leave: int
) -> None:
    topics = Topics(f"b{unique}", partitions=6)
    run = rebalance_scenario(
        kafka_bootstrap,
        topics,
        tmp_path,
        records=240,
        rng=random.Random(14),
        redis=redis,
        rate=30.0,
        remove_signal=leave,
    )
    assert_nothing_lost(run)
    assert run.observed["exit_codes"] == [0, 0, 0]
    assert run.tally.copies_published == 0
    assert run.tally.recrawls_published == 0
    # bounded reprocessing: at most one batch per partition moved
    assert run.tally.repeats <= run.observed["batch_size"] * topics.partitions
