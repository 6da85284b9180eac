"""A distributed run that rides out a pause of its workers, and stops and says so when they stay silent.

Locust's master counts a worker missing after 3 heartbeats (1 s apart) without news from it, and
when the last worker goes missing it stops the test. The workers come back ("self-healed"), but
the load does not: a headless run then sat idle until its run time and exited 0. Pauses of a few
seconds are ordinary: a starved CPU, a worker slow to load its scenario, a VM or container frozen
for a moment. So the master waits SILENCE_SECONDS before it counts a worker missing, and a
headless run whose every worker went silent for that long stops there: the interruption is
recorded (harness_interruption.json, the report's "Stopped early" line) and `ddb-harness run`
exits 4. A `--web` run stays up for the user to start again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gevent

from harness.metrics.interruption import EXIT_ENDED_EARLY, WORKERS, record_interruption

log = logging.getLogger(__name__)

SILENCE_SECONDS = 8
"""Seconds without a heartbeat from a worker (they come every second) before the master counts it missing.

Longer rides out longer pauses, but a worker that died without a word (SIGKILL, a lost machine) is
noticed later: its users are not replaced and, at a target rate, its share of the rate goes unserved
until then. Ddb-harness notices its own local workers ending at once; this is for the rest."""


def allow_pauses(seconds: int = SILENCE_SECONDS) -> None:
    """Master: count a worker missing only after `seconds` without a heartbeat (Locust's default is 3)."""
    from locust import runners  # only inside Locust: importing locust patches sockets

    runners.HEARTBEAT_LIVENESS = seconds


def install(environment, runner, run_dir: Path | None, headless: bool) -> None:
    """Master: when the test stops because every worker went missing, record it and end a headless run."""

    def on_test_stop(**_) -> None:
        if runner.worker_count or not runner.clients.missing:
            return  # stopped by its run time, a signal or the user; or its workers quit (ddb-harness sees their processes end)
        silent = len(runner.clients.missing)
        message = f"every worker went silent for {SILENCE_SECONDS} s (no heartbeat from {silent} of them): the load stopped"
        if not headless:
            log.error("%s; start it again from the web UI once the workers are back", message)
            return
        log.error("%s; the run ends here and keeps what it counted", message)
        if run_dir is not None:
            record_interruption(run_dir, WORKERS, message, EXIT_ENDED_EARLY, "locust master")
        gevent.spawn(runner.quit)

    environment.events.test_stop.add_listener(on_test_stop)
