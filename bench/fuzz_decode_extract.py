"""Fuzz decode + extract (+ the article record) with hypothesis, for minutes.

    python -m bench.fuzz_decode_extract --minutes 5 [--seed N]

The target and its property are in ``tests/kit/fuzz.py`` (tests/test_faults_fuzz.py runs it
briefly): every message ends as exactly one outcome with a snake_case reason, and a
published article is valid JSON against the schema.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tests.kit.fuzz import FuzzStats, make_stages, run_round


def fuzz(minutes: float, seed: int = 0, per_round: int = 300) -> dict[str, object]:
    """Rounds of ``per_round`` examples with fresh seeds until ``minutes`` have passed."""
    stats, stages = FuzzStats(), make_stages()
    deadline = time.monotonic() + minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        try:
            run_round(stats, stages, per_round, seed + rounds)
        except AssertionError as exc:  # hypothesis re-raises the shrunk failing example
            stats.failures.append(f"seed {seed + rounds}: {exc}"[:2000])
        rounds += 1
    return {
        "scenario": "fuzz",
        "minutes": minutes,
        "rounds": rounds,
        "examples": stats.examples,
        "failures": stats.failures,
        "slowest_example_s": round(stats.slowest_s, 2),
        "outcomes": dict(stats.outcomes.most_common(25)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = fuzz(args.minutes, args.seed)
    print(json.dumps(report, indent=1))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
