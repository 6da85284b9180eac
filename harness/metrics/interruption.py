"""The record of a run that ended before its time: harness_interruption.json in the run folder.

Whoever learns first why a run is stopping writes it: `ddb-harness run` when it receives a signal,
sees a process of the run end or the disk fill up; a Locust process when a signal reaches it alone.
The first record wins, so a signal passed on from one process to another is recorded once, by the
process it was sent to.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from harness.metrics.results_files import HARNESS_INTERRUPTION

SIGNAL = "signal"
PROCESS = "process"
DISK = "disk"
WORKERS = "workers"

EXIT_ENDED_EARLY = 4
"""Exit code of a run stopped because a process it needs ended, every worker went silent or its disk filled up (results written until then)."""


def signal_exit_code(signum: int) -> int:
    """The shell's code for a process ended by `signum`: 128 + its number (130 for SIGINT)."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    """SIGINT, SIGTERM, ... for a signal number."""
    return signal.Signals(signum).name


def record_interruption(run_dir: Path, cause: str, message: str, exit_code: int, process: str, signum: int | None = None) -> bool:
    """Write harness_interruption.json unless a record is there already; True when this one was written.

    A full disk may refuse the write: the record is then lost, never the run's other files.
    """
    record = {
        "at": time.time(), "cause": cause, "signal": signal_name(signum) if signum else None,
        "process": process, "message": message, "exit_code": exit_code,
    }  # fmt: skip
    try:
        descriptor = os.open(Path(run_dir) / HARNESS_INTERRUPTION, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError:
        return False
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
    except OSError:
        (Path(run_dir) / HARNESS_INTERRUPTION).unlink(missing_ok=True)  # no half record
        return False
    return True


def read_interruption(run_dir: Path) -> dict | None:
    """The run's interruption record, or None when it ran to its end (or the record is unreadable)."""
    try:
        data = json.loads((Path(run_dir) / HARNESS_INTERRUPTION).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
