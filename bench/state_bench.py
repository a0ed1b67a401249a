"""Start-up rebuild of the in-process dedupe index from its changelog: time, memory, bytes.

    python -m bench.state_bench                       # 1,000,000 stories through Tansu
    python -m bench.state_bench --stories 200000 --no-broker

Writes ``--stories`` changelog rows (one message per ``--batch`` rows, as a worker writes
one per batch) to a changelog topic on an embedded broker, then starts a fresh process
that rebuilds a ``MemoryDeduper`` from it exactly as a worker does at start-up
(``state.DedupState.restore``) and reports its CPU seconds and the resident memory the
index added. ``--no-broker`` rebuilds from the encoded messages in memory (the decode and
apply cost alone).

The rows are synthetic but shaped as real ones: every story a canonical (the worst
case: a copy's row has no sketch), 32 band keys, a bottom-256 sample of uniform 24-bit
shingle hashes of a text of lognormal size (median 600 shingles), 32-hex page ids,
Kafka origins, timestamps spread over the last six days of the seven-day window.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from worker import config, kafka_io
from worker.dedup import changelog

STATUS_NEW = 0


def synthetic_rows(rng: np.random.Generator, n: int, first: int, now: float) -> changelog.Entries:
    """``n`` canonical rows shaped as a worker's (see the module docstring)."""
    sizes = np.clip(rng.lognormal(np.log(600), 0.6, n), 20, 20000).astype(np.int32)
    counts = np.minimum(sizes, 256).astype(np.uint16)
    samples = []
    for size, count in zip(sizes.tolist(), counts.tolist(), strict=True):
        gaps = rng.exponential(2**24 / (size + 1), count)
        samples.append(np.minimum(np.cumsum(gaps), 2**24 - 1).astype(np.uint32))
    hashes = {name: rng.integers(0, 256, (n, 16), dtype=np.uint8) for name in changelog._HASHES}
    hashes["cluster"] = hashes["exact"].copy()  # a canonical's cluster is its exact hash
    hashes["chash"] = hashes["raw"].copy()  # no template line removed
    hashes["prev"][:] = 0  # first versions
    return changelog.Entries(
        kind=np.zeros(n, np.uint8),
        ts=now - rng.uniform(0, 6 * 86400, n),
        size=sizes,
        version=np.ones(n, np.int32),
        similarity=np.full(n, np.nan, np.float32),
        status=np.full(n, STATUS_NEW, np.uint8),
        **hashes,
        band_counts=np.full(n, 32, np.uint8),
        bands=rng.integers(0, 2**63, 32 * n, dtype=np.uint64),
        sample_counts=counts,
        samples=np.concatenate(samples),
        doc_ids=[f"{x:032x}" for x in rng.integers(0, 2**62, n).tolist()],
        origins=[f"k:pages.raw/{(first + i) % 6}/{(first + i) // 6}" for i in range(n)],
        dup_of=[None] * n,
    )


def messages(stories: int, batch: int, seed: int) -> list[bytes]:
    rng, now = np.random.default_rng(seed), time.time()
    return [
        changelog.encode_batch(synthetic_rows(rng, min(batch, stories - lo), lo, now))
        for lo in range(0, stories, batch)
    ]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rebuild(args: argparse.Namespace) -> dict[str, object]:
    """In this (fresh) process: a MemoryDeduper rebuilt from the topic or from a file of
    messages; CPU seconds and the resident memory it added."""
    import gc

    from worker.dedup.memory import MemoryDeduper

    settings = config.load(
        env={
            "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap or "unused:9092",
            "INGEST_DEDUP_CHANGELOG": args.topic,
            "INGEST_DEDUP_MAX_DOCS": str(max(args.stories, 100)),
        }
    )
    deduper = MemoryDeduper(max_docs=settings.dedup_max_docs)
    gc.collect()
    before, cpu0, wall0 = rss_mb(), time.process_time(), time.monotonic()
    if args.bootstrap:
        from worker import state

        stats = state.DedupState(settings, deduper, None, args.topic).restore()
        rows = stats.rows
    else:
        rows = 0
        blob = Path(args.messages).read_bytes()
        at = 0
        waiting = []
        while at < len(blob):
            size = int.from_bytes(blob[at : at + 4], "little")
            waiting.append(changelog.decode_batch(blob[at + 4 : at + 4 + size]))
            at += 4 + size
            if sum(map(len, waiting)) >= changelog.REBUILD_BLOCK_ROWS or at >= len(blob):
                rows += deduper.apply_entries(changelog.concat(waiting))
                waiting = []
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    gc.collect()
    added = rss_mb() - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows_rebuilt": rows,
        "held": len(deduper),
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "rss_added_mb": round(added),
        "rss_bytes_per_story": round(added * 2**20 / max(rows, 1)),
        "peak_rss_mb": round(peak),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=256, help="rows per message (batch size)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--no-broker", action="store_true", help="rebuild from memory only")
    parser.add_argument("--bootstrap", default="", help=argparse.SUPPRESS)  # the child's
    parser.add_argument("--topic", default="state-bench.dedup-changelog", help=argparse.SUPPRESS)
    parser.add_argument("--messages", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(rebuild(args)))
        return 0
    t0 = time.process_time()
    encoded = messages(args.stories, args.batch, args.seed)
    figures: dict[str, object] = {
        "stories": args.stories,
        "messages": len(encoded),
        "changelog_bytes": sum(map(len, encoded)),
        "bytes_per_story": round(sum(map(len, encoded)) / args.stories),
        "encode_cpu_s": round(time.process_time() - t0, 1),
    }
    child = [sys.executable, "-m", "bench.state_bench", "--child", "--stories", str(args.stories)]
    with tempfile.TemporaryDirectory() as tmp:
        if args.no_broker:
            path = Path(tmp) / "messages.bin"
            with path.open("wb") as f:
                for value in encoded:
                    f.write(len(value).to_bytes(4, "little") + value)
            del encoded
            out = subprocess.run([*child, "--messages", str(path)], capture_output=True, text=True)
            figures["rebuild_from_memory"] = _parsed(out)
        else:
            from worker.broker import start_broker

            broker = start_broker(log_path=os.path.join(tmp, "tansu.log"))
            try:
                settings = config.load(
                    env={"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "INGEST_PARTITIONS": "6"}
                )
                kafka_io.ensure_topics(settings, [args.topic])
                producer = kafka_io.make_producer(settings)
                writer = changelog.ChangelogWriter(producer, args.topic, "bench")
                t1 = time.monotonic()
                for value in encoded:  # as the writer sends them, without encoding again
                    producer.send(args.topic, key=b"bench", value=value)
                producer.flush()
                producer.close()
                del writer, encoded
                figures["produce_wall_s"] = round(time.monotonic() - t1, 1)
                out = subprocess.run(
                    [*child, "--bootstrap", broker.bootstrap, "--topic", args.topic],
                    capture_output=True,
                    text=True,
                )
                figures["rebuild_from_broker"] = _parsed(out)
            finally:
                broker.stop()
    print(json.dumps(figures, indent=1))
    return 0


def _parsed(out: subprocess.CompletedProcess[str]) -> object:
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
