"""``ingest-worker feed``: publish pages from files to the input topic, keyed by host."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from worker import kafka_io
from worker.config import Settings
from worker.logs import get_logger
from worker.sources import read_messages

log = get_logger("worker.feed")


class Progress:
    """A one-line progress report on stderr: pages, MB and rate."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()
        self.pages = 0
        self.bytes = 0
        self._last = 0.0

    def add(self, size: int) -> None:
        self.pages += 1
        self.bytes += size
        now = time.monotonic()
        if self.enabled and now - self._last > 0.25:
            self._last = now
            print(f"\r{self.line()}", end="", file=sys.stderr, flush=True)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        return (
            f"{self.pages} pages, {self.bytes / 2**20:.1f} MB, "
            f"{self.pages / elapsed:.1f} pages/s, {self.bytes / 2**20 / elapsed:.2f} MB/s"
        )


def unreadable_inputs(inputs: Sequence[str]) -> list[str]:
    """Inputs that are neither stdin (``-``) nor a readable file or directory, checked before
    the broker is contacted (a typo then costs one line, not a connection and a traceback)."""
    return [
        f"{name} ({'no such file or directory' if not Path(name).exists() else 'not readable'})"
        for name in inputs
        if name != "-" and not (Path(name).exists() and os.access(name, os.R_OK))
    ]


def feed(
    inputs: Sequence[str], settings: Settings, *, rate: float = 0.0, progress: bool = True
) -> int:
    if settings.create_topics:
        kafka_io.ensure_topics(settings, [settings.input_topic])
    producer = kafka_io.make_producer(settings)
    report = Progress(progress)
    failed: list[str] = []
    try:
        for msg in read_messages(inputs, stdin=sys.stdin.buffer):
            if rate > 0:
                due = report.start + report.pages / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
            future = producer.send(
                settings.input_topic, key=msg.key, value=msg.value, headers=msg.headers or None
            )
            future.add_errback(_on_failure, msg.origin, failed)
            report.add(len(msg.value))
        producer.flush()
    finally:
        producer.close()
    if report.enabled:
        print(file=sys.stderr)
    summary = report.line()
    print(f"fed {summary} to {settings.input_topic}", file=sys.stderr)
    log.info("feed_done", pages=report.pages, bytes=report.bytes, topic=settings.input_topic)
    if failed:
        print(f"{len(failed)} records were not accepted by the broker", file=sys.stderr)
    return 1 if failed else 0


def _on_failure(origin: str, failed: list[str], exc: BaseException) -> None:
    failed.append(origin)
    log.error("feed_send_failed", origin=origin, error=type(exc).__name__)
