"""Locust processes of one run: the master (or standalone) process and any local workers.

Each Locust process gets a process group of its own and /dev/null as stdin: a Ctrl+C in the
terminal reaches `ddb-harness run` alone, which passes it on to the main Locust process once
(harness.run.supervisor); Locust's keyboard controls are off (Locust would otherwise change the
terminal's settings from a background process group and be stopped by SIGTTOU). Workers follow
their master: it tells them to quit and waits for their last numbers.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
from pathlib import Path

from harness.run.supervisor import POLL_SECONDS, Supervisor

WORKER_GRACE_SECONDS = 15  # workers quit when their master does; this is only a backstop


def master_role_args(bind_host: str, port: int, expect_workers: int) -> list[str]:
    """Locust options for a master that waits for `expect_workers` workers before a headless start."""
    return ["--master", "--master-bind-host", bind_host, "--master-bind-port", str(port), "--expect-workers", str(expect_workers)]


def worker_role_args(master_host: str, port: int) -> list[str]:
    """Locust options for a worker of the master at host:port."""
    return ["--worker", "--master-host", master_host, "--master-port", str(port)]


def start_locust(command: list[str], output=None) -> subprocess.Popen:
    """One Locust process in its own process group, stdin from /dev/null, stopped (SIGTERM) if this process dies."""
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT if output else None, process_group=0, preexec_fn=_child_signals)


def run_processes(main_command: list[str], worker_commands: list[list[str]], worker_logs: list[Path], supervisor: Supervisor, ready_file: Path | None = None) -> int:
    """Start the main Locust process and the workers, wait for the main one while `supervisor` watches; its exit code.

    `ready_file`: a file the main Locust process writes once it is up (its stats CSV); a stop waits for it.
    """
    main = start_locust(main_command)
    workers = []
    for command, log_path in zip(worker_commands, worker_logs, strict=False):
        with open(log_path, "wb") as log_file:
            workers.append(start_locust(command, log_file))
    supervisor.load_started(lambda: _interrupt(main), lambda: ready_file is None or ready_file.exists())
    try:
        code = _wait(main, workers, supervisor)
    finally:
        supervisor.load_ended()
        for worker in workers:
            _finish(worker)
        if main.poll() is None:  # this process is leaving abnormally: Locust still writes its files
            _interrupt(main)
            _finish(main)
    return code


def _wait(main: subprocess.Popen, workers: list[subprocess.Popen], supervisor: Supervisor) -> int:
    """Wait for the main Locust process, letting the supervisor look around every POLL_SECONDS."""
    while True:
        try:
            return main.wait(POLL_SECONDS)
        except subprocess.TimeoutExpired:
            supervisor.check(workers)


def _interrupt(process: subprocess.Popen) -> None:
    """SIGINT to a Locust process that is still running: Locust's own clean stop (files and HTML report)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)


def _child_signals() -> None:
    """In the child before exec: SIGINT back to its default, and SIGTERM when this process dies.

    A background job of a non-interactive shell starts with SIGINT ignored, and a process keeps an
    ignored SIGINT across exec: Locust would then never see the SIGINT that stops it. A Locust
    process in a process group of its own sees no Ctrl+C, so the death of `ddb-harness run` (even by
    SIGKILL) is passed to it by Linux (PR_SET_PDEATHSIG), and it stops cleanly instead of running on.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _finish(process: subprocess.Popen) -> None:
    """Give a Locust process time to quit by itself, then stop it."""
    try:
        process.wait(WORKER_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
