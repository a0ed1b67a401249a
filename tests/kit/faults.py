"""Fault scenarios: the worker under SIGKILLs, a broker restart, a Redis outage, rebalances,
hostile input and poison records; every input record is accounted for from the topics.

Metrics reset when a worker restarts, so the accounting reads the output, duplicates and
dead-letter topics back and maps every record to the input it came from (provenance
partition/offset, or the dead letter's source_partition/source_offset). An input ends as
an article, a duplicate, a dead letter, or a skip (no trace, and its offset committed).

``bench.faults_bench`` runs them at full size; tests/test_faults*.py run them smaller.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from kafka import KafkaConsumer, KafkaProducer

from tests.kit.hostile import Hostile, hostile_inputs
from tests.kit.kafka import (
    MB,
    Topics,
    WorkerProcess,
    committed_offsets,
    drain,
    group_reader,
    http_get,
    start_worker,
    wait_for,
)
from tests.kit.pages import article_html
from tests.kit.processes import RUN_MARKER, RssPeaks, RssSampler, reap_tagged
from tests.kit.services import MotoS3, RedisServer, start_s3_broker
from worker import config, kafka_io
from worker.dedup.redis_store import HOLD_S

# --- the input stream ----------------------------------------------------------------------


@dataclass
class Sent:
    """One input record and what it must become: article | copy | recrawl | dead_letter | skip."""

    rid: str
    expect: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    kind: str = ""
    allowed: frozenset[str] = frozenset()  # hostile records: outcomes they may end in
    partition: int = -1
    offset: int = -1
    original: str = ""  # copies and recrawls: the rid of the article they repeat


def make_stream(n: int, rng: random.Random, *, hosts: int = 12) -> list[Sent]:
    """Articles, copies and recrawls of earlier articles (same host key, so same partition
    and later), records for the dead-letter topic, and HTTP errors to skip; texts unique to
    this run.

    A copy is the same text republished under its own URL, which it declares canonical: a
    duplicate. A recrawl is the same page again under another URL, still declaring the
    original's canonical URL: the same article id and the same text, so it is an unchanged
    recrawl: a counted skip, not published again (published again under the original's key
    only where the index was lost).
    An article is copied once at most: a text on three pages of one site is that site's
    template to the site-template stage, which removes it.
    """
    base = rng.randrange(10**9)
    run = uuid.uuid4().hex[:8]
    out: list[Sent] = []
    originals: dict[bytes, list[tuple[Sent, int, str]]] = {}  # key -> (sent, seed, url)
    copied: set[str] = set()
    for i in range(n):
        host = f"h{rng.randrange(hosts)}"
        key = host.encode()
        rid = f"{run}-{i}"
        url = f"https://{host}.example/{run}/{i}"
        roll = rng.random()
        if roll < 0.13 and originals.get(key):
            first, seed, first_url = rng.choice(originals[key])
            if roll < 0.10 and first.rid not in copied:
                copied.add(first.rid)
                html, expect = article_html(seed, url=url), "copy"
            else:
                html, expect = article_html(seed, url=first_url), "recrawl"
                url = f"{first_url}?from=feed-{i}"
            value = orjson.dumps({"url": url, "html": html, "record_id": rid})
            out.append(Sent(rid, expect, key, value, original=first.rid))
        elif roll < 0.20:
            value = b'{"url": "' + url.encode() + b'", "record_id": "' + rid.encode() + b'", '
            out.append(Sent(rid, "dead_letter", key, value))
        elif roll < 0.25:
            value = orjson.dumps({"url": url, "status": 404, "html": "<p>gone</p>"})
            out.append(Sent(rid, "skip", key, value))
        else:
            html = article_html(base + i, url=url)
            value = orjson.dumps({"url": url, "html": html, "status": 200, "record_id": rid})
            sent = Sent(rid, "article", key, value)
            originals.setdefault(key, []).append((sent, base + i, url))
            out.append(sent)
    return out


def hostile_stream(cap: int, big_page_bytes: int, rng: random.Random) -> list[Sent]:
    """The hostile corpus with a normal article after every few kinds, so a stalled worker
    shows as missing articles too."""
    out: list[Sent] = []
    normal = iter(make_stream(400, rng))
    for i, h in enumerate(hostile_inputs(cap, big_page_bytes)):
        out.append(_from_hostile(h))
        if i % 4 == 3:
            out.append(next(s for s in normal if s.expect == "article"))
    return out


def _from_hostile(h: Hostile) -> Sent:
    return Sent(h.kind, "hostile", h.kind.encode(), h.value, list(h.headers), h.kind, h.accepted)


def produce(
    bootstrap: str,
    topic: str,
    stream: list[Sent],
    *,
    rate: float | None = None,
    max_bytes: int = 32 * MB,
) -> None:
    """Send ``stream`` (at ``rate`` records/s when given) and note each record's offset."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_request_size=max_bytes,
        delivery_timeout_ms=120_000,
    )
    try:
        pending = []
        start = time.monotonic()
        for i, sent in enumerate(stream):
            if rate:
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
            headers = sent.headers or None
            future = producer.send(topic, key=sent.key, value=sent.value, headers=headers)
            pending.append((sent, future))
        producer.flush()
        for sent, future in pending:
            meta = future.get(timeout=120)
            sent.partition, sent.offset = meta.partition, meta.offset
    finally:
        producer.close()


