"""Fault benchmark cases for who is canonical and what is published again.

* ``race``: two workers, two partitions; the copy of each story fetched an hour later is
  read (on partition 0) and published first, then the copy fetched earlier arrives on
  partition 1, owned by the other worker. The earlier copy must end canonical (``new``),
  the later one corrected to its duplicate under its own key: a story ending otherwise is
  a wrong canonical.
* ``storm``: the same URLs crawled ``rounds`` times, about half of them changed each
  round after the first: exactly one ``new`` per URL, one ``updated`` per changed recrawl,
  and nothing published for an unchanged one. Anything else published is counted as
  republished when it should not have been.

Run through ``python -m bench.faults_bench --only race,storm``; smaller in
tests/test_faults_race.py.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from kafka import KafkaProducer

from tests.kit.faults import Sent, create_topics, wait_all_committed, worker_env
from tests.kit.kafka import Topics, WorkerProcess, drain, start_worker, wait_for
from tests.kit.pages import article_html
from tests.kit.processes import reap_tagged

HOUR = 3600.0


@dataclass
class RaceRun:
    name: str
    figures: dict[str, object] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        return {"scenario": self.name, **self.figures}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _send(bootstrap: str, topic: str, stream: list[Sent]) -> None:
    """Send each record to its ``partition`` (-1: by key) and note where it landed."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        pending = []
        for s in stream:
            partition = None if s.partition < 0 else s.partition
            pending.append((s, producer.send(topic, key=s.key, value=s.value, partition=partition)))
        producer.flush()
        for s, future in pending:
            meta = future.get(timeout=120)
            s.partition, s.offset = meta.partition, meta.offset
    finally:
        producer.close()


def _corrections(workers: list[WorkerProcess]) -> float:
    return sum(w.metrics().get("ingest_dedup_corrections_total", 0.0) for w in workers)


def _last_by_key(records: list) -> dict[bytes, dict]:
    """Each key's last record in one topic (a key's records share a partition, where offset
    order is publication order)."""
    out: dict[bytes, dict] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        out[r.key] = orjson.loads(r.value)
    return out


def race_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    stories: int,
    redis_url: str,
    key_prefix: str = "",
) -> RaceRun:
    """``topics`` must have 2 partitions; the shared index is the Redis at ``redis_url``."""
    marker = uuid.uuid4().hex
    env = worker_env(
        bootstrap,
        topics,
        marker,
        INGEST_PROCESSES="1",
        INGEST_DEDUP_BACKEND="redis",
        INGEST_REDIS_URL=redis_url,
        INGEST_REDIS_KEY_PREFIX=key_prefix or f"race:{marker[:8]}:",
    )
    create_topics(env)
    run, t_early = uuid.uuid4().hex[:8], time.time() - 2 * HOUR
    late, early = [], []
    for i in range(stories):
        seed = random.Random(f"{run}-{i}").randrange(10**9)
        for host, fetched, out, partition in (
            ("wire", t_early + HOUR, late, 0),
            ("origin", t_early, early, 1),
        ):
            url = f"https://{host}.example/{run}/{i}"
            page = {"url": url, "html": article_html(seed, url=url), "fetched_at": _iso(fetched)}
            value = orjson.dumps({**page, "record_id": f"{host}-{i}"})
            out.append(Sent(f"{host}-{i}", host, host.encode(), value, partition=partition))
    workers = [start_worker(env, workdir / f"race-{n}.log") for n in range(2)]
    t0 = time.monotonic()
    try:
        wait_for(
            lambda: all(w.metrics().get("ingest_assigned_partitions", 0) > 0 for w in workers),
            60,
            "both workers to own a partition",
        )
        _send(bootstrap, topics.input, late)  # published first: canonical for now
        wait_all_committed(bootstrap, topics, late, timeout=60 + stories)
        _send(bootstrap, topics.input, early)  # the earlier-fetched copies, other worker
        wait_all_committed(bootstrap, topics, late + early, timeout=60 + stories)
        corrections = _corrections(workers)
    finally:
        codes = [w.stop() for w in workers]
    seconds = time.monotonic() - t0
    published = drain(bootstrap, topics.output)
    final = {**_last_by_key(drain(bootstrap, topics.duplicates)), **_last_by_key(published)}
    by_record = {rec["provenance"]["record_id"]: rec for rec in final.values()}
    wrong, corrected = [], 0
    for i in range(stories):
        first, second = by_record.get(f"wire-{i}"), by_record.get(f"origin-{i}")
        ok = (
            first is not None
            and second is not None
            and second["dedup"]["status"] == "new"
            and first["dedup"]["status"] in ("exact_duplicate", "near_duplicate")
            and first["dedup"]["duplicate_of"] == second["id"]
            and first["dedup"]["cluster_id"] == second["dedup"]["cluster_id"]
        )
        corrected += bool(first and first["dedup"].get("correction"))
        if not ok:
            wrong.append(i)
    figures = {
        "stories": stories,
        "corrected": corrected,
        "wrong_canonicals": len(wrong),
        "wrong_ids": wrong[:20],
        "corrections_metric": corrections,
        "records_out": len(published),
        "seconds": round(seconds, 1),
        "worker_exit_codes": codes,
        "leftover_processes": len(reap_tagged(marker)),
    }
    return RaceRun("race", figures)


