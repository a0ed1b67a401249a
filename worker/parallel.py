"""Run the CPU stages on every core.

The GIL serialises extraction, so a batch's records are prepared in a process pool
(decode, extract, and the per-page halves of the site templates and of dedupe) while
what needs order or state (the sites' windows, the dedup index, publishing and commits)
stays in the consuming process, in offset order. A record that kills its pool process (a
crash in C code, the OOM killer) is found by retrying the batch one record at a time and
dead-lettered, so it cannot bring the worker down in a loop. Pool processes end with the
consuming process, even when it is SIGKILLed.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from worker.config import Settings
from worker.extract import Extractor, make_extractor
from worker.logs import get_logger
from worker.pipeline import Failed, Headers, Prepared, prepare

log = get_logger("worker.parallel")

Item = tuple[bytes | None, Headers]
ExtractorFactory = Callable[[str], Extractor]
OnReady = Callable[[int, Prepared | Failed], None]

# Per pool process: built once by the initializer.
_settings: Settings | None = None
_extract: Extractor | None = None


def _init(settings: Settings, factory: ExtractorFactory, owner: int) -> None:
    global _settings, _extract
    _exit_with(owner)
    _settings, _extract = settings, factory(settings.extractor)


def _exit_with(owner: int) -> None:
    """End this pool process when the consuming process ``owner`` ends.

    Nothing else would: a pool process waits on its task queue for ever, and
    keeps the forkserver alive, so every SIGKILLed worker left its pool behind.
    """
    try:
        fd = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): nothing to watch with
        return
    threading.Thread(target=_wait_then_exit, args=(fd,), name="owner-watch", daemon=True).start()


def _wait_then_exit(pidfd: int) -> None:
    select.select([pidfd], [], [])  # readable once the owner has exited
    os._exit(1)


def _started() -> int:
    return os.getpid()


def _prepare(item: Item) -> Prepared | Failed:
    assert _settings is not None and _extract is not None
    return prepare(item[0], item[1], _settings, _extract)


def default_processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class CpuPool:
    """``prepare`` over a batch, inline (1 process) or in a pool of ``processes``."""

    def __init__(
        self,
        settings: Settings,
        extract: Extractor,
        processes: int,
        factory: ExtractorFactory = make_extractor,
    ) -> None:
        self.settings = settings
        self.extract = extract  # for inline use; pool processes build theirs with ``factory``
        self.processes = processes
        self.factory = factory
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # forkserver: the consumer process runs Kafka client threads, which fork would copy
            # in whatever state they are in.
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_init,
                initargs=(self.settings, self.factory, os.getpid()),
                max_tasks_per_child=2000,
            )
        return self._executor

    def start(self) -> None:
        """Start the pool processes now, each with its extractor built, so the first batch
        does not wait for them (nor count their start-up) and readiness means it."""
        if self.processes <= 1:
            return
        pool = self._pool()
        for future in [pool.submit(_started) for _ in range(self.processes)]:
            future.result()

    def prepare_all(
        self, items: Sequence[Item], on_ready: OnReady | None = None
    ) -> list[Prepared | Failed]:
        """Results in input order. ``on_ready(i, result)`` is called for each in order as
        soon as it is there, so the caller's own work on early records overlaps the pool's
        work on later ones; an exception it raises stops the batch and propagates."""
        results: list[Prepared | Failed] = []

        def ready(result: Prepared | Failed) -> None:
            results.append(result)
            if on_ready is not None:
                on_ready(len(results) - 1, result)

        if self.processes <= 1:
            for v, h in items:
                ready(prepare(v, h, self.settings, self.extract))
            return results
        # Even one record goes to the pool: inline, a page that crashes the parser would kill
        # the consumer, and a slow one would hold the GIL from the Kafka heartbeat thread.
        chunk = max(1, len(items) // (self.processes * 4))
        try:
            for result in self._pool().map(_prepare, items, chunksize=chunk):
                ready(result)
            return results
        except BrokenProcessPool:
            log.error("pool_process_died", records=len(items) - len(results))
            self._reset()
            rest = [self._prepare_alone(item) for item in items[len(results) :]]
            if len(rest) >= 3 and all(_crashed(r) for r in rest):
                # Not one poison record: the pool itself is broken. Stop rather than
                # dead-letter everything; nothing is committed, so nothing is lost.
                raise RuntimeError("every extraction process died; giving up") from None
            for result in rest:
                ready(result)
            return results

    def _prepare_alone(self, item: Item) -> Prepared | Failed:
        try:
            return self._pool().submit(_prepare, item).result()
        except BrokenProcessPool:
            self._reset()
            return Failed(
                "dead_letter",
                "extract",
                "worker_crashed",
                "the extraction process died on this record",
            )

    def _reset(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _crashed(result: Prepared | Failed) -> bool:
    return isinstance(result, Failed) and result.reason == "worker_crashed"
