"""Run the CPU stages on every core, each page under a limit that holds for C code.

The GIL serialises extraction, so a batch's records are prepared in pool processes
(decode, extract, and the per-page halves of the site templates and of dedupe) while
what needs order or state (the sites' windows, the dedup index, publishing and commits)
stays in the consuming process, in offset order.

Each pool process takes one record at a time, so the consuming process always knows
which record a process is on. A record that kills its process (a crash in C code, the
OOM killer) is dead-lettered ``worker_crashed``; one still running past its hard limit
(the parser's C code never returns to Python, where the soft time budget would stop it)
has its process killed and is dead-lettered ``timeout``. Either way the process is
replaced and the batch goes on. Pool processes end with the consuming process, even when
it is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from worker.config import Settings
from worker.extract import Extractor, make_extractor
from worker.logs import get_logger
from worker.pipeline import Failed, Headers, Prepared, prepare

log = get_logger("worker.parallel")

Item = tuple[bytes | None, Headers]
ExtractorFactory = Callable[[str], Extractor]
OnReady = Callable[[int, Prepared | Failed], None]
Tick = Callable[[], None]

MAX_TASKS_PER_PROCESS = 2000  # then the process is replaced: bounds what a leak can hold
TICK_S = 1.0  # how often ``tick`` runs while the pool works (the consumer's keep-alive)
START_TIMEOUT_S = 120.0


def hard_limit_s(settings: Settings) -> float:
    """When a page's process is killed: past its soft budget with room for the budget's
    own exception to get out first."""
    return settings.extract_timeout_s + max(1.0, settings.extract_timeout_s / 2)


def _serve(conn: Connection, settings: Settings, factory: ExtractorFactory, owner: int) -> None:
    """A pool process: build the extractor once, then prepare one record per message."""
    _exit_with(owner)
    extract = factory(settings.extractor)
    conn.send(os.getpid())
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        conn.send(prepare(item[0], item[1], settings, extract))


def _exit_with(owner: int) -> None:
    """End this pool process when the consuming process ``owner`` ends.

    Nothing else would: a pool process waits on its pipe for ever, and keeps the
    forkserver alive, so every SIGKILLed worker left its pool behind.
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


def default_processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class _Slot:
    """One pool process and the record it is on."""

    process: BaseProcess
    conn: Connection
    task: int | None = None
    started: float = 0.0
    done: int = 0
    ready: bool = True  # has built its extractor and said so


