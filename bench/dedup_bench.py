"""Near-duplicate detection on a labelled syndication stream, in process, one core.

    python -m bench.dedup_bench --stream STREAM.jsonl [--backend memory|redis]
        [--redis-url URL] [--redis-bucket-bits B] [--containment X] [--errors N] [--json]

STREAM lines are ``{"id","cluster","ts","source","title","text","meta"}`` in
arrival order (the shared syndication generator's format); the deduper sees only
id and text. A document is a true duplicate iff an earlier one has the same
cluster. Metrics follow the reference scorer:

* P / R: a flag counts only when ``duplicate_of`` names a document of the same
  cluster; truncated-copy recall over duplicates whose ``meta.ops`` truncate;
* hard-negative merges: first-of-cluster documents with ``meta.hn`` (footer,
  followup, short) that were flagged, by type;
* decisions/s per core: documents / CPU seconds of this process inside
  ``check`` (Redis: the server's CPU is not included; wall rate reported too);
* memory: in process, RSS growth per indexed (canonical) document; Redis,
  ``used_memory`` growth per indexed document (and the server's CPU per check).
  Both extrapolated linearly to 1M indexed documents.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from worker.dedup import BACKENDS, BUCKET_BITS, MAX_DOCS, REDIS_URL, Deduper, make_deduper
from worker.model import DedupVerdict


@dataclass
class Score:
    docs: int = 0
    true_dups: int = 0
    flagged: int = 0
    correct: int = 0
    truncated: int = 0
    truncated_found: int = 0
    hn_first: Counter = field(default_factory=Counter)
    hn_merged: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        hn_n = sum(self.hn_first.values())
        return {
            "docs": self.docs,
            "true_dups": self.true_dups,
            "P": round(self.correct / self.flagged, 4) if self.flagged else 1.0,
            "R": round(self.correct / self.true_dups, 4) if self.true_dups else 1.0,
            "truncated_R": round(self.truncated_found / self.truncated, 4)
            if self.truncated
            else None,
            "truncated_n": self.truncated,
            "hard_negatives": hn_n,
            "hard_negative_merges": sum(self.hn_merged.values()),
            "merges_by_type": {k: f"{self.hn_merged[k]}/{n}" for k, n in self.hn_first.items()},
        }


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score_one(score: Score, doc: dict, verdict: DedupVerdict, cluster_of: dict, seen: set) -> None:
    meta = doc.get("meta", {})
    is_dup = doc["cluster"] in seen
    flagged = verdict.duplicate_of is not None
    right = flagged and cluster_of.get(verdict.duplicate_of) == doc["cluster"]
    score.docs += 1
    score.true_dups += is_dup
    score.flagged += flagged
    score.correct += right
    if is_dup and any(op.startswith("truncate") for op in meta.get("ops", [])):
        score.truncated += 1
        score.truncated_found += right
    if not is_dup and meta.get("hn"):
        score.hn_first[meta["hn"]] += 1
        score.hn_merged[meta["hn"]] += flagged
    if (is_dup and not right) or (flagged and not right):
        score.errors.append(
            {
                "id": doc["id"],
                "kind": "miss" if is_dup and not flagged else "wrong",
                "duplicate_of": verdict.duplicate_of,
                "similarity": verdict.similarity,
                "ops": meta.get("ops"),
                "hn": meta.get("hn"),
            }
        )


def run(docs: list[dict], deduper: Deduper) -> tuple[Score, dict]:
    score, cluster_of, seen = Score(), {}, set()
    cpu = wall = 0.0
    for doc in docs:
        c0, w0 = time.thread_time(), time.perf_counter()
        verdict = deduper.check(doc["id"], doc["text"])
        cpu += time.thread_time() - c0
        wall += time.perf_counter() - w0
        score_one(score, doc, verdict, cluster_of, seen)
        cluster_of[doc["id"]] = doc["cluster"]
        seen.add(doc["cluster"])
    n = len(docs)
    perf = {
        "decisions_per_cpu_s": round(n / cpu, 1) if cpu else None,
        "decisions_per_wall_s": round(n / wall, 1) if wall else None,
    }
    return score, perf


def redis_stats(url: str) -> tuple[int, float]:
    """(used_memory bytes, server CPU seconds): a shared server's other clients count too."""
    import redis

    client = redis.Redis.from_url(url)
    cpu = client.info("cpu")
    return int(client.info("memory")["used_memory"]), cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def redis_cleanup(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for keys in _batches(client.scan_iter(match=prefix + "*", count=1000), 1000):
        client.unlink(*keys)


def _batches(items: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", type=Path, required=True)
    parser.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0])
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument(
        "--redis-bucket-bits",
        type=int,
        default=BUCKET_BITS,
        help="size for the stream (RedisDeduper)",
    )
    parser.add_argument("--containment", type=float, help="override the verification threshold")
    parser.add_argument("--limit", type=int, help="first N documents only")
    parser.add_argument("--errors", type=int, default=0, help="print up to N wrong decisions")
    parser.add_argument("--json", action="store_true", help="one JSON line instead of text")
    args = parser.parse_args(argv)

    docs = load(args.stream)[: args.limit]
    prefix = f"bench:dedup:{uuid.uuid4().hex[:8]}:"
    deduper = make_deduper(
        args.backend,
        redis_url=args.redis_url,
        key_prefix=prefix,
        max_docs=max(MAX_DOCS, len(docs)),
        redis_bucket_bits=args.redis_bucket_bits,
        containment=args.containment,
    )
    deduper.check("warm-up", "warm up the tables")
    gc.collect()
    rss0 = rss_kb()
    redis0 = redis_stats(args.redis_url) if args.backend == "redis" else (0, 0.0)
    try:
        score, perf = run(docs, deduper)
        gc.collect()
        if args.backend == "redis":
            mem1, cpu1 = redis_stats(args.redis_url)
            grown = mem1 - redis0[0]
            perf["redis_server_cpu_us_per_check"] = round((cpu1 - redis0[1]) / len(docs) * 1e6)
        else:
            grown = (rss_kb() - rss0) * 1024
    finally:
        if args.backend == "redis":
            redis_cleanup(args.redis_url, prefix)
        deduper.close()
    indexed = score.docs - score.flagged  # every document not flagged as a copy
    perf["indexed_docs"] = indexed
    perf["bytes_per_indexed_doc"] = round(grown / indexed) if indexed else None
    perf["bytes_per_stream_doc"] = round(grown / len(docs)) if docs else None
    perf["mb_per_1m_indexed_docs"] = round(grown / indexed * 1e6 / 2**20) if indexed else None
    result = {"stream": args.stream.name, "backend": args.backend, **score.as_dict(), **perf}
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    for error in score.errors[: args.errors]:
        print(json.dumps(error), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