def produce_in_background(bootstrap: str, topic: str, stream: list[Sent], rate: float):
    errors: list[BaseException] = []

    def run() -> None:
        try:
            produce(bootstrap, topic, stream, rate=rate)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    thread = threading.Thread(target=run, name="producer", daemon=True)
    thread.start()
    return thread, errors


# --- reading the results back --------------------------------------------------------------


def end_of(stream: list[Sent]) -> dict[int, int]:
    ends: dict[int, int] = {}
    for s in stream:
        ends[s.partition] = max(ends.get(s.partition, 0), s.offset + 1)
    return ends


def all_committed(
    bootstrap: str, topics: Topics, stream: list[Sent], reader: KafkaConsumer | None = None
) -> bool:
    ends = end_of(stream)
    done = committed_offsets(bootstrap, topics.group, topics.input, topics.partitions, reader)
    return all((done.get(p) or 0) >= end for p, end in ends.items())


def committed_total(bootstrap: str, topics: Topics, reader: KafkaConsumer | None = None) -> int:
    done = committed_offsets(bootstrap, topics.group, topics.input, topics.partitions, reader)
    return sum(v or 0 for v in done.values())


def wait_all_committed(
    bootstrap: str, topics: Topics, stream: list[Sent], timeout: float, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    reader = group_reader(bootstrap, topics.group)
    try:
        while not all_committed(bootstrap, topics, stream, reader):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:g} s: input not all committed {what}"
                )
            time.sleep(1)
    finally:
        reader.close()


# --- accounting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    """One output record, mapped back to the input it came from."""

    where: str  # published | duplicate | dead_letter
    source: tuple[int, int]  # input (partition, offset)
    key: bytes | None
    reason: str = ""


def traces(bootstrap: str, topics: Topics, max_bytes: int = 64 * MB) -> list[Trace]:
    found: list[Trace] = []
    for where, topic in (("published", topics.output), ("duplicate", topics.duplicates)):
        for r in drain(bootstrap, topic, max_bytes=max_bytes):
            prov = orjson.loads(r.value)["provenance"]
            if prov["topic"] == topics.input:
                found.append(Trace(where, (prov["partition"], prov["offset"]), r.key))
    for r in drain(bootstrap, topics.dlq, max_bytes=max_bytes):
        h = {k: v.decode("utf-8", "replace") for k, v in r.headers}
        source = (int(h["source_partition"]), int(h["source_offset"]))
        found.append(Trace("dead_letter", source, r.key, h.get("error_reason", "")))
    return found


ALLOWED = {
    "article": {"published"},
    "copy": {"duplicate"},
    "recrawl": set(),  # the page again, unchanged: a counted skip, not republished
    "dead_letter": {"dead_letter"},
    "skip": set(),
}


@dataclass
class Tally:
    """What became of every input record, from the topics alone."""

    records_in: int = 0
    outputs: int = 0  # records on the three topics that come from this input
    outcomes: Counter = field(default_factory=Counter)  # first outcome per input
    lost: list[str] = field(default_factory=list)  # expected a trace, found none
    wrong: list[str] = field(default_factory=list)  # a trace where none of that kind belongs
    repeats: int = 0  # outputs beyond one per input (reprocessing)
    # one key published for several inputs (recrawls share their original's), or one
    # input written under several keys
    key_conflicts: list[str] = field(default_factory=list)
    copies_published: int = 0  # copies published as new (the dedup index was lost)
    recrawls_published: int = 0  # unchanged recrawls published again (the index was lost)

    @property
    def accounted(self) -> int:
        return sum(self.outcomes.values())

    def ok(self) -> bool:
        return not (self.lost or self.wrong or self.key_conflicts)


