"""Wires a target rate and load stages into a Locust process: arrivals, rate shares, the stages shape, their counts.

- Every process that runs users (standalone, worker) gets an arrival dispatcher (harness.workload.arrivals),
  started with each test and stopped (counting starts still waiting) as soon as the test begins to stop.
- The rate comes from the scenario (standalone), from the master's shares (worker), or from the stage in
  progress (harness.run.stages, run by the master or the standalone process).
- Corrected latencies and scheduled starts are counted and written by harness.metrics.open_model_hooks.
"""

from __future__ import annotations

from locust.runners import MasterRunner, WorkerRunner

from harness.metrics.open_model_hooks import OpenModelRun
from harness.metrics.open_model_hooks import install as install_counts
from harness.run import rate_share
from harness.run.stages import StagesShape
from harness.scenario import LoadSpec, Stage
from harness.workload.arrivals import ArrivalDispatcher


def install(environment, runner, load: LoadSpec) -> ArrivalDispatcher | None:
    """Set up the open model and stages for this process; returns its dispatcher (None on a master or a closed run)."""
    counts = install_counts(environment, runner, load)
    arrivals = None
    if load.is_open and not isinstance(runner, MasterRunner):
        arrivals = ArrivalDispatcher(load.arrivals, counts.recorder)
        environment.events.test_start.add_listener(lambda **_: arrivals.start())
        environment.events.test_stopping.add_listener(lambda **_: arrivals.stop())  # before users stop: no new starts
    control = rate_share.RateControl(runner, arrivals)
    rate_share.install(environment, control)
    if isinstance(runner, WorkerRunner):
        return arrivals
    if load.stages:
        shape = StagesShape(load, lambda index, stage, users: _enter_stage(control, counts, index, stage, users))
        shape.runner = runner
        environment.shape_class = shape
        environment.events.test_stop.add_listener(lambda **_: shape.stop())
    elif load.rate is not None:
        environment.events.test_start.add_listener(lambda **_: control.set_total(load.rate))
    return arrivals


def _enter_stage(control: rate_share.RateControl, counts: OpenModelRun, index: int, stage: Stage, users: int) -> None:
    control.set_total(stage.rate)
    counts.stage_started(index, users, stage.rate)
