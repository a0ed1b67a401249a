"""Two workers racing copies of the same stories, with reversed fetch times, on a real broker
and a real Redis: the copy fetched earlier ends canonical whichever arrived first.

The same scenario runs longer in ``python -m bench.faults_bench --only race``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.kit.kafka import Topics
from tests.kit.race import race_scenario

pytestmark = pytest.mark.integration


def test_two_workers_racing_copies_end_with_the_earliest_fetched_as_canonical(
    kafka_bootstrap: str, unique: str, tmp_path: Path, redis_url: str
) -> None:
    prefix = f"test:race:{unique}:"
    try:
        run = race_scenario(
            kafka_bootstrap,
            Topics(f"c{unique}", partitions=2),
            tmp_path,
            stories=8,
            redis_url=redis_url,
            key_prefix=prefix,
        )
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    f = run.figures
    assert f["wrong_canonicals"] == 0, f
    assert f["corrected"] == 8
    assert f["corrections_metric"] == 8  # counted once each, by the worker that corrected
    assert f["worker_exit_codes"] == [0, 0]
    assert f["leftover_processes"] == 0