def account(stream: list[Sent], found: list[Trace], *, strict_dedup: bool = True) -> Tally:
    """Map every trace back to its input and check each input ended as it must.

    ``strict_dedup=False`` when the dedup index does not survive a SIGKILL (the memory
    backend with its changelog off): a copy may then also be published as new under its own
    key, and an original redone after its copy was published becomes that copy's duplicate.
    Either way an input redone after a fault must be written again under the same key.
    """
    by_source: dict[tuple[int, int], list[Trace]] = {}
    for t in found:
        by_source.setdefault(t.source, []).append(t)
    tally = Tally(records_in=len(stream), outputs=len(found))
    keys: dict[bytes, tuple[int, int]] = {}
    source_of = {s.rid: (s.partition, s.offset) for s in stream}
    for s in stream:
        mine = by_source.pop((s.partition, s.offset), [])
        kinds = {t.where for t in mine}
        allowed = set(ALLOWED.get(s.expect, set()))
        if s.expect in ("copy", "recrawl") and not strict_dedup:
            allowed.add("published")
        if s.expect == "article" and not strict_dedup:  # redone after its copy was published
            allowed.add("duplicate")
        if s.expect == "hostile":
            allowed = {a.split(":")[0] for a in s.allowed} - {"skipped"}
        if not mine:
            needs_trace = s.expect in ("article", "copy", "dead_letter") or (
                s.expect == "hostile" and not any(a.startswith("skipped") for a in s.allowed)
            )
            if needs_trace:
                tally.lost.append(s.rid)
            else:
                tally.outcomes["skipped"] += 1
            continue
        if not kinds <= allowed:
            tally.wrong.append(f"{s.rid}: {sorted(kinds)} not in {sorted(allowed)}")
        if s.expect == "copy" and "published" in kinds:
            tally.copies_published += 1
        if s.expect == "recrawl" and "published" in kinds:
            tally.recrawls_published += 1
        tally.outcomes[mine[0].where] += 1
        tally.repeats += len(mine) - 1
        if len({t.key for t in mine}) > 1:  # a redo must write the same record again
            tally.key_conflicts.append(f"{s.rid} under {sorted({t.key or b'' for t in mine})}")
        if strict_dedup and len(kinds) > 1:  # a redo must end as the first run did
            tally.wrong.append(f"{s.rid}: ended as each of {sorted(kinds)}")
        # a recrawl is published under its original's key, anything else under its own
        rightful = source_of[s.original] if s.expect == "recrawl" else (s.partition, s.offset)
        for t in mine:
            if t.where == "published" and t.key is not None:
                owner = keys.setdefault(t.key, (s.partition, s.offset))
                if owner != rightful:
                    tally.key_conflicts.append(f"{t.key!r} from {owner} and {s.rid}")
    for source in by_source:
        tally.wrong.append(f"output for an input that was never sent: {source}")
    return tally


# --- scenarios -----------------------------------------------------------------------------


@dataclass
class Run:
    """One scenario's figures."""

    name: str
    tally: Tally
    seconds: float = 0.0
    kills: int = 0
    broker_restarts: int = 0
    leftover_processes: list[int] = field(default_factory=list)
    observed: dict[str, object] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        t = self.tally
        return {
            "scenario": self.name,
            "seconds": round(self.seconds, 1),
            "records_in": t.records_in,
            "records_out": t.outputs,
            "accounted": t.accounted,
            "lost": len(t.lost),
            "lost_ids": t.lost[:20],
            "wrong": len(t.wrong),
            "key_conflicts": len(t.key_conflicts),
            "repeats": t.repeats,
            "copies_published": t.copies_published,
            "recrawls_published": t.recrawls_published,
            "outcomes": dict(t.outcomes),
            "kills": self.kills,
            "broker_restarts": self.broker_restarts,
            "leftover_processes": len(self.leftover_processes),
            **self.observed,
        }


def worker_env(bootstrap: str, topics: Topics, marker: str, **extra: str) -> dict[str, str]:
    return {
        **topics.env(bootstrap),
        RUN_MARKER: marker,
        "INGEST_BATCH_SIZE": "8",
        "INGEST_PROCESSES": "2",
        "INGEST_LOG_LEVEL": "INFO",
        **extra,
    }


def create_topics(env: dict[str, str]) -> None:
    kafka_io.ensure_topics(config.load(env=env))


