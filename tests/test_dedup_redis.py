"""The shared Redis index on a real server: TTLs, atomic check-and-insert, races.

``redis_url`` (conftest) is ``REDIS_URL`` when set, else 127.0.0.1:6379 when it
answers, else a ``redis-server`` started on a free port. Every test works under
its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import multiprocessing
import time

import pytest
import redis

from tests.kit.stories import FOOTER, article, brief, syndicate, text, truncate
from worker.dedup import make_deduper
from worker.dedup.memory import MemoryDeduper
from worker.dedup.minhash import Sketcher
from worker.dedup.redis_store import RedisDeduper
from worker.model import DedupVerdict, TransientError

pytestmark = pytest.mark.integration


def keys_of(url: str, prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(url).scan_iter(match=prefix + "*", count=1000))


def stream() -> list[tuple[str, str]]:
    """Originals, copies, truncations, hard negatives, briefs and replays, in order."""
    a, b, c = article(40), article(41, paragraphs=10), article(42)
    docs = [
        ("a", text(a)),
        ("b-cut", truncate(b, 0.5)),
        ("a-copy", syndicate(a, 1)),
        ("b", syndicate(b, 2)),
        ("c", text(c)),
        ("c-follow", text([*article(43, 5), c[1], c[2]])),
        ("a-exact", text(a).upper()),
        ("a", text(a)),  # replay
        ("a-copy", syndicate(a, 1)),  # replay of a copy
    ]
    docs += [(f"footer-{i}", text([*article(60 + i, 2, 75), FOOTER])) for i in range(4)]
    docs += [(f"brief-{i}", brief(i)) for i in range(8)]
    docs += [("brief-3-again", "By JOHN ROE\n" + brief(3)), ("", "")]
    return docs


def test_identical_decisions_to_the_in_process_index(redis_url: str, prefix: str) -> None:
    shared = make_deduper("redis", redis_url=redis_url, key_prefix=prefix)
    local = make_deduper("memory")
    for doc_id, body in stream():
        assert shared.check(doc_id, body) == local.check(doc_id, body), doc_id
    shared.close()


def test_replay_and_copy_across_workers(redis_url: str, prefix: str) -> None:
    one = RedisDeduper(redis_url, key_prefix=prefix)
    two = RedisDeduper(redis_url, key_prefix=prefix)
    paras = article(44)
    first = one.check("a", text(paras))
    assert two.check("a", text(paras)) == first  # the same record again, on another worker
    copy = two.check("b", syndicate(paras, 3))
    assert (copy.status, copy.duplicate_of, copy.cluster_id) == (
        "near_duplicate",
        "a",
        first.cluster_id,
    )


def test_every_key_has_a_ttl(redis_url: str, prefix: str) -> None:
    ttl = 3600
    d = RedisDeduper(redis_url, key_prefix=prefix, ttl_s=ttl)
    for doc_id, body in stream():
        d.check(doc_id, body)
    client = redis.Redis.from_url(redis_url)
    keys = keys_of(redis_url, prefix)
    assert any(k.startswith((prefix + "r:").encode()) for k in keys)
    assert any(k.startswith((prefix + "b:").encode()) for k in keys)
    for key in keys:
        remaining = client.ttl(key)
        assert 0 < remaining <= ttl + 2 * d.epoch_s, key


def test_expired_story_is_forgotten(redis_url: str, prefix: str) -> None:
    d = RedisDeduper(redis_url, key_prefix=prefix, ttl_s=1)
    paras = article(45)
    d.check("a", text(paras))
    assert d.check("b", syndicate(paras, 4)).duplicate_of == "a"
    time.sleep(2.2)
    assert d.check("c", syndicate(paras, 5)).status == "new"


def test_insert_happens_only_against_the_judged_candidates(redis_url: str, prefix: str) -> None:
    one = RedisDeduper(redis_url, key_prefix=prefix)
    paras = article(46)
    one.check("a", text(paras))
    sketch = Sketcher().sketch(syndicate(paras, 6))
    args, pairs = one.script_args("b", sketch)
    no_race = [b"", 0, b"", b"", "b"]  # no fetch time, no takeover
    stale = one.call([*args, b"", 0, b"", *no_race, *pairs])  # judged against "no candidates"
    record = prefix.encode() + b"r:" + args[1]
    client = redis.Redis.from_url(redis_url)
    assert stale[0] == 2 and stale[2::4] and not client.exists(record)
    inserted = one.call([*args, b"", 0, b"".join(stale[2::4]), *no_race, *pairs])  # as it saw
    assert inserted[0] == 1
    assert client.exists(record)


def check_and_publish(d: RedisDeduper, doc_id: str, body: str) -> DedupVerdict:
    """A worker's round: check, publish (at once here), confirm; wait while the copy's
    canonical is held by the other worker, as the worker's batch retry does."""
    while True:
        try:
            verdict = d.check(doc_id, body)
        except TransientError:
            time.sleep(0.01)
            continue
        d.confirm([verdict.reservation] if verdict.reservation else [])
        return verdict


def _racer(url: str, prefix: str, worker: int, rounds: int, barrier, results) -> None:
    d = RedisDeduper(url, key_prefix=prefix)
    for r in range(rounds):
        story = article(5000 + r, paragraphs=8)
        if worker == 0:  # a decoy that is a candidate of both copies, but not a copy
            d.check(f"decoy-{r}", text(story[:2]))
        body = text(story) if r % 2 else syndicate(story, seed=worker)
        barrier.wait()
        verdict = check_and_publish(d, f"r{r}-w{worker}", body)
        results.put((r, worker, verdict.status, verdict.duplicate_of, verdict.cluster_id))
    d.close()


def test_two_workers_racing_on_one_story_publish_it_once(redis_url: str, prefix: str) -> None:
    rounds = 200
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=(redis_url, prefix, w, rounds, barrier, results))
        for w in (0, 1)
    ]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in range(2 * rounds)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    by_round: dict[int, list[tuple]] = {}
    for r, worker, status, duplicate_of, cluster in got:
        by_round.setdefault(r, []).append((worker, status, duplicate_of, cluster))
    for r, pair in sorted(by_round.items()):
        new = [p for p in pair if p[1] == "new"]
        copies = [p for p in pair if p[1] != "new"]
        assert len(new) == 1 and len(copies) == 1, (r, pair)
        assert copies[0][2] == f"r{r}-w{new[0][0]}", (r, pair)
        assert copies[0][3] == new[0][3]


def test_unreachable_redis_is_a_transient_error() -> None:
    d = RedisDeduper("redis://127.0.0.1:1/0")
    with pytest.raises(TransientError):
        d.check("a", "Some text that needs checking.")


def test_memory_and_redis_agree_on_a_larger_stream(redis_url: str, prefix: str) -> None:
    shared = RedisDeduper(redis_url, key_prefix=prefix)
    local = MemoryDeduper()
    for i in range(60):
        story = article(7000 + i // 3, paragraphs=6)
        body = [text(story), syndicate(story, i), truncate(story, 0.6)][i % 3]
        assert shared.check(f"d{i}", body) == local.check(f"d{i}", body), i


def test_a_full_server_is_a_transient_error(redis_url: str, prefix: str) -> None:
    d = RedisDeduper(redis_url, key_prefix=prefix)

    def full(args: list) -> list:
        raise redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'.")

    d._script = full  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        d.check("a", "Some text that needs checking.")
