"""The CPU stages in a process pool: same results as inline, and a crashing record is isolated."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import orjson

from tests.kit.pages import article_html
from worker.config import Settings
from worker.extract import Extractor, make_extractor
from worker.model import Extracted, Page
from worker.parallel import CpuPool
from worker.pipeline import Failed, Prepared

CRASH_MARKER = "crash-this-process"


def crashing_factory(name: str) -> Extractor:
    """An extractor that dies like a segfault in C code on one marked page."""
    real = make_extractor(name)

    def extract(page: Page) -> Extracted:
        if CRASH_MARKER in page.url:
            os._exit(139)
        return real(page)

    return extract


def item(seed: int, url: str | None = None) -> tuple[bytes, list]:
    url = url or f"https://site.example/{seed}"
    return orjson.dumps({"url": url, "html": article_html(seed)}), []


def test_pool_gives_the_same_results_as_inline_in_order() -> None:
    settings = replace(Settings(), processes=2)
    items = [item(i) for i in range(8)]
    inline = CpuPool(settings, make_extractor(), 0).prepare_all(items)
    pool = CpuPool(settings, make_extractor(), 2)
    seen: list[tuple[int, str]] = []
    try:
        pooled = pool.prepare_all(items, lambda i, r: seen.append((i, r.page.url)))
    finally:
        pool.close()
    assert all(isinstance(r, Prepared) for r in pooled)
    # handed over one by one, in input order, as they come
    assert seen == [(i, f"https://site.example/{i}") for i in range(8)]
    assert [r.extracted.text for r in pooled] == [r.extracted.text for r in inline]
    assert [r.page.url for r in pooled] == [f"https://site.example/{i}" for i in range(8)]
    assert all(r.page.body == "" for r in pooled)  # bodies do not travel back


def test_a_record_that_kills_its_process_is_dead_lettered_and_the_rest_survive() -> None:
    settings = replace(Settings(), processes=2)
    items = [item(1), item(2, f"https://site.example/{CRASH_MARKER}"), item(3)]
    pool = CpuPool(settings, make_extractor(), 2, factory=crashing_factory)
    seen: list[int] = []
    try:
        results = pool.prepare_all(items, lambda i, r: seen.append(i))
        again = pool.prepare_all([item(4)] * 2)  # the pool is usable afterwards
    finally:
        pool.close()
    assert isinstance(results[0], Prepared) and isinstance(results[2], Prepared)
    assert isinstance(results[1], Failed)
    assert (results[1].kind, results[1].reason) == ("dead_letter", "worker_crashed")
    assert all(isinstance(r, Prepared) for r in again)
    assert seen == [0, 1, 2]  # every record handed over once, crashed or not


def test_start_brings_every_pool_process_up_before_the_first_batch() -> None:
    settings = replace(Settings(), processes=2)
    inline = CpuPool(settings, make_extractor(), 0)
    inline.start()
    assert inline._slots == []  # inline: nothing to start
    pool = CpuPool(settings, make_extractor(), 2)
    try:
        pool.start()
        processes = [slot.process for slot in pool._slots]  # started, extractors built
        assert len(processes) == 2 and all(p.is_alive() for p in processes)
        assert isinstance(pool.prepare_all([item(1)])[0], Prepared)
    finally:
        pool.close()


HANG_MARKER = "hang-in-c-code"


def hanging_factory(name: str) -> Extractor:
    """An extractor that, on one marked page, never returns to Python while it works: as
    the HTML parser's C code on a pathological page (the soft budget's alarm is blocked)."""
    real = make_extractor(name)

    def extract(page: Page) -> Extracted:
        if HANG_MARKER in page.url:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(3600)
        return real(page)

    return extract


def test_a_page_past_its_hard_limit_has_its_process_killed_and_the_batch_goes_on() -> None:
    settings = replace(Settings(), processes=1, extract_timeout_s=0.5)
    items = [item(1), item(2, f"https://site.example/{HANG_MARKER}"), item(3)]
    pool = CpuPool(settings, make_extractor(), 1, factory=hanging_factory)
    ticks: list[float] = []
    try:
        pool.start()
        first_pid = pool._slots[0].process.pid
        results = pool.prepare_all(items, tick=lambda: ticks.append(time.monotonic()))
        assert pool._slots[0].process.pid != first_pid  # replaced
        again = pool.prepare_all([item(4)])
    finally:
        pool.close()
    assert isinstance(results[0], Prepared) and isinstance(results[2], Prepared)
    assert isinstance(results[1], Failed)
    assert (results[1].stage, results[1].reason) == ("extract", "timeout")
    assert isinstance(again[0], Prepared)
    assert ticks  # the caller kept its group membership while the pool waited
