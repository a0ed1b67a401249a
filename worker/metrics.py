"""Prometheus metrics and the /metrics, /healthz, /readyz endpoints.

Each worker owns a registry (so several can live in one test process). Labels
are bounded sets (stage, reason, status, partition); never URLs or domains.
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from worker import __version__
from worker.extract.bounds import BOUNDED_FIELDS

STAGES = ("decode", "extract", "dedupe", "publish")
_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    120,
    300,
)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.consumed = Counter("ingest_records_consumed", "Input records consumed.", registry=r)
        self.consumed_bytes = Counter(
            "ingest_input_bytes", "Bytes of input record values.", registry=r
        )
        self.published = Counter("ingest_articles_published", "Articles published.", registry=r)
        self.updated = Counter(
            "ingest_articles_updated",
            "Articles published as a new version of a page (a changed recrawl); also counted "
            "as published. An unchanged recrawl is a skip, reason unchanged.",
            registry=r,
        )
        self.corrections = Counter(
            "ingest_dedup_corrections",
            "Canonicals published again as the duplicate of a copy fetched earlier that "
            "arrived within the race window (INGEST_DEDUP_RACE_WINDOW_S).",
            registry=r,
        )
        self.duplicates = Counter(
            "ingest_duplicates", "Duplicates recorded, by status.", ["status"], registry=r
        )
        self.skipped = Counter(
            "ingest_records_skipped", "Records skipped, by reason.", ["reason"], registry=r
        )
        self.truncated = Counter(
            "ingest_metadata_truncated",
            "Published records whose metadata field was cut to its bound (URLs: dropped).",
            ["field"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "ingest_records_dead_lettered",
            "Records sent to the dead-letter topic, by stage.",
            ["stage", "reason"],
            registry=r,
        )
        self.errors = Counter(
            "ingest_errors", "Transient errors retried, by component.", ["component"], registry=r
        )
        self.stage_seconds = Histogram(
            "ingest_stage_duration_seconds",
            "Time spent per record in each stage.",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end_seconds = Histogram(
            "ingest_end_to_end_latency_seconds",
            "From the input record's Kafka timestamp to the output acknowledged.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.boilerplate_ratio = Histogram(
            "ingest_boilerplate_ratio",
            "Share of a page's text removed as boilerplate.",
            buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99),
            registry=r,
        )
        self.lag = Gauge(
            "ingest_consumer_lag",
            "Records behind the log end (the larger of the last fetch's high watermark and "
            "ListOffsets); on Tansu it may read short by up to one producer batch.",
            ["topic", "partition"],
            registry=r,
        )
        self.assigned = Gauge(
            "ingest_assigned_partitions", "Partitions assigned to this worker.", registry=r
        )
        self.last_processed = Gauge(
            "ingest_last_processed_timestamp_seconds",
            "Unix time the last batch was committed.",
            registry=r,
        )
        self.rebalances = Counter(
            "ingest_rebalances", "Partition assignments received.", registry=r
        )
        self.dedup_up = Gauge(
            "ingest_dedup_store_up", "1 when the dedup store answers.", registry=r
        )
        self.changelog_rows = Counter(
            "ingest_dedup_changelog_rows_applied",
            "Dedupe index rows read from the changelog: the start-up window, then other "
            "workers' rows.",
            registry=r,
        )
        self.build = Gauge(
            "ingest_build_info", "Build information.", ["version", "python"], registry=r
        )
        self.build.labels(__version__, platform.python_version()).set(1)
        self.dedup_up.set(1)
        for stage in STAGES:
            self.stage_seconds.labels(stage)
        for name in BOUNDED_FIELDS:
            self.truncated.labels(name)

    def count_truncated(self, fields: Iterable[str]) -> None:
        """One increment per field cut; a name outside the bounded set counts as "other", so
        the label set stays bounded whatever a caller passes."""
        for name in fields:
            self.truncated.labels(name if name in BOUNDED_FIELDS else "other").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def serve(
    metrics: Metrics, host: str, port: int, ready: Callable[[], tuple[bool, str]]
) -> ThreadingHTTPServer:
    """Serve the endpoints in a daemon thread; returns the server (``server_port`` is bound)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.render(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b"ok\n")
            elif path == "/readyz":
                ok, why = ready()
                self._send(200 if ok else 503, (why + "\n").encode())
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds would drown the structured log

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