def dedup_env(redis: RedisServer | None) -> dict[str, str]:
    if redis is None:
        return {"INGEST_DEDUP_BACKEND": "memory"}
    return {"INGEST_DEDUP_BACKEND": "redis", "INGEST_REDIS_URL": redis.url}


def kill_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    records: int,
    kills: int,
    rng: random.Random,
    redis: RedisServer | None = None,
    rate: float | None = None,
    max_alive_s: float = 3.0,
) -> Run:
    """SIGKILL a worker at random moments while the stream flows, ``kills`` times, then let
    one finish. The dedup index is Redis when given (it outlives a kill); in memory it does
    not, and copies seen again after a kill are published as new (``strict_dedup=False``)."""
    marker = uuid.uuid4().hex
    env = worker_env(bootstrap, topics, marker, INGEST_BATCH_SIZE="16", **dedup_env(redis))
    create_topics(env)
    stream = make_stream(records, rng)
    t0 = time.monotonic()
    rate = rate or records / max(10.0, kills * 5.0)  # the stream lasts about as long as the kills
    producer, errors = produce_in_background(bootstrap, topics.input, stream, rate)
    mid_stream = in_flight = 0  # kills after a committed batch; kills with a batch in hand
    for i in range(kills):
        w = start_worker(env, workdir / f"kill-{i}.log")
        if rng.random() < 0.75:  # most kills mid-stream, the rest while starting or joining
            # (no batch comes once the whole stream is in and committed: do not wait for one)
            reader = group_reader(bootstrap, topics.group)

            def busy_or_done(w: WorkerProcess = w, reader: KafkaConsumer = reader) -> bool:
                if _published(w) > 0:
                    return True
                return not producer.is_alive() and all_committed(bootstrap, topics, stream, reader)

            try:
                with contextlib.suppress(AssertionError):
                    wait_for(busy_or_done, 30, "a first committed batch")
            finally:
                reader.close()
        time.sleep(rng.uniform(0.0, max_alive_s))
        with contextlib.suppress(OSError):
            m = w.metrics()
            mid_stream += m.get("ingest_articles_published_total", 0.0) > 0
            in_flight += m.get("ingest_records_consumed_total", 0.0) > _counted(m)
        w.stop(signal.SIGKILL)
    producer.join()
    if errors:
        raise errors[0]
    final = start_worker(env, workdir / "final.log")
    try:
        wait_all_committed(bootstrap, topics, stream, timeout=120 + records / 5)
    finally:
        code = final.stop()
    seconds = time.monotonic() - t0
    tally = account(stream, traces(bootstrap, topics), strict_dedup=redis is not None)
    observed = {
        "kills_mid_stream": mid_stream,
        "kills_with_batch_in_flight": in_flight,
        "final_exit_code": code,
        "dedup_backend": "redis" if redis else "memory",
    }
    leftover = reap_tagged(marker)
    return Run("sigkill", tally, seconds, kills, leftover_processes=leftover, observed=observed)


