"""Locust's per-second request counts cut to the seconds Locust reads, so a long run's master stays flat.

Every Locust stats entry counts requests and failures per second of the whole run
(`num_reqs_per_sec`, `num_fail_per_sec`) but reads only the last 12 seconds of them (current
RPS and failures/s: the console, the web UI, the CSV history); total RPS comes from the totals.
A master merges every worker's seconds into its entries, so for as long as a run lasts they gain
a key per entry and second. Once a minute, seconds older than KEEP_SECONDS are dropped.
"""

from __future__ import annotations

import time

import gevent

KEEP_SECONDS = 60
"""Seconds of per-second counts kept (Locust reads the last 12; a late worker report may add to the last few)."""

EVERY_SECONDS = 60.0


def drop_old_seconds(stats, now: float, keep_seconds: int = KEEP_SECONDS) -> int:
    """Remove per-second request and failure counts older than `keep_seconds` from every entry of Locust's RequestStats; returns how many."""
    oldest = int(now) - keep_seconds
    dropped = 0
    for entry in [*stats.entries.values(), stats.total]:
        for counts in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
            stale = [second for second in counts if second < oldest]
            for second in stale:
                del counts[second]
            dropped += len(stale)
    return dropped


def install(environment, clock=time.time, every_seconds: float = EVERY_SECONDS) -> gevent.Greenlet:
    """Master or standalone process: drop old per-second counts once a minute while the process lives."""

    def loop() -> None:
        while True:
            gevent.sleep(every_seconds)
            drop_old_seconds(environment.stats, clock())

    return gevent.spawn(loop)
