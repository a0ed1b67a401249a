"""End-to-end throughput of one ``ingest-worker run`` process on a real broker.

    python -m bench.worker_bench --pages DIR [--repeat N] [--processes P]

Starts the embedded broker unless KAFKA_BOOTSTRAP_SERVERS is set, creates fresh
topics, starts the worker, publishes every page of DIR (``.html``/``.html.gz``
files, JSON lines or WARC) ``--repeat`` times with distinct URLs, and waits until
every record is accounted for on /metrics. Reports pages/s and MB/s from the
first record fed to the last one committed, plus the worker's CPU time per page.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from worker.broker import free_port, start_broker
from worker.sources import read_messages

DONE = (
    "ingest_articles_published_total",
    "ingest_duplicates_total",
    "ingest_records_skipped_total",
    "ingest_records_dead_lettered_total",
)


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        body = resp.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def accounted(metrics: dict[str, float]) -> int:
    return int(sum(metrics.get(name, 0.0) for name in DONE))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its live descendants (pool, forkserver)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        parent[child] = int(fields[1])
        cpu[child] = (int(fields[11]) + int(fields[12])) / tick

    def descends(p: int) -> bool:
        while p > 1:
            if p == pid:
                return True
            p = parent.get(p, 0)
        return False

    return sum(seconds for p, seconds in cpu.items() if descends(p))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", required=True, help="Directory or file of pages.")
    parser.add_argument("--repeat", type=int, default=1, help="Feed every page this often.")
    parser.add_argument("--processes", type=int, default=1, help="INGEST_PROCESSES.")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    messages = list(read_messages([args.pages]))
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = start_broker()
        bootstrap = broker.bootstrap
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INGEST_INPUT_TOPIC": f"{prefix}.raw",
        "INGEST_OUTPUT_TOPIC": f"{prefix}.out",
        "INGEST_DUPLICATES_TOPIC": f"{prefix}.dup",
        "INGEST_DLQ_TOPIC": f"{prefix}.dlq",
        "INGEST_GROUP_ID": prefix,
        "INGEST_METRICS_PORT": str(port),
        "INGEST_PROCESSES": str(args.processes),
        "INGEST_LOG_LEVEL": "WARNING",
        "INGEST_PARTITIONS": "6",
    }
    worker = subprocess.Popen([sys.executable, "-m", "worker", "run"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit("worker did not become ready") from None
                time.sleep(0.2)
        cpu0 = cpu_seconds(worker.pid)
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            linger_ms=20,
            compression_type="zstd",
            max_request_size=32 * 2**20,
        )
        total = len(messages) * args.repeat
        size = 0
        start = time.monotonic()
        for r in range(args.repeat):
            for msg in messages:
                headers = list(msg.headers)
                if r:  # distinct URLs so repeats are new articles, not replays of one id
                    headers.append(("final_url", f"https://repeat{r}.example/{size}".encode()))
                producer.send(
                    f"{prefix}.raw", key=msg.key, value=msg.value, headers=headers or None
                )
                size += len(msg.value)
        producer.flush()
        fed = time.monotonic() - start
        while (done := accounted(scrape(port))) < total:
            if time.monotonic() - start > args.timeout or worker.poll() is not None:
                raise SystemExit(f"only {done}/{total} records accounted for")
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(worker.pid) - cpu0
        metrics = scrape(port)
    finally:
        worker.terminate()
        worker.wait(60)
        if broker is not None:
            broker.stop()
    print(f"records: {total} ({size / 2**20:.1f} MB), fed in {fed:.1f} s")
    print(
        f"published {metrics.get('ingest_articles_published_total', 0):.0f}, "
        f"duplicates {metrics.get('ingest_duplicates_total', 0):.0f}, "
        f"skipped {metrics.get('ingest_records_skipped_total', 0):.0f}, "
        f"dead-lettered {metrics.get('ingest_records_dead_lettered_total', 0):.0f}"
    )
    print(
        f"throughput: {total / elapsed:.1f} pages/s, {size / 2**20 / elapsed:.2f} MB/s "
        f"(processes={args.processes}, {elapsed:.1f} s)"
    )
    print(f"worker CPU: {cpu / total * 1000:.1f} ms/page (all its processes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
