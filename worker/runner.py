"""``ingest-worker run``: wire settings, broker, stages and the worker together.

With no ``KAFKA_BOOTSTRAP_SERVERS`` it starts the embedded broker, feeds the
bundled sample pages and tells the user where to look, so a first run needs
nothing but the package.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path

from worker import kafka_io
from worker.app import Worker
from worker.broker import EmbeddedBroker, start_broker
from worker.config import Settings
from worker.logs import get_logger
from worker.parallel import CpuPool, default_processes
from worker.pipeline import build_stages

log = get_logger("worker.runner")


def samples_dir() -> Path:
    return Path(str(resources.files("worker") / "samples"))


def run_worker(
    settings: Settings, *, feed_samples: bool = True, exit_when_idle: float | None = None
) -> int:
    broker: EmbeddedBroker | None = None
    if not settings.kafka_bootstrap_servers:
        run_dir = Path(".run")
        run_dir.mkdir(exist_ok=True)
        broker = start_broker(log_path=run_dir / "broker.log")
        settings = replace(settings, kafka_bootstrap_servers=broker.bootstrap)
        log.info(
            "embedded_broker_started",
            bootstrap=broker.bootstrap,
            note="memory storage: topics vanish when the worker stops",
        )
    else:
        kafka_io.wait_for_broker(settings)  # one clear line, not minutes of retries
    try:
        stages = build_stages(settings)
        processes = settings.processes or default_processes()
        worker = Worker(settings, stages, CpuPool(settings, stages.extract, processes))
        worker.install_signal_handlers()
        worker.start()
        if broker is not None:
            if feed_samples:
                from worker.feed import feed

                feed([str(samples_dir())], settings, progress=False)
            _announce(settings, worker)
        log.info("settings", **settings.public())
        worker.run(max_idle_s=exit_when_idle)
    finally:
        if broker is not None:
            broker.stop()
    return 0


def _announce(settings: Settings, worker: Worker) -> None:
    b = settings.kafka_bootstrap_servers
    print(
        f"\ningest-worker is running on an embedded broker at {b}\n"
        f"  metrics:  http://{settings.metrics_host}:{worker.metrics_port}/metrics "
        f"(/healthz, /readyz)\n"
        f"  articles: KAFKA_BOOTSTRAP_SERVERS={b} .venv/bin/ingest-worker tail "
        f"{settings.output_topic}\n"
        f"  dead letters: ... tail {settings.dlq_topic}; duplicates: ... tail "
        f"{settings.duplicates_topic}\n"
        f"  feed more: KAFKA_BOOTSTRAP_SERVERS={b} .venv/bin/ingest-worker feed <files or dirs>\n"
        f"  stop: Ctrl-C\n",
        file=sys.stderr,
        flush=True,
    )
