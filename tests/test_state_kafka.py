"""State that survives a SIGKILL: a memory-backend worker killed mid-stream and restarted
still knows every story it published, so copies of them are recorded as duplicates.

Real worker processes on a real broker; the same scenario runs longer in
``python -m bench.faults_bench --only crash_copies``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.faults_bench import crash_copies_scenario
from tests.kafka_helpers import Topics

pytestmark = pytest.mark.integration


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
