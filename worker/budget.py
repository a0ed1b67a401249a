"""A wall-clock budget for one page's CPU work, so a pathological page cannot stall a worker."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExceeded(Exception):
    pass


# After the deadline the alarm repeats this often until the block ends.
RETRY_S = 0.25


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise BudgetExceeded in the block after ``seconds``.

    Uses SIGALRM, so it only interrupts the main thread of a process (where the
    worker runs its stages); elsewhere the block runs unbounded. C code (the HTML
    parser) is interrupted when it returns to Python, which the size cap keeps short.
    The alarm repeats until the block ends: raised inside a callback from C (lxml's
    element lookup while parsing) or under a library's ``except Exception``, the
    exception is swallowed, and a single alarm would leave the page unbounded.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    active = True

    def on_alarm(signum: int, frame: object) -> None:
        if active:
            raise BudgetExceeded(f"over the {seconds:g} s budget")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, RETRY_S)
    try:
        yield
    finally:
        active = False  # first, and without a call: a late alarm is now a no-op
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