def storm_stream(urls: int, rounds: int, rng: random.Random) -> list[Sent]:
    """``rounds`` crawls of ``urls`` pages; from the second on, half of them (drawn each
    round) changed (a new text), the others the same page again. ``kind``: the outcome due."""
    run = uuid.uuid4().hex[:8]
    base = rng.randrange(10**9)
    text_of = [base + i * 1000 for i in range(urls)]
    out = []
    for r in range(rounds):
        changed = set(rng.sample(range(urls), urls // 2)) if r else set()
        for i in range(urls):
            if i in changed:
                text_of[i] += 1
                kind = "updated"
            else:
                kind = "unchanged" if r else "new"
            url = f"https://h{i % 16}.example/{run}/{i}"
            html = article_html(text_of[i], title=f"Page {i} of {run}", url=url)
            value = orjson.dumps({"url": url, "html": html, "record_id": f"{run}-{r}-{i}"})
            out.append(Sent(f"{r}-{i}", kind, url.encode(), value, kind=kind))
    return out


def storm_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    urls: int,
    rounds: int,
    rng: random.Random,
    redis_url: str | None = None,
) -> RaceRun:
    """One worker through the storm (memory index, or Redis at ``redis_url``). Site
    templates are off: a site of recrawled pages is not what they are measured on."""
    marker = uuid.uuid4().hex
    dedup = {"INGEST_DEDUP_BACKEND": "memory"}
    if redis_url:
        prefix = f"storm:{marker[:8]}:"
        dedup = {"INGEST_DEDUP_BACKEND": "redis", "INGEST_REDIS_URL": redis_url}
        dedup["INGEST_REDIS_KEY_PREFIX"] = prefix
    env = worker_env(
        bootstrap,
        topics,
        marker,
        INGEST_PROCESSES="1",
        INGEST_BATCH_SIZE="64",
        INGEST_SITE_TEMPLATES="false",
        **dedup,
    )
    create_topics(env)
    stream = storm_stream(urls, rounds, rng)
    _send(bootstrap, topics.input, stream)
    worker = start_worker(env, workdir / f"storm-{marker[:6]}.log")
    t0 = time.monotonic()
    try:
        wait_all_committed(bootstrap, topics, stream, timeout=120 + len(stream) / 5)
        m = worker.metrics()
    finally:
        code = worker.stop()
    seconds = time.monotonic() - t0
    due = {(s.partition, s.offset): s.kind for s in stream}
    outcomes: Counter[str] = Counter()
    wrong = 0
    for r in drain(bootstrap, topics.output) + drain(bootstrap, topics.duplicates):
        rec = orjson.loads(r.value)
        prov = rec["provenance"]
        status = rec["dedup"]["status"]
        outcomes[status] += 1
        wrong += due.get((prov["partition"], prov["offset"])) != status
    expected = Counter(s.kind for s in stream)
    figures = {
        "backend": "redis" if redis_url else "memory",
        "records_in": len(stream),
        "records_out": sum(outcomes.values()),
        "expected": dict(expected),
        "published": dict(outcomes),
        "unchanged_skipped": m.get('ingest_records_skipped_total{reason="unchanged"}', 0.0),
        "republished_wrongly": wrong,
        "missing": sum(expected[k] for k in ("new", "updated")) - sum(outcomes.values()) + wrong,
        "seconds": round(seconds, 1),
        "records_per_s": round(len(stream) / seconds, 1) if seconds else None,
        "worker_exit_code": code,
        "leftover_processes": len(reap_tagged(marker)),
    }
    return RaceRun("storm", figures)
