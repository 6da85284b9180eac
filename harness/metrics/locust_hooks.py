"""Locust glue: a recorder per process, deltas from workers to the master, files written once at quit.

Workers attach their delta to every stats report (`report_to_master`, every 3 s and once more
after their users stopped on quit) and start afresh, so nothing is counted twice; the master
merges them (`worker_report`) from the same messages that carry Locust's own stats. The master,
or a standalone process, writes the harness_* files at `quit`, after the last worker report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from locust.runners import WorkerRunner

from harness.fastpath.attempts import observe_attempts
from harness.metrics.files import write_metrics_files
from harness.metrics.keys import key_schemas
from harness.metrics.recorder import Recorder
from harness.metrics.run_info import run_info
from harness.scenario import Scenario
from harness.target.client import Connection

log = logging.getLogger(__name__)

WIRE_KEY = "ddb_harness_metrics"
"""The key of the harness's delta in a worker's report (Locust owns "stats" and "errors")."""


@dataclass
class RunWindow:
    """Master/standalone bookkeeping for harness_run.json: when the load ran, which workers reported."""

    start_time: float | None = None
    end_time: float | None = None
    workers: set[str] = field(default_factory=set)
    written: bool = False


def install(environment, runner, client, scenario: Scenario, connection: Connection, estimate=None, embedded: bool = False) -> Recorder:
    """Count every attempt of `client` and every request event of this process; ship or write the results.

    `estimate`: the Recorder's estimate of units an answer does not report; `embedded`: the
    connection is the DynamoDB Local the harness started (harness_run.json says so).
    """
    recorder = Recorder(schemas=key_schemas(scenario.tables), estimate=estimate)
    observe_attempts(client, recorder.on_attempt)
    events = environment.events
    events.request.add_listener(recorder.on_request)
    events.reset_stats.add_listener(recorder.clear)
    events.test_start.add_listener(recorder.clear)  # Locust clears its stats when a new test starts, so do we
    if isinstance(runner, WorkerRunner):
        events.report_to_master.add_listener(lambda data, **_: attach_delta(recorder, data))
    else:
        _install_collector(environment, recorder, scenario, connection, embedded)
    return recorder


def attach_delta(recorder: Recorder, data: dict) -> None:
    """Worker: put what was counted since the last report into Locust's report and start afresh."""
    delta = recorder.take()
    if delta:
        data[WIRE_KEY] = delta.to_wire()


def _install_collector(environment, recorder: Recorder, scenario: Scenario, connection: Connection, embedded: bool) -> None:
    """Master/standalone: merge worker deltas, note the run's window, write the files at quit."""
    window = RunWindow()
    events = environment.events

    def on_test_start(**_):
        window.start_time, window.end_time = time.time(), None

    def on_test_stop(**_):
        window.end_time = time.time()

    def on_worker_report(client_id, data, **_):
        window.workers.add(client_id)
        if data.get(WIRE_KEY):
            recorder.add_wire(data[WIRE_KEY])

    def on_quit(**_):
        if window.written:
            return
        window.written = True
        prefix = environment.parsed_options.csv_prefix if environment.parsed_options else None
        if not prefix:
            log.debug("no --csv: harness metrics files not written")
            return
        end_time = window.end_time or time.time()
        info = run_info(scenario, connection, window.start_time, end_time, workers=len(window.workers), embedded=embedded)
        try:
            write_metrics_files(Path(prefix).parent, recorder.tally, info)
        except OSError as exc:  # a full disk: one line, and the files already written stay whole
            log.error("harness metrics files not all written (%s): the report falls back to Locust's numbers", exc.strerror or exc)

    events.test_start.add_listener(on_test_start)
    events.test_stop.add_listener(on_test_stop)
    events.worker_report.add_listener(on_worker_report)
    events.quit.add_listener(on_quit)
