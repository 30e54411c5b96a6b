"""Waiting in tests for something a background thread or process does: poll, never sleep.

    from tests.support.waiting import eventually
    eventually(lambda: job.snapshot().epoch >= 1, message="the run finished no epoch")
    run = eventually(lambda: store.get(run_id), timeout=120)  # returns what the check gave

The timeout only bounds the wait: it is generous because the machine may be small and busy,
and a test passes as soon as the condition holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    timeout: float = 60.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition did not hold",
    pause: Callable[[float], object] = time.sleep,
) -> T:
    """Call `check()` every `interval` seconds until it returns a true value, and return that.

    After `timeout` seconds raises AssertionError with `message` (or what `message()` returns
    then, to say the state it found). An exception raised by `check` ends the wait at once.
    `pause(seconds)` waits between calls: a browser test passes one that lets Playwright
    deliver the page's events meanwhile (tests/browser/page_actions.py, `pause_on`).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"{said} (waited {timeout:g} s)")
        pause(interval)
