"""The per-page time budget holds even when its first alarm is swallowed."""

from __future__ import annotations

import signal
import time

import pytest

from worker.budget import BudgetExceeded, time_budget


def busy_until(deadline: float) -> None:
    while time.monotonic() < deadline:
        pass


def test_a_swallowed_alarm_is_followed_by_another() -> None:
    """Code that swallows the first BudgetExceeded (a callback from C, ``except Exception``)
    is still interrupted; without the repeat it would run until its own end."""
    swallowed = 0
    give_up = time.monotonic() + 5
    with pytest.raises(BudgetExceeded), time_budget(0.05):
        try:
            busy_until(give_up)
        except BudgetExceeded:
            swallowed += 1
        busy_until(give_up)
    assert swallowed == 1
    assert time.monotonic() < give_up


def test_no_alarm_outlives_the_block() -> None:
    before = signal.getsignal(signal.SIGALRM)
    with time_budget(0.05):
        pass
    busy_until(time.monotonic() + 0.4)  # past the deadline and a repeat: nothing is raised
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