def crash_copies_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    records: int,
    rng: random.Random,
    changelog: str = "",
    hosts: int = 12,
) -> Run:
    """SIGKILL a memory-backend worker mid-stream, restart it, then feed a copy (its own URL
    and host, the same text) of every story published before the kill: each must be
    recorded as a duplicate, none published as new. ``changelog``: ``INGEST_DEDUP_CHANGELOG``
    (``off``: the index dies with the process, and the copies count what that costs)."""
    marker = uuid.uuid4().hex
    env = worker_env(
        bootstrap, topics, marker, INGEST_BATCH_SIZE="16", INGEST_DEDUP_BACKEND="memory",
        INGEST_DEDUP_CHANGELOG=changelog,
    )  # fmt: skip
    create_topics(env)
    base, run = rng.randrange(10**9), uuid.uuid4().hex[:8]
    originals: list[Sent] = []
    for i in range(records):
        host = f"h{rng.randrange(hosts)}"
        url = f"https://{host}.example/{run}/{i}"
        value = orjson.dumps({"url": url, "html": article_html(base + i, url=url), "status": 200})
        originals.append(Sent(f"{run}-{i}", "article", host.encode(), value))
    t0 = time.monotonic()
    producer, errors = produce_in_background(
        bootstrap, topics.input, originals, rate=max(20.0, records / 20)
    )
    w = start_worker(env, workdir / f"{topics.prefix}-first.log")
    with contextlib.suppress(AssertionError):
        wait_for(lambda: _published(w) >= records // 4, 120, "a quarter published")
    time.sleep(rng.uniform(0.0, 1.0))
    w.stop(signal.SIGKILL)
    producer.join()
    if errors:
        raise errors[0]
    published = {
        t.source for t in traces(bootstrap, topics) if t.where == "published"
    }  # before the kill
    pre_crash = [(i, s) for i, s in enumerate(originals) if (s.partition, s.offset) in published]
    copies = []
    for i, original in pre_crash:
        host = f"c{rng.randrange(hosts)}"
        url = f"https://{host}.example/{run}/copy-{i}"
        value = orjson.dumps({"url": url, "html": article_html(base + i, url=url), "status": 200})
        copies.append(Sent(f"{run}-copy-{i}", "copy", host.encode(), value, original=original.rid))
    final = start_worker(env, workdir / f"{topics.prefix}-after.log")
    try:
        produce(bootstrap, topics.input, copies)
        wait_all_committed(bootstrap, topics, originals + copies, timeout=120 + records / 5)
    finally:
        code = final.stop()
    strict = changelog != "off"
    found = traces(bootstrap, topics)
    tally = account(originals + copies, found, strict_dedup=strict)
    duplicates = {t.source for t in found if t.where == "duplicate"}
    observed = {
        "changelog": changelog or "on",
        "published_before_kill": len(pre_crash),
        "copies_fed": len(copies),
        "copies_recorded_duplicate": sum((c.partition, c.offset) in duplicates for c in copies),
        "originals_recorded_duplicate": sum(
            (o.partition, o.offset) in duplicates for o in originals
        ),
        "final_exit_code": code,
        "rebuilt_rows": _rebuilt_rows(final),
    }
    leftover = reap_tagged(marker)
    return Run(
        "crash_copies", tally, time.monotonic() - t0, 1, leftover_processes=leftover,
        observed=observed,
    )  # fmt: skip


def _rebuilt_rows(worker: WorkerProcess) -> int | None:
    """What the restarted worker read back from the changelog (its log line)."""
    for line in worker.log().splitlines():
        if "dedup_index_rebuilt" in line:
            with contextlib.suppress(ValueError, KeyError):
                return int(orjson.loads(line)["rows"])
    return None


def broker_restart_scenario(
    s3: MotoS3,
    workdir: Path,
    *,
    records: int,
    restarts: int,
    rng: random.Random,
    down_s: float = 3.0,
) -> Run:
    """Stop (or kill) and start an s3-backed broker under a running worker, ``restarts``
    times; the worker must carry on by itself (same process) and lose nothing."""
    broker = start_s3_broker(s3, workdir / "broker.log")
    topics = Topics(f"br{uuid.uuid4().hex[:8]}")
    marker = uuid.uuid4().hex
    env = worker_env(broker.bootstrap, topics, marker, INGEST_PROCESSES="1")
    try:
        create_topics(env)
        stream = make_stream(records, rng)
        size = -(-records // (restarts + 1))  # contiguous parts: copies stay after originals
        chunks = [stream[i : i + size] for i in range(0, records, size)]
        t0 = time.monotonic()
        produce(broker.bootstrap, topics.input, chunks[0])
        worker = start_worker(env, workdir / "worker.log")
        try:
            for i, chunk in enumerate(chunks[1:]):
                # restart with a backlog in hand: a few articles into the chunk just sent
                target = _published(worker) + 5
                wait_for(lambda t=target: _published(worker) >= t, 180, "progress")
                broker.stop(hard=i % 2 == 1)  # every other restart is a crash
                time.sleep(down_s)
                broker.start()
                produce(broker.bootstrap, topics.input, chunk)
            wait_all_committed(broker.bootstrap, topics, stream, timeout=180 + records / 5)
            same_process = worker.proc.poll() is None
        finally:
            code = worker.stop()
        seconds = time.monotonic() - t0
        tally = account(stream, traces(broker.bootstrap, topics))
        observed = {
            "worker_survived": same_process,
            "worker_exit_code": code,
            # a lost record whose input is gone too was lost by the broker, not the worker
            "lost_inputs_gone_from_input_topic": _gone(broker.bootstrap, topics, stream, tally),
        }
        return Run(
            "broker_restart",
            tally,
            seconds,
            broker_restarts=restarts,
            leftover_processes=reap_tagged(marker),
            observed=observed,
        )
    finally:
        broker.stop()


def _gone(bootstrap: str, topics: Topics, stream: list[Sent], tally: Tally) -> int:
    if not tally.lost:
        return 0
    present = {(r.partition, r.offset, r.value) for r in drain(bootstrap, topics.input)}
    lost = [s for s in stream if s.rid in set(tally.lost)]
    return sum((s.partition, s.offset, s.value) not in present for s in lost)


def _published(worker: WorkerProcess) -> float:
    try:
        return worker.metrics().get("ingest_articles_published_total", 0.0)
    except OSError:
        return 0.0


def redis_outage_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    records: int,
    rng: random.Random,
    down_s: float = 5.0,
    leaver: bool = False,
) -> Run:
    """Stop our own Redis while the worker runs: it must hold its batch and report not
    ready, then finish by itself once Redis is back on the same port, losing nothing. With
    ``leaver`` a second worker shares the stream and leaves during the outage, so the first
    is handed partitions while it waits."""
    (workdir / "redis").mkdir(exist_ok=True)
    redis = RedisServer(workdir / "redis")
    redis.start()
    marker = uuid.uuid4().hex
    env = worker_env(bootstrap, topics, marker, INGEST_PROCESSES="1", **dedup_env(redis))
    create_topics(env)
    stream = make_stream(records, rng)
    first, second = stream[: records // 2], stream[records // 2 :]
    observed: dict[str, object] = {}
    t0 = time.monotonic()
    worker = start_worker(env, workdir / "worker.log")
    other = start_worker(env, workdir / "leaver.log") if leaver else None
    try:
        if other is not None:
            wait_for(lambda: _owns_partitions(worker) and _owns_partitions(other), 60, "both")
        produce(bootstrap, topics.input, first)
        wait_for(lambda: _published(worker) >= 3, 120, "articles before the outage")
        redis.stop()
        produce(bootstrap, topics.input, second)
        wait_for(lambda: http_get(worker.port, "/readyz")[0] == 503, 60, "not ready")
        observed["readyz_during_outage"] = http_get(worker.port, "/readyz")
        observed["store_up_during_outage"] = worker.metrics().get("ingest_dedup_store_up")
        before = committed_total(bootstrap, topics)
        if other is not None:
            observed["leaver_exit_code"] = other.stop()
            wait_for(
                lambda: worker.metrics().get("ingest_assigned_partitions") == topics.partitions,
                60,
                "the partitions of the worker that left",
            )
        time.sleep(down_s)
        observed["commits_during_outage"] = committed_total(bootstrap, topics) - before
        observed["worker_alive_during_outage"] = worker.proc.poll() is None
        redis.start()
        # a worker that leaves during the outage cannot settle its last batch: the versions
        # it published stay reserved, holding their copies back, until HOLD_S passes
        held_s = HOLD_S if other is not None else 0
        wait_all_committed(bootstrap, topics, stream, timeout=120 + records / 5 + held_s)
        wait_for(lambda: http_get(worker.port, "/readyz")[0] == 200, 30, "ready again")
        m = worker.metrics()
        observed["store_up_after"] = m.get("ingest_dedup_store_up")
        observed["dedup_errors"] = m.get('ingest_errors_total{component="dedup"}', 0.0)
    finally:
        code = worker.stop()
        if other is not None:
            other.stop()
        redis.stop()
    seconds = time.monotonic() - t0
    found = traces(bootstrap, topics)
    observed["dead_letters_from_dedupe"] = sum(
        1 for t in found if t.where == "dead_letter" and t.reason.startswith("dedupe")
    )
    observed["worker_exit_code"] = code
    tally = account(stream, found)
    name = "redis_outage_with_rebalance" if leaver else "redis_outage"
    return Run(name, tally, seconds, leftover_processes=reap_tagged(marker), observed=observed)


def _owns_partitions(worker: WorkerProcess) -> bool:
    return worker.metrics().get("ingest_assigned_partitions", 0) > 0


def rebalance_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    records: int,
    rng: random.Random,
    redis: RedisServer | None = None,
    rate: float = 30.0,
    remove_signal: int = signal.SIGTERM,
) -> Run:
    """Three workers share the stream; a fourth joins and one leaves while it flows. With
    ``redis`` they share one dedup index (else each has its own, and copies whose original
    another worker saw are published as new)."""
    marker = uuid.uuid4().hex
    env = worker_env(
        bootstrap, topics, marker, INGEST_PROCESSES="1", INGEST_BATCH_SIZE="8", **dedup_env(redis)
    )
    create_topics(env)
    stream = make_stream(records, rng)
    duration = records / rate
    t0 = time.monotonic()
    workers = [start_worker(env, workdir / f"w{i}.log") for i in range(3)]
    try:
        wait_for(
            lambda: all(w.metrics().get("ingest_assigned_partitions", 0) > 0 for w in workers),
            60,
            "three workers to own partitions",
        )
        producer, errors = produce_in_background(bootstrap, topics.input, stream, rate)
        time.sleep(duration / 3)
        workers.append(start_worker(env, workdir / "w3.log"))
        time.sleep(duration / 3)
        leaving = workers.pop(rng.randrange(len(workers)))
        leaving.stop(remove_signal)
        producer.join()
        if errors:
            raise errors[0]
        wait_all_committed(bootstrap, topics, stream, timeout=120 + records / 5)
        rebalances = sum(w.metrics().get("ingest_rebalances_total", 0.0) for w in workers)
    finally:
        codes = [w.stop() for w in workers]
    seconds = time.monotonic() - t0
    tally = account(stream, traces(bootstrap, topics), strict_dedup=redis is not None)
    observed = {
        "removed_with": signal.Signals(remove_signal).name,
        "rebalances_seen_by_survivors": rebalances,
        "exit_codes": codes,
        "batch_size": 8,
    }
    return Run(
        "rebalance", tally, seconds, leftover_processes=reap_tagged(marker), observed=observed
    )


@dataclass
class HostileRun:
    run: Run
    outcome_of: dict[str, str]  # kind -> where its trace went ("skipped" when none)
    skip_reasons: Counter  # from the worker's metrics (one worker, never restarted)
    dead_reasons: dict[str, str]  # kind -> dead-letter reason
    peaks: RssPeaks
    ready_after: int
    kinds: int


def hostile_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    cap: int,
    big_page_bytes: int,
    rng: random.Random,
    extract_timeout_s: float = 3.0,
) -> HostileRun:
    """Every hostile kind through one worker, watching its memory; nothing may stop it."""
    marker = uuid.uuid4().hex
    env = worker_env(
        bootstrap,
        topics,
        marker,
        INGEST_MAX_PAGE_BYTES=str(cap),
        INGEST_EXTRACT_TIMEOUT_S=str(extract_timeout_s),
        INGEST_BATCH_SIZE="4",
    )
    create_topics(env)
    stream = hostile_stream(cap, big_page_bytes, rng)
    t0 = time.monotonic()
    worker = start_worker(env, workdir / "hostile.log")
    try:
        with RssSampler(worker.proc.pid) as sampler:
            produce(bootstrap, topics.input, stream, max_bytes=cap + 2 * MB)
            wait_all_committed(bootstrap, topics, stream, timeout=600, what="(hostile)")
            # metrics count a batch after its commit: wait until the last one is counted
            wait_for(lambda: _counted(worker.metrics()) >= len(stream), 30, "all counted")
        metrics = worker.metrics()
        ready = http_get(worker.port, "/readyz")[0]
        alive = worker.proc.poll() is None
    finally:
        code = worker.stop()
    seconds = time.monotonic() - t0
    found = traces(bootstrap, topics, max_bytes=cap + 2 * MB)
    tally = account(stream, found)
    by_source = {t.source: t for t in found}
    outcome_of, dead_reasons = {}, {}
    for s in stream:
        if s.expect != "hostile":
            continue
        t = by_source.get((s.partition, s.offset))
        outcome_of[s.kind] = t.where if t else "skipped"
        if t and t.where == "dead_letter":
            dead_reasons[s.kind] = t.reason
    prefix = 'ingest_records_skipped_total{reason="'
    skips = Counter(
        {k[len(prefix) : -2]: int(v) for k, v in metrics.items() if k.startswith(prefix) and v}
    )
    observed = {"worker_alive": alive, "worker_exit_code": code}
    run = Run("hostile", tally, seconds, leftover_processes=reap_tagged(marker), observed=observed)
    return HostileRun(run, outcome_of, skips, dead_reasons, sampler.peaks, ready, len(outcome_of))


