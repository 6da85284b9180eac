"""What `ddb-harness run` watches while a run lasts: stop signals sent to it, the processes of the run, the disk.

Any of SIGINT, SIGTERM and SIGHUP sent to `ddb-harness run` alone stops the run the way Ctrl+C
does: Locust's users stop, every file is written, the report is built, the servers are stopped.
The Locust processes have a process group of their own, so a Ctrl+C in the terminal reaches this
process alone and is passed on once. Before the load starts (tables, data) a stop signal ends the
command at once (RunInterrupted); once Locust has exited, the report is finished first.

While Locust runs, every POLL_SECONDS: the embedded DynamoDB Local or the capacity gate ending
stops the run (it cannot go on without them); a local worker ending is said in one line and the
run goes on; free space under the run folder falling below DISK_FLOOR_BYTES stops the run while
there is still room for its last files. What stopped a run is recorded in the run folder
(harness.metrics.interruption) and decides the exit code.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.metrics.interruption import DISK, EXIT_ENDED_EARLY, PROCESS, SIGNAL, record_interruption, signal_exit_code, signal_name

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
POLL_SECONDS = 0.5
DISK_FLOOR_BYTES = 16 * 2**20
"""A run stops when less than this is free where its folder is: room for the final CSVs, Locust's HTML and the report."""

WORKER_GONE_SECONDS = 3.0
"""A local worker that ended is said lost once the master has run this long without it."""

SETUP, LOAD, REPORT = "setup", "load", "report"


class RunInterrupted(BaseException):
    """A stop signal arrived before the load started (a BaseException, like KeyboardInterrupt: nothing may swallow it)."""

    def __init__(self, signum: int):
        super().__init__(f"{signal_name(signum)} received before the load started: nothing ran")
        self.exit_code = signal_exit_code(signum)


@dataclass(frozen=True)
class Watched:
    """A process the run cannot go on without (the embedded server, the capacity gate), by the name users know it."""

    name: str
    process: subprocess.Popen


def ending(process: subprocess.Popen) -> str:
    """How a process ended, in words: 'ended by SIGTERM', 'exited with code 143 (SIGTERM)' (a JVM's way), 'exited with code 1'."""
    code = process.returncode
    if code is not None and code < 0:
        return f"ended by {signal_name(-code)}"
    if code is not None and code - 128 in {int(each) for each in signal.Signals}:
        return f"exited with code {code} ({signal_name(code - 128)})"
    return f"exited with code {code}"


def free_bytes(folder: Path) -> int:
    """Bytes free to this user on the file system of `folder`."""
    return shutil.disk_usage(folder).free


def megabytes(count: int) -> str:
    """A byte count as MiB with one decimal."""
    return f"{count / 2**20:.1f} MiB"


class Supervisor:
    """One run's stop signals and watches; a context manager that holds the signal handlers while it is open."""

    def __init__(self, run_dir: Path | None, watched: list[Watched] | None = None):
        self.run_dir = run_dir
        self.watched = list(watched or [])
        self.phase = SETUP
        self.stopping = False
        self.stopped_with: int | None = None
        """The exit code of the stop this process decided, also when a full disk kept it from being recorded."""
        self._stop_locust: Callable[[], None] = lambda: None
        self._locust_ready: Callable[[], bool] = lambda: True
        self._stop_pending = False
        self._gone_workers: dict[int, float] = {}
        self._said_gone: set[int] = set()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Supervisor:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *_) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def load_started(self, stop_locust: Callable[[], None], locust_ready: Callable[[], bool]) -> None:
        """Locust runs now: a stop from here on calls `stop_locust` once `locust_ready()` (its stop path is in
        place then: a Locust process interrupted while it imports dies with a traceback and writes nothing)."""
        self._stop_locust, self._locust_ready = stop_locust, locust_ready
        self.phase = LOAD

    def load_ended(self) -> None:
        """Locust has exited: signals from here on wait for the report."""
        self.phase = REPORT

    def check(self, workers: list[subprocess.Popen]) -> None:
        """One look at the watched processes, the local workers and the disk (while Locust runs)."""
        if self._stop_pending:
            self._pass_stop_on()
        for each in self.watched:
            if each.process.poll() is not None:
                self.stop(PROCESS, f"{each.name} (pid {each.process.pid}) {ending(each.process)} during the run: the run stops", EXIT_ENDED_EARLY, each.name)
        for number, worker in enumerate(workers):
            if worker.poll() is None or number in self._said_gone:
                continue
            gone_since = self._gone_workers.setdefault(number, time.monotonic())
            # at the end of a run the master lets its workers go first: a worker is lost only if the run goes on without it
            if not self.stopping and time.monotonic() - gone_since >= WORKER_GONE_SECONDS:
                self._said_gone.add(number)
                log.warning("Locust worker %d (pid %d) %s during the run: the run goes on without it (harness_workers.json)", number, worker.pid, ending(worker))
        if self.run_dir is not None:
            free = free_bytes(self.run_dir)
            if free < DISK_FLOOR_BYTES:
                message = f"out of disk space: {megabytes(free)} left where {self.run_dir} is: the run stops and keeps what it wrote"
                self.stop(DISK, message, EXIT_ENDED_EARLY, "ddb-harness")

    def stop(self, cause: str, message: str, exit_code: int, process: str, signum: int | None = None) -> None:
        """Stop the run once, recording why; later calls only say the run is stopping already."""
        if self.stopping:
            return
        self.stopping = True
        self.stopped_with = exit_code
        if self.run_dir is not None:
            record_interruption(self.run_dir, cause, message, exit_code, process, signum)
        (log.info if cause == SIGNAL else log.error)("%s", message)
        self._stop_pending = True
        self._pass_stop_on()
        if self._stop_pending:
            log.info("Locust is still starting: it stops as soon as it is up")

    def _pass_stop_on(self) -> None:
        if self._locust_ready():
            self._stop_pending = False
            self._stop_locust()

    def _on_signal(self, signum, _frame) -> None:
        name = signal_name(signum)
        if self.phase == SETUP:
            if self.run_dir is not None:
                message = f"{name} sent to ddb-harness (pid {os.getpid()}) before the load started"
                record_interruption(self.run_dir, SIGNAL, message, signal_exit_code(signum), "ddb-harness", signum)
            raise RunInterrupted(signum)
        if self.phase == REPORT or self.stopping:
            log.warning("%s received: already stopping, the results are being written", name)
            return
        self.stop(SIGNAL, f"{name} sent to ddb-harness (pid {os.getpid()}): stopping the run as on Ctrl+C", signal_exit_code(signum), "ddb-harness", signum)
