"""Polling for a condition in tests that watch real processes."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float, every: float = 0.2) -> bool:
    """True as soon as `predicate()` holds, False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