class CpuPool:
    """``prepare`` over a batch in ``processes`` pool processes (0: inline, for tools and
    tests: no process to kill, so no hard limit)."""

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
        self.hard_limit_s = hard_limit_s(settings)
        self._slots: list[_Slot] = []
        # forkserver: the consumer process runs Kafka client threads, which fork would copy
        # in whatever state they are in.
        self._context = multiprocessing.get_context("forkserver")
        self._fresh_deaths = 0  # new processes that died on their first record, no answer since

    def start(self) -> None:
        """Start the pool processes now, each with its extractor built, so the first batch
        does not wait for them (nor count their start-up) and readiness means it."""
        self._top_up()
        for slot in self._slots:
            if not slot.ready:
                self._await_ready(slot, START_TIMEOUT_S)

    def _top_up(self) -> None:
        while len(self._slots) < self.processes:
            self._slots.append(self._spawn())

    def _spawn(self) -> _Slot:
        """A new pool process; it is ready once it says so (``_await_ready``), which the
        batch loop waits for alongside the others' results, so a replacement building its
        extractor never stalls the loop (nor the consumer's keep-alive)."""
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self.settings, self.factory, os.getpid()),
            name="ingest-extract",
            daemon=True,
        )
        process.start()
        child.close()
        return _Slot(process, parent, ready=False, started=time.monotonic())

    def _await_ready(self, slot: _Slot, timeout: float) -> bool:
        """Take the process's hello if it is there within ``timeout``."""
        if slot.conn.poll(timeout):
            try:
                slot.conn.recv()  # its pid, once its extractor is built
                slot.ready = True
                return True
            except EOFError:
                raise RuntimeError("an extraction process died while starting") from None
        if time.monotonic() - slot.started > START_TIMEOUT_S:
            slot.process.kill()
            raise RuntimeError("an extraction process did not start")
        return False

    def prepare_all(
        self, items: Sequence[Item], on_ready: OnReady | None = None, tick: Tick | None = None
    ) -> list[Prepared | Failed]:
        """Results in input order. ``on_ready(i, result)`` is called for each in order as
        soon as it is there, so the caller's own work on early records overlaps the pool's
        work on later ones; an exception it raises stops the batch and propagates.
        ``tick()`` runs about every second while the pool works (the caller keeps its
        consumer group membership with it)."""
        results: list[Prepared | Failed | None] = [None] * len(items)
        delivered = 0

        def deliver() -> None:
            nonlocal delivered
            while delivered < len(items) and results[delivered] is not None:
                if on_ready is not None:
                    on_ready(delivered, results[delivered])  # type: ignore[arg-type]
                delivered += 1

        if self.processes <= 0:
            for i, (value, headers) in enumerate(items):
                results[i] = prepare(value, headers, self.settings, self.extract)
                deliver()
            return results  # type: ignore[return-value]
        self._top_up()
        queued = 0
        last_tick = time.monotonic()
        try:
            while delivered < len(items):
                for slot in self._slots:
                    if slot.ready and slot.task is None and queued < len(items):
                        self._dispatch(slot, queued, items[queued])
                        queued += 1
                self._collect(results)
                deliver()
                if tick is not None and time.monotonic() - last_tick >= TICK_S:
                    tick()
                    last_tick = time.monotonic()
        except BaseException:
            self._abandon()  # results of this batch must not leak into the next
            raise
        return results  # type: ignore[return-value]

    def _dispatch(self, slot: _Slot, index: int, item: Item) -> None:
        slot.task, slot.started = index, time.monotonic()
        with contextlib.suppress(OSError):  # it died: ``_collect`` sees it and replaces it
            slot.conn.send(item)

    def _collect(self, results: list[Prepared | Failed | None]) -> None:
        """Wait for a result, a death or a deadline, whichever comes first."""
        busy = [s for s in self._slots if s.task is not None]
        starting = [s for s in self._slots if not s.ready]
        if not busy and not starting:
            return
        now = time.monotonic()
        deadline = min((s.started for s in busy), default=now + TICK_S) + self.hard_limit_s
        timeout = max(0.0, min(deadline - now, TICK_S))
        wait([s.conn for s in busy + starting] + [s.process.sentinel for s in busy], timeout)
        for slot in starting:
            self._await_ready(slot, 0)
        for i, slot in enumerate(self._slots):
            if slot.task is None:
                continue
            result = self._result_of(slot)
            if result is None:
                continue
            results[slot.task] = result
            slot.task = None
            slot.done += 1
            if isinstance(result, Failed) and result.reason in ("worker_crashed", "timeout"):
                self._slots[i] = self._replace(slot)
            elif slot.done >= MAX_TASKS_PER_PROCESS:
                self._slots[i] = self._replace(slot, kill=False)

    def _result_of(self, slot: _Slot) -> Prepared | Failed | None:
        """The slot's result if it has one: its answer, its death or its timeout."""
        if slot.conn.poll():
            try:
                result = slot.conn.recv()
                self._fresh_deaths = 0  # a process answered: the pool itself works
                return result
            except (EOFError, OSError):
                pass  # died mid-answer
        elif slot.process.is_alive():
            running = time.monotonic() - slot.started
            if running < self.hard_limit_s:
                return None
            log.error("page_over_hard_limit", seconds=round(running, 1), pid=slot.process.pid)
            return Failed(
                "dead_letter",
                "extract",
                "timeout",
                f"extraction ran past the {self.hard_limit_s:g} s hard limit; process killed",
            )
        log.error("pool_process_died", exitcode=slot.process.exitcode, pid=slot.process.pid)
        if slot.done == 0:
            self._fresh_deaths += 1
            if self._fresh_deaths >= 3 * max(1, self.processes):
                # Not one poison record: the processes die on anything. Stop rather than
                # dead-letter everything; nothing is committed, so nothing is lost.
                raise RuntimeError("every extraction process died; giving up")
        return Failed(
            "dead_letter", "extract", "worker_crashed", "the extraction process died on this record"
        )

    def _replace(self, slot: _Slot, kill: bool = True) -> _Slot:
        self._stop(slot, kill)
        return self._spawn()

    @staticmethod
    def _stop(slot: _Slot, kill: bool) -> None:
        if kill and slot.process.is_alive():
            slot.process.kill()
        else:
            with contextlib.suppress(OSError):
                slot.conn.send(None)
        slot.process.join(5)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join(5)
        slot.conn.close()

    def _abandon(self) -> None:
        """Processes still on a record of an abandoned batch are replaced."""
        for i, slot in enumerate(self._slots):
            if slot.task is not None:
                self._stop(slot, kill=True)
                self._slots[i] = self._spawn()

    def close(self) -> None:
        for slot in self._slots:
            self._stop(slot, kill=slot.task is not None)
        self._slots = []
