"""Fault benchmark: the worker under SIGKILLs, a broker restart, a Redis outage, rebalances
and hostile input; every input record is accounted for from the topics.

    python -m bench.faults_bench                 # everything, about 15 minutes on 2 cores
    python -m bench.faults_bench --only kill --kills 30 --records 4000
    python -m bench.faults_bench --json figures.json
    python -m bench.faults_bench --only race,storm   # who is canonical, what is republished
    python -m bench.faults_bench --only crash_copies --records 3000   # changelog on and off

Metrics reset when a worker restarts, so the accounting reads the output, duplicates and
dead-letter topics back and maps every record to the input it came from (provenance
partition/offset, or the dead letter's source_partition/source_offset). An input ends as
an article, a duplicate, a dead letter, or a skip (no trace, and its offset committed).

The same scenario functions run, smaller, in tests/test_faults*.py. Services are started
here, on loopback: a Tansu broker (memory storage, or s3 storage on a local moto server so
that data and committed offsets survive a broker restart) and a private redis-server.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from tests.kit.faults import (
    MB,
    HostileRun,
    Run,
    broker_restart_scenario,
    crash_copies_scenario,
    hostile_scenario,
    kill_scenario,
    poison_scenario,
    rebalance_scenario,
    redis_outage_scenario,
)
from tests.kit.kafka import (
    Topics,
)
from tests.kit.services import private_redis, start_moto, tansu_memory

# --- the benchmark -------------------------------------------------------------------------


def _scenarios(args: argparse.Namespace, workdir: Path) -> dict[str, Callable[[], object]]:
    rng = random.Random(args.seed)

    def sub(name: str) -> Path:
        path = workdir / name
        path.mkdir(exist_ok=True)
        return path

    def kill() -> object:
        with private_redis(sub("kill") / "redis") as redis, tansu_memory(sub("kill")) as b:
            topics = Topics(f"k{uuid.uuid4().hex[:8]}", partitions=3)
            rate = args.rate or None
            return kill_scenario(
                b, topics, sub("kill"), records=args.records, kills=args.kills, rng=rng,
                redis=redis, rate=rate,
            )  # fmt: skip

    def crash_copies() -> object:
        runs = []
        for changelog in ("", "off") if args.kill_dedup == "memory" else ("",):
            with tansu_memory(sub("crash_copies")) as b:
                topics = Topics(f"c{uuid.uuid4().hex[:8]}", partitions=3)
                run = crash_copies_scenario(
                    b, topics, sub("crash_copies"), records=args.records // 3, rng=rng,
                    changelog=changelog,
                )  # fmt: skip
                runs.append(run)
        return runs

    def broker() -> object:
        s3 = start_moto(sub("broker") / "moto.log")
        try:
            return broker_restart_scenario(
                s3, sub("broker"), records=args.records // 2, restarts=4, rng=rng
            )
        finally:
            s3.stop()

    def redis() -> object:
        with tansu_memory(sub("redis")) as b:
            topics = Topics(f"r{uuid.uuid4().hex[:8]}")
            return redis_outage_scenario(
                b, topics, sub("redis"), records=args.records // 3, rng=rng, down_s=15
            )

    def rebalance() -> object:
        runs = []
        redis_dir = sub("rebalance") / "redis"
        with private_redis(redis_dir) as redis, tansu_memory(sub("rebalance")) as b:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                topics = Topics(f"b{uuid.uuid4().hex[:8]}", partitions=6)
                run = rebalance_scenario(
                    b, topics, sub("rebalance"), records=args.records // 2, rng=rng,
                    redis=redis, remove_signal=sig,
                )  # fmt: skip
                runs.append(run)
        return runs

    def hostile() -> object:
        with tansu_memory(sub("hostile")) as b:
            topics = Topics(f"x{uuid.uuid4().hex[:8]}")
            return hostile_scenario(
                b, topics, sub("hostile"), cap=64 * MB, big_page_bytes=50 * MB, rng=rng,
                extract_timeout_s=10.0,
            )  # fmt: skip

    def poison() -> object:
        with tansu_memory(sub("poison")) as b:
            topics = Topics(f"p{uuid.uuid4().hex[:8]}", partitions=1)
            return poison_scenario(b, topics, sub("poison"), slow_only=args.poison_slow_only)

    def race() -> object:
        from tests.kit.race import race_scenario

        with private_redis(sub("race") / "redis") as redis, tansu_memory(sub("race")) as b:
            topics = Topics(f"c{uuid.uuid4().hex[:8]}", partitions=2)
            return race_scenario(
                b, topics, sub("race"), stories=args.race_stories, redis_url=redis.url
            )

    def storm() -> object:
        from tests.kit.race import storm_scenario

        runs = []
        with private_redis(sub("storm") / "redis") as redis, tansu_memory(sub("storm")) as b:
            for url in (redis.url, None):
                topics = Topics(f"s{uuid.uuid4().hex[:8]}", partitions=3)
                run = storm_scenario(
                    b, topics, sub("storm"), urls=args.storm_urls, rounds=args.storm_rounds,
                    rng=rng, redis_url=url,
                )  # fmt: skip
                runs.append(run)
        return runs

    def fuzz() -> object:
        from bench.fuzz_decode_extract import fuzz as run_fuzz

        return run_fuzz(minutes=args.fuzz_minutes, seed=args.seed)

    return {
        "kill": kill,
        "crash_copies": crash_copies,
        "broker": broker,
        "redis": redis,
        "rebalance": rebalance,
        "hostile": hostile,
        "poison": poison,
        "race": race,
        "storm": storm,
        "fuzz": fuzz,
    }


def _figures(result: object) -> object:
    if isinstance(result, list):
        return [_figures(r) for r in result]
    if isinstance(result, Run) or hasattr(result, "summary"):
        return result.summary()  # type: ignore[attr-defined]
    if isinstance(result, HostileRun):
        return {
            **result.run.summary(),
            "hostile_kinds": result.kinds,
            "outcome_of": result.outcome_of,
            "dead_letter_reasons": result.dead_reasons,
            "skip_reasons": dict(result.skip_reasons),
            "peak_rss_mb": {k: round(v) for k, v in asdict(result.peaks).items()},
            "readyz_after": result.ready_after,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default="kill,crash_copies,broker,redis,rebalance,hostile,poison,race,storm,fuzz"
    )
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument(
        "--kill-dedup",
        default="memory",
        choices=("memory", "changelog"),
        help="crash_copies: run with the dedup changelog and without it (memory), or with it only",
    )
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=0.0, help="input records/s while killing")
    parser.add_argument("--fuzz-minutes", type=float, default=3.0)
    parser.add_argument("--race-stories", type=int, default=200)
    parser.add_argument("--storm-urls", type=int, default=1000)
    parser.add_argument("--storm-rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--poison-slow-only", action="store_true", help="poison: only the slow pages (livelock)"
    )
    parser.add_argument("--workdir", default="", help="logs go here (default: a temp dir)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="faults-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    scenarios = _scenarios(args, workdir)
    figures: dict[str, object] = {}
    failed = False
    for name in args.only.split(","):
        print(f"== {name}", file=sys.stderr, flush=True)
        result = _figures(scenarios[name]())
        figures[name] = result
        print(json.dumps(result, indent=1, default=str), flush=True)
        failed |= _lost_anything(result)
    print(json.dumps(_headline(figures), indent=1), flush=True)
    print(f"logs: {workdir}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    return 1 if failed else 0


def _lost_anything(result: object) -> bool:
    if isinstance(result, list):
        return any(_lost_anything(r) for r in result)
    if isinstance(result, dict) and "lost" in result:
        return bool(result["lost"] or result["wrong"] or result["key_conflicts"])
    if isinstance(result, dict):  # race, storm
        return bool(result.get("wrong_canonicals") or result.get("republished_wrongly"))
    return False


def _headline(figures: dict[str, object]) -> dict[str, object]:
    rows = []
    for value in figures.values():
        rows.extend(value if isinstance(value, list) else [value])
    runs = [r for r in rows if isinstance(r, dict) and "lost" in r]
    races = [r for r in rows if isinstance(r, dict) and r.get("scenario") in ("race", "storm")]
    return {
        "kills_survived": sum(int(r.get("kills", 0)) for r in runs),
        "broker_restarts": sum(int(r.get("broker_restarts", 0)) for r in runs),
        "records_in": sum(int(r["records_in"]) for r in runs),
        "records_out": sum(int(r["records_out"]) for r in runs),
        "records_lost": sum(int(r["lost"]) for r in runs),
        "hostile_kinds": sum(int(r.get("hostile_kinds", 0)) for r in runs),
        "peak_rss_mb": next((r["peak_rss_mb"] for r in runs if "peak_rss_mb" in r), None),
        "wrong_canonicals": sum(int(r.get("wrong_canonicals", 0)) for r in races),
        "republished_wrongly": sum(int(r.get("republished_wrongly", 0)) for r in races),
    }


if __name__ == "__main__":
    sys.exit(main())