def poison_scenario(
    bootstrap: str,
    topics: Topics,
    workdir: Path,
    *,
    good: int = 24,
    extract_timeout_s: float = 2.0,
    max_poll_interval_ms: int = 5000,
    timeout_s: float = 180.0,
    slow_only: bool = False,
) -> Run:
    """Records that stopped a worker or a partition for good: batches the client cannot
    decode, a null header on a dead letter, and pages whose parse never returns to Python
    (one process, a poll interval shorter than the parse). Every offset must end exactly
    once, with no batch redone."""
    from tests.kit.hostile import evasive_attributes_page
    from tests.kit.kafka import produce_raw, record_batch

    marker = uuid.uuid4().hex
    env = worker_env(
        bootstrap,
        topics,
        marker,
        INGEST_PROCESSES="1",
        INGEST_BATCH_SIZE="8",
        INGEST_EXTRACT_TIMEOUT_S=str(extract_timeout_s),
        INGEST_MAX_POLL_INTERVAL_MS=str(max_poll_interval_ms),
    )
    create_topics(env)

    def page(i: int) -> bytes:
        url = f"https://poison.example/{i}"
        return orjson.dumps({"url": url, "html": article_html(i), "record_id": f"p{i}"})

    html = [("content-type", b"text/html"), ("url", b"https://poison.example/slow")]
    plan: list[tuple[str, str, object]] = []  # (expected outcome, how to send, what)
    for i in range(good):
        plan.append(("published", "producer", page(i)))
        if slow_only:  # the eviction livelock alone: pages whose parse outlives the poll interval
            if i % 6 == 4:
                plan.append(("dead_letter", "producer", (evasive_attributes_page(60_000), html)))
            continue
        if i % 6 == 2:
            crc = record_batch([(b"c", page(1000 + i), [])])
            crc[17] ^= 0xFF  # a failed CRC
            plan.append(("dead_letter", "raw", crc))
        if i % 6 == 3:
            batch = record_batch([(b"h", page(2000 + i), [("KEYX", b"v")])],
                                 header_key_bytes={"KEYX": b"\xff\xfeK\xc3"})  # fmt: skip
            plan.append(("dead_letter", "raw", batch))
        if i % 6 == 4:
            plan.append(("dead_letter", "producer", (evasive_attributes_page(60_000), html)))
        if i % 6 == 5:
            no_url = orjson.dumps({"html": "<p>x</p>"})
            plan.append(("dead_letter", "raw", record_batch([(b"n", no_url, [("t", None)])])))
    t0 = time.monotonic()
    worker = start_worker(env, workdir / "poison.log")
    try:
        for i, (expect, how, what) in enumerate(plan):
            if how == "raw":
                if produce_raw(bootstrap, topics.input, 0, what) != 0:  # type: ignore[arg-type]
                    raise RuntimeError("the broker refused a raw batch")
                continue
            value, headers = what if isinstance(what, tuple) else (what, [])
            produce(bootstrap, topics.input, [Sent(f"p{i}", expect, b"k", value, headers)])
        reader = group_reader(bootstrap, topics.group)
        try:
            with contextlib.suppress(AssertionError):  # a worker that never gets there: report
                wait_for(
                    lambda: committed_total(bootstrap, topics, reader) >= len(plan),
                    timeout_s,
                    "every poison offset committed",
                )
        finally:
            reader.close()
        alive = worker.proc.poll() is None
        committed = committed_total(bootstrap, topics)
    finally:
        code = worker.stop()
    seconds = time.monotonic() - t0
    found = traces(bootstrap, topics)
    per_offset = Counter(t.source[1] for t in found)
    tally = Tally(records_in=len(plan))
    for offset, (expect, _, _) in enumerate(plan):
        seen = [t for t in found if t.source == (0, offset)]
        tally.outcomes[seen[0].where if seen else "missing"] += 1
        if not seen:
            tally.lost.append(f"offset {offset}")
        elif seen[0].where != expect:
            tally.wrong.append(f"offset {offset}: {seen[0].where} ({seen[0].reason})")
    tally.outputs = len(found)
    tally.repeats = sum(n - 1 for n in per_offset.values())
    log_text = (workdir / "poison.log").read_text(errors="replace")
    observed = {
        "worker_alive": alive,
        "worker_exit_code": code,
        "dead_letter_reasons": dict(Counter(t.reason for t in found if t.reason)),
        "offsets_committed": committed,
        "worker_starts": log_text.count('"worker_started"'),
        "processes_killed_over_hard_limit": log_text.count('"page_over_hard_limit"'),
        "evicted": log_text.split('"stopping"')[0].count('"partitions_revoked"'),
    }
    return Run("poison", tally, seconds, leftover_processes=reap_tagged(marker), observed=observed)


def _counted(m: dict[str, float]) -> float:
    """Records whose outcome a worker counted (after their batch was committed)."""
    outcomes = [
        v
        for k, v in m.items()
        if k.startswith(
            (
                "ingest_articles_published_total",
                "ingest_duplicates_total{",
                "ingest_records_skipped_total{",
                "ingest_records_dead_lettered_total{",
            )
        )
    ]
    return sum(outcomes)
