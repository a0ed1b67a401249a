"""Recrawl storm against the dedupe index: the same URLs crawled again and again.

    python -m bench.recrawl_bench [--pages 1000] [--rounds 10] [--backend memory|redis]

Each round crawls every page again (a new record each time); half the pages change
their text every round, the other half never do, and every round is then replayed
once (the same records again, as after a crash). Reports how each record ended and
how many were published that should not have been (an unchanged recrawl published,
or a replay given another verdict): it must be 0. In process it also reports the
index's memory per page (tracemalloc), recrawl state included.
"""

from __future__ import annotations

import argparse
import json
import random
import tracemalloc
import uuid
from collections import Counter

from worker.dedup import BACKENDS, REDIS_URL, make_deduper
from worker.dedup.pages import text_hash
from worker.model import Sighting


def page_text(page: int, version: int) -> str:
    rng = random.Random(page * 1000 + version)
    words = [f"w{rng.randrange(50_000)}" for _ in range(300)]
    return " ".join(words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0])
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args(argv)
    prefix = f"bench:recrawl:{uuid.uuid4().hex[:8]}:"
    d = make_deduper(args.backend, redis_url=args.redis_url, key_prefix=prefix)
    tracemalloc.start()
    ended: Counter[str] = Counter()
    wrong = 0
    offset = 0
    for rnd in range(args.rounds):
        verdicts = {}
        for page in range(args.pages):
            changes = page % 2 == 1
            body = page_text(page, rnd if changes else 0)
            seen = Sighting(f"k:in/0/{offset}", text_hash(body), text_hash(body))
            offset += 1
            v = d.check(f"page-{page}", body, None, seen)
            if v.reservation is not None:
                d.confirm([v.reservation])
            ended[v.status] += 1
            expected = "new" if rnd == 0 else ("updated" if changes else "unchanged")
            wrong += v.status != expected
            verdicts[page] = (seen, body, v)
        for page, (seen, body, v) in verdicts.items():  # the round replayed
            again = d.check(f"page-{page}", body, None, seen)
            ended["replay"] += 1
            wrong += again != v
    used = tracemalloc.get_traced_memory()[0]
    report = {
        "backend": args.backend,
        "records": sum(ended.values()),
        "ended": dict(ended),
        "wrongly_published_or_changed": wrong,
    }
    if args.backend == "memory":
        report["index_bytes_per_page"] = round(used / args.pages)
    else:
        client = d._client  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        kinds: Counter[str] = Counter()
        for key in keys:
            kinds[key[len(prefix) : len(prefix) + 1].decode()] += client.memory_usage(key) or 0
        report["redis_bytes_per_page_by_key_kind"] = {
            k: round(v / args.pages) for k, v in sorted(kinds.items())
        }
        client.delete(*keys)
    d.close()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
