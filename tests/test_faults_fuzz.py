"""A short run of the decode + extract fuzz target (the benchmark runs it for minutes)."""

from __future__ import annotations

from tests.kit.fuzz import FuzzStats, make_stages, run_round


def test_fuzzed_messages_each_end_as_one_valid_outcome() -> None:
    stats = FuzzStats()
    run_round(stats, make_stages(), n=150, round_seed=20261128)
    assert stats.examples >= 100
    assert len(stats.outcomes) > 3  # the strategies reach several outcomes, not one
