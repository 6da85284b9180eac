"""Locust glue for the open model's counts: workers ship deltas with their stats reports, the master merges and writes.

The same path as harness.metrics.locust_hooks, under its own key of the worker report, so the
two never depend on each other: harness_corrected_latency.csv, harness_corrected_histograms.csv,
harness_schedule.csv and harness_open_model.json are written once, at quit, where Locust's CSVs are.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from locust.runners import WorkerRunner

from harness.metrics import results_files as files
from harness.metrics.files import write_csv
from harness.metrics.open_model import OpenModelRecorder, OpenModelTally
from harness.scenario import LoadSpec

log = logging.getLogger(__name__)

WIRE_KEY = "ddb_harness_open_model"
"""The key of the open-model delta in a worker's report (beside Locust's and harness.metrics.locust_hooks')."""


@dataclass
class OpenModelRun:
    """This process's open-model recorder, and (master/standalone) the stage changes the load shape made."""

    recorder: OpenModelRecorder
    load: LoadSpec
    stage_changes: list[dict] = field(default_factory=list)
    written: bool = False

    def stage_started(self, index: int, users: int | None, rate: float | None) -> None:
        """The load shape entered stage `index` now (UNIX time), with this pool size and total rate."""
        if index == 0:
            self.stage_changes.clear()  # a new staged test
        self.stage_changes.append({"time": round(time.time(), 3), "users": users, "rate": rate})


def install(environment, runner, load: LoadSpec) -> OpenModelRun:
    """Record corrected latencies and scheduled starts in this process; ship them (worker) or write them (master)."""
    run = OpenModelRun(OpenModelRecorder(), load)
    events = environment.events
    events.request.add_listener(run.recorder.on_request)
    events.reset_stats.add_listener(run.recorder.clear)
    events.test_start.add_listener(run.recorder.clear)
    if isinstance(runner, WorkerRunner):
        events.report_to_master.add_listener(lambda data, **_: _attach(run.recorder, data))
        return run
    events.worker_report.add_listener(lambda data, **_: run.recorder.tally.add_wire(data[WIRE_KEY]) if data.get(WIRE_KEY) else None)
    events.quit.add_listener(lambda **_: _write_once(environment, run))
    return run


def _attach(recorder: OpenModelRecorder, data: dict) -> None:
    delta = recorder.take()
    if delta:
        data[WIRE_KEY] = delta.to_wire()


def _write_once(environment, run: OpenModelRun) -> None:
    if run.written:
        return
    run.written = True
    prefix = environment.parsed_options.csv_prefix if environment.parsed_options else None
    if prefix:
        write_open_model_files(Path(prefix).parent, run.recorder.tally, run.load, run.stage_changes)


def write_open_model_files(run_dir: Path, tally: OpenModelTally, load: LoadSpec, stage_changes: list[dict]) -> list[Path]:
    """Write the open model's files into `run_dir` (names and columns: harness.metrics.results_files); returns the paths."""
    run_dir.mkdir(parents=True, exist_ok=True)
    written = [
        write_csv(run_dir / files.HARNESS_CORRECTED_LATENCY, files.LATENCY_COLUMNS, tally.corrected.percentile_rows()),
        write_csv(run_dir / files.HARNESS_CORRECTED_HISTOGRAMS, files.HISTOGRAM_COLUMNS, tally.corrected.encoded_rows()),
        write_csv(run_dir / files.HARNESS_SCHEDULE, files.SCHEDULE_COLUMNS, tally.schedule_rows()),
    ]
    info = {"arrivals": load.arrivals, "rate": load.rate, **tally.totals(), "stage_changes": stage_changes}
    path = run_dir / files.HARNESS_OPEN_MODEL
    path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    totals = tally.totals()
    if totals["late_starts"] or totals["unstarted_at_end"]:
        log.warning(
            "the load generator fell behind its schedule: %d late starts (worst %.0f ms late), %d scheduled starts never began",
            totals["late_starts"], totals["worst_lag_ms"], totals["unstarted_at_end"],
        )  # fmt: skip
    return written + [path]
