"""State that survives a SIGKILL: a memory-backend worker killed mid-stream and restarted
still knows every story it published, so copies of them are recorded as duplicates.

Real worker processes on a real broker; the same scenario runs longer in
``python -m bench.faults_bench --only crash_copies``.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from tests.kit.faults import crash_copies_scenario, worker_env
from tests.kit.kafka import Topics, produce, read_all, start_worker, wait_for
from tests.kit.pages import article_html
from worker import config, kafka_io

pytestmark = pytest.mark.integration

ROWS_APPLIED = "ingest_dedup_changelog_rows_applied_total"


def test_copies_of_stories_published_before_a_sigkill_are_duplicates_after_it(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    run = crash_copies_scenario(
        kafka_bootstrap, Topics(f"st{unique}", partitions=3), tmp_path, records=120,
        rng=random.Random(7),
    )  # fmt: skip
    copies = run.observed["copies_fed"]
    assert isinstance(copies, int) and copies > 0, run.observed
    assert run.tally.copies_published == 0, run.summary()
    assert run.observed["copies_recorded_duplicate"] == copies, run.summary()
    assert not run.tally.lost and not run.tally.wrong, run.summary()
    assert run.observed["rebuilt_rows"], "the restarted worker read nothing back"
    assert run.leftover_processes == []


def test_without_the_changelog_the_same_copies_are_published_as_new(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    """The control: the scenario above cannot pass by accident."""
    run = crash_copies_scenario(
        kafka_bootstrap, Topics(f"so{unique}", partitions=3), tmp_path, records=120,
        rng=random.Random(7), changelog="off",
    )  # fmt: skip
    assert run.tally.copies_published > 0, run.summary()
    assert not run.tally.lost, run.summary()


def _key_on(partition: int, partitions: int, prefix: str) -> bytes:
    """A host key the producers' murmur2 partitioner puts on ``partition``."""
    from kafka.partitioner.default import murmur2

    for i in range(1000):
        key = f"{prefix}{i}".encode()
        if (murmur2(key) & 0x7FFFFFFF) % partitions == partition:
            return key
    raise AssertionError("no key found")


def _two_workers_share(
    bootstrap: str, topics: Topics, tmp_path: Path, changelog: str
) -> tuple[int, int, int]:
    """Originals on one partition, then their copies on the other, each partition owned by
    one of two running memory-backend workers: (copies, recorded duplicates, published)."""
    env = worker_env(
        bootstrap, topics, "state-test", INGEST_DEDUP_BACKEND="memory",
        INGEST_DEDUP_CHANGELOG=changelog, INGEST_PROCESSES="1",
    )  # fmt: skip
    kafka_io.ensure_topics(config.load(env=env))
    here, there = _key_on(0, 2, "orig"), _key_on(1, 2, "copy")
    workers = [start_worker(env, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        for w in workers:
            wait_for(lambda w=w: w.metrics().get("ingest_assigned_partitions") == 1, 60, "one each")

        def page(i: int, key: bytes) -> tuple[bytes, bytes, list]:
            url = f"https://{key.decode()}.example/{topics.prefix}/{i}"
            return key, orjson.dumps({"url": url, "html": article_html(7000 + i, url=url)}), []

        def rows_applied() -> float:
            return sum(w.metrics().get(ROWS_APPLIED, 0) for w in workers)

        n = 12
        produce(bootstrap, topics.input, [page(i, here) for i in range(n)])
        assert len(read_all(bootstrap, topics.output, n, timeout=90)) == n
        if changelog != "off":  # the other worker takes the rows a poll later: wait for it
            wait_for(lambda: rows_applied() >= n, 60, "the originals' rows applied")
        produce(bootstrap, topics.input, [page(i, there) for i in range(n)])
        wait_for(
            lambda: (
                sum(w.metrics().get("ingest_records_consumed_total", 0) for w in workers) >= 2 * n
                and sum(
                    w.metrics().get("ingest_articles_published_total", 0)
                    + sum(
                        v for k, v in w.metrics().items() if k.startswith("ingest_duplicates_total")
                    )
                    for w in workers
                )
                >= 2 * n
            ),
            90,
            "the copies processed",
        )
        published = len(read_all(bootstrap, topics.output, n, timeout=10, settle=1)) - n
        duplicates = len(read_all(bootstrap, topics.duplicates, 0, timeout=5, settle=1))
        assert (rows_applied() > 0) is (changelog != "off")
        return n, duplicates, published
    finally:
        for w in workers:
            w.stop()


def test_running_memory_workers_see_each_others_stories_through_the_changelog(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    copies, duplicates, published = _two_workers_share(
        kafka_bootstrap, Topics(f"sw{unique}", partitions=2), tmp_path, ""
    )
    assert (duplicates, published) == (copies, 0)


def test_without_the_changelog_each_memory_worker_has_its_own_index(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    copies, duplicates, published = _two_workers_share(
        kafka_bootstrap, Topics(f"sx{unique}", partitions=2), tmp_path, "off"
    )
    assert (duplicates, published) == (0, copies)
