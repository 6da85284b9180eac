"""Stop signals inside a Locust process: SIGINT, SIGTERM and SIGHUP all take Locust's Ctrl+C path.

Locust stops cleanly on SIGINT (users stopped, CSVs and its HTML report written), stops without its
HTML report on SIGTERM, and dies on SIGHUP with nothing written. Here each of the three ends the
process the SIGINT way, and the first one received records the interruption in the run folder
(harness.metrics.interruption), so a signal sent to one Locust process alone is in the report.

The interrupt is thrown into the main greenlet (where Locust waits for the run to end), never
raised in whatever greenlet the signal lands in: a user's request is not cut in half by it.
Locust installs its own SIGTERM handler after the init event, so the harness's handlers are put
back every RESTORE_SECONDS while the process runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path

import gevent

from harness.metrics.interruption import SIGNAL, record_interruption, signal_exit_code, signal_name

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
HTML_ROOM_BYTES = 4 * 2**20
"""Free space below which a stopping Locust process skips its HTML report (a few hundred KB, written before its CSVs)."""
RESTORE_SECONDS = 0.5
FORCE_AFTER = 3
"""The stop signal that makes a stopping Locust process exit at once (the first stops it cleanly)."""


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def install(role: str, run_dir: Path | None, options=None) -> None:
    """Handle the stop signals in this Locust process (`role`: master, worker, standalone).

    `options`: Locust's parsed options; on a disk too full for it, Locust's HTML report is skipped
    (Locust fails writing it and then writes nothing else). Call from the main greenlet (Locust's
    init event runs there)."""
    main = gevent.getcurrent()
    received: list[int] = []

    def on_signal(signum, _frame) -> None:
        if received:
            received.append(signum)
            if len(received) >= FORCE_AFTER:  # the user insists: leave now, whatever is not written yet
                log.error("%s received %d times: exiting at once", signal_name(signum), len(received))
                os._exit(signal_exit_code(signum))
            log.warning("%s received again: already stopping (a third one exits at once)", signal_name(signum))
            return
        received.append(signum)
        log.info("%s received: stopping the %s as on Ctrl+C", signal_name(signum), role)
        if run_dir is not None:
            message = f"{signal_name(signum)} sent to the Locust {role} process (pid {os.getpid()})"
            record_interruption(run_dir, SIGNAL, message, signal_exit_code(signum), f"locust {role}", signum)
        if run_dir is not None and options is not None and getattr(options, "html_file", None) and _free_bytes(run_dir) < HTML_ROOM_BYTES:
            log.error("the disk is full: Locust's HTML report is not written, so that its other files are")
            options.html_file = None
        gevent.get_hub().loop.run_callback(main.throw, KeyboardInterrupt)

    def hold() -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, on_signal)

    def keep_holding() -> None:
        while True:
            gevent.sleep(RESTORE_SECONDS)
            hold()

    hold()
    gevent.spawn(keep_holding)
