"""Locust processes of one run: the master (or standalone) process and any local workers.

This process waits for them, passes SIGTERM on (as SIGINT), and leaves Ctrl+C to them (they share the
terminal's process group, and Locust stops itself and writes its files on SIGINT). It notes which
stop signal came, so the run can say it was interrupted.
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

WORKER_GRACE_SECONDS = 15  # workers quit when their master does; this is only a backstop


def master_role_args(bind_host: str, port: int, expect_workers: int) -> list[str]:
    """Locust options for a master that waits for `expect_workers` workers before a headless start."""
    return ["--master", "--master-bind-host", bind_host, "--master-bind-port", str(port), "--expect-workers", str(expect_workers)]


def worker_role_args(master_host: str, port: int) -> list[str]:
    """Locust options for a worker of the master at host:port."""
    return ["--worker", "--master-host", master_host, "--master-port", str(port)]


@dataclass(frozen=True)
class Outcome:
    """How the main Locust process ended."""

    code: int
    """Its exit code."""
    stop_signal: int | None = None
    """SIGINT or SIGTERM when one reached this process while Locust ran, else None."""


def run_processes(main_command: list[str], worker_commands: list[list[str]], worker_logs: list[Path]) -> Outcome:
    """Start the main Locust process and the workers, wait for the main one; returns how it ended."""
    main = subprocess.Popen(main_command, preexec_fn=_default_sigint)
    workers = []
    for command, log_path in zip(worker_commands, worker_logs, strict=False):
        with open(log_path, "wb") as log_file:
            workers.append(subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=_default_sigint))
    everyone = [main, *workers]
    received: list[int] = []

    def on_sigterm(signum, _frame) -> None:
        received.append(signum)
        # Passed on as SIGINT: Locust's SIGINT path also writes the HTML report, its SIGTERM path does not.
        for process in everyone:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)

    # Ctrl+C reaches the Locust processes themselves (one process group): here it is only noted.
    previous_int = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    previous_term = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        code = main.wait()
        for worker in workers:
            _finish(worker)
        return Outcome(code, received[0] if received else None)
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default, so Python turns it into KeyboardInterrupt.

    A background job of a non-interactive shell starts with SIGINT ignored, and a process keeps
    an ignored SIGINT across exec: Locust would then never see the SIGINT that stops it.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _finish(process: subprocess.Popen) -> None:
    """Give a worker time to quit by itself, then stop it."""
    try:
        process.wait(WORKER_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
