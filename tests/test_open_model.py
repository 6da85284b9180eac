"""Open model against real Locust processes: a 1 s server stall, seen by the open model and hidden by the closed one.

A scripted endpoint answers every request at once, except that once (the 400th request) it holds
every answer for one second. The same 10 s run at 200 tasks/s is made twice at
once: open model (`load.rate: 200`, 10 users as the pool) and closed model (10 users at 20 tasks/s
each). Only the open model measures the requests that should have been sent during the stall.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, write_scenario
from hdrh.histogram import HdrHistogram
from scripted_endpoint import ScriptedEndpoint, answer
from support.waiting import wait_for

from harness.metrics import results_files as files
from harness.report import build_report
from harness.run.schedule_summary import open_model_lines
from harness.run.worker_pauses import SILENCE_SECONDS
from harness.target.local import free_port

RATE = 200
USERS = 10
RUN_SECONDS = 10
STALL_AT_REQUEST = 400
STALL_SECONDS = 1.0
SLOW_MS = 500.0
ORDER_TOLERANCE = USERS
"""Requests reach the endpoint in the order of their starts but for the ones in flight together (at most one per
user), so counting them in the endpoint's order can misplace at most that many around the 500 ms line."""
CLIENT_DELAY_TOLERANCE = 2 * USERS
"""The client reads the answers of the backlog after the stall a little later than the endpoint sent them (more so
on a busy machine), which can push a few more requests over the line than the endpoint's times say."""
NOISE = USERS
"""Requests a busy shared machine slows past 500 ms by itself (descheduled client processes), in either model."""


class StallingEndpoint(ScriptedEndpoint):
    """Answers GetItem with no item at once, but the STALL_AT_REQUEST-th request holds every answer for a second.

    Answers are made one at a time (under the server's lock), so the stall holds them all; the
    time each request was answered is kept, in the order the requests were answered.
    """

    def __init__(self):
        super().__init__(default=self._answer_or_stall)
        self.answered: list[float] = []
        self.stall: tuple[float, float] | None = None

    def _answer_or_stall(self, operation: str):
        if len(self.answered) + 1 == STALL_AT_REQUEST:
            began = time.time()
            time.sleep(STALL_SECONDS)
            self.stall = (began, time.time())
        self.answered.append(time.time())
        return answer({})

    def expected_slow(self, rate: float, slow_ms: float) -> int:
        """Requests slower than `slow_ms` from their intended start, from the schedule: the stalled request was
        intended when the stall began and the ones after it every 1/rate seconds; each took until it was answered."""
        began, _ = self.stall
        intended = (began + (number - STALL_AT_REQUEST + 1) / rate for number in range(STALL_AT_REQUEST, len(self.answered) + 1))
        return sum(answered - start > slow_ms / 1000 for answered, start in zip(self.answered[STALL_AT_REQUEST - 1 :], intended, strict=False))


def stall_scenario(directory: Path, url: str, load: dict) -> Path:
    """One GetItem step on an endpoint target (no setup: the endpoint has no tables to create)."""
    data = {
        "name": directory.name,
        "target": {"kind": "endpoint", "url": url},
        "tables": [{"name": "stall", "attributes": {"pk": "S"}, "key": {"hash": "pk"}}],
        "workload": {"mix": [{"name": "read", "op": "GetItem", "table": "stall", "key": {"pk": "k"}}]},
        "load": {"users": USERS, "spawn_rate": 100, **({} if "stages" in load else {"run_time": f"{RUN_SECONDS}s"}), **load},
    }
    return write_scenario(directory, data)


def start_locust(scenario: Path, directory: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles" / "scenario.py"), "--scenario", str(scenario), "--skip-setup", "--headless", "--csv", str(directory / "locust"), "--only-summary"]  # fmt: skip
    return subprocess.Popen(command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def count_above(encoded_rows_file: Path, threshold_ms: float) -> int:
    """Requests of every step slower than `threshold_ms`, from an HDR histograms CSV (microseconds)."""
    total = 0
    with open(encoded_rows_file, newline="") as handle:
        for row in csv.DictReader(handle):
            histogram = HdrHistogram.decode(row["encoded"])
            total += sum(item.count_at_value_iterated_to for item in histogram.get_recorded_iterator() if item.value_iterated_to > threshold_ms * 1000)
    return total


def aggregated(path: Path) -> dict:
    with open(path, newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["name"] == "Aggregated")


@pytest.fixture(scope="module")
def stall_runs(tmp_path_factory):
    """The open and the closed run side by side, each against its own stalling endpoint."""
    runs = {}
    with StallingEndpoint() as open_endpoint, StallingEndpoint() as closed_endpoint:
        for kind, endpoint, load in (
            ("open", open_endpoint, {"rate": RATE}),
            ("closed", closed_endpoint, {"wait_time": {"constant_throughput": RATE / USERS}}),
        ):
            directory = tmp_path_factory.mktemp(kind)
            runs[kind] = (directory, endpoint, start_locust(stall_scenario(directory, endpoint.url, load), directory))
        for kind, (_directory, endpoint, process) in runs.items():
            output, _ = process.communicate(timeout=90)
            assert process.returncode == 0, output
            assert endpoint.stall is not None, f"{kind} run never reached request {STALL_AT_REQUEST}"
    return {kind: (directory, endpoint) for kind, (directory, endpoint, _) in runs.items()}


def test_open_model_counts_every_request_the_stall_delayed(stall_runs):
    directory, endpoint = stall_runs["open"]
    began, ended = endpoint.stall
    expected = endpoint.expected_slow(RATE, SLOW_MS)
    # about half the stall's worth of starts, plus those the backlog's drain kept waiting
    assert (ended - began - SLOW_MS / 1000) * RATE <= expected <= (ended - began) * RATE
    slow = count_above(directory / files.HARNESS_CORRECTED_HISTOGRAMS, SLOW_MS)
    assert expected - ORDER_TOLERANCE <= slow <= expected + ORDER_TOLERANCE + CLIENT_DELAY_TOLERANCE, (slow, expected)
    corrected_p99 = float(aggregated(directory / files.HARNESS_CORRECTED_LATENCY)["p99_ms"])
    assert corrected_p99 > SLOW_MS  # p99 shows the stall
    assert float(aggregated(directory / files.HARNESS_LATENCY)["p99_ms"]) < corrected_p99 / 2  # service time alone hides it


def test_open_model_reports_late_starts_and_loses_none(stall_runs):
    directory, _ = stall_runs["open"]
    info = json.loads((directory / files.HARNESS_OPEN_MODEL).read_text())
    stalled_starts = STALL_SECONDS * RATE - USERS  # due during the stall while every user waited for an answer
    assert info["late_starts"] >= stalled_starts * 0.9
    assert info["worst_lag_ms"] >= 0.8 * STALL_SECONDS * 1000
    assert info["intended_starts"] == info["starts"] + info["unstarted_at_end"]
    assert abs(info["intended_starts"] - RATE * RUN_SECONDS) <= 0.02 * RATE * RUN_SECONDS
    stats = aggregated_locust(directory)
    assert int(stats["Request Count"]) == info["starts"]  # one request per started task, each counted once
    schedule = list(csv.DictReader(open(directory / files.HARNESS_SCHEDULE, newline="")))
    assert sum(int(row["starts"]) for row in schedule) == info["starts"]


def aggregated_locust(directory: Path) -> dict:
    with open(directory / files.LOCUST_STATS, newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


def test_closed_model_shows_the_stall_in_a_handful_of_samples(stall_runs):
    directory, _ = stall_runs["closed"]
    slow = count_above(directory / files.HARNESS_HISTOGRAMS, SLOW_MS)
    assert 1 <= slow <= USERS + NOISE  # one request in flight per user; the ones it would have sent were never sent
    open_directory, _ = stall_runs["open"]
    assert 4 * slow <= count_above(open_directory / files.HARNESS_CORRECTED_HISTOGRAMS, SLOW_MS)
    closed_p99 = float(aggregated(directory / files.HARNESS_LATENCY)["p99_ms"])
    assert closed_p99 < float(aggregated(open_directory / files.HARNESS_CORRECTED_LATENCY)["p99_ms"]) / 2
    assert not (directory / files.HARNESS_OPEN_MODEL).exists()


def test_report_and_summary_show_both_latencies_and_the_lag(stall_runs):
    directory, _ = stall_runs["open"]
    result = build_report(directory)
    open_model = result.summary["open_model"]
    assert open_model["corrected_latency_ms"]["p99"] > SLOW_MS
    assert open_model["service_latency_ms"]["p99"] < open_model["corrected_latency_ms"]["p99"] / 2
    assert open_model["late_starts"] > 0 and open_model["fell_behind"] is True
    report = (directory / files.REPORT_MD).read_text()
    assert "corrected" in report and "fell behind" in report
    service, corrected, starts = open_model_lines(directory)  # what `ddb-harness run` prints at the end
    assert service.startswith("open model, service time") and corrected.startswith("open model, corrected")
    assert starts.endswith("the load generator fell behind its schedule")
    assert open_model_lines(stall_runs["closed"][0]) == []




# ---- stages: the rate follows each stage, and holds 100 starts/s within 2% ------------------------------

STAGES = [{"duration": "6s", "rate": 100}, {"duration": "4s", "rate": 300, "users": 8}, {"duration": "4s", "rate": 50}]
STAGE_SECONDS = [6, 4, 4]
SETTLE_SECONDS = 1.0


@pytest.fixture(scope="module")
def staged_run(tmp_path_factory):
    """A 14 s headless run in three stages against an endpoint that answers at once."""
    directory = tmp_path_factory.mktemp("stages")
    with ScriptedEndpoint(default=lambda operation: answer({})) as endpoint:
        process = start_locust(stall_scenario(directory, endpoint.url, {"stages": STAGES, "users": 4}), directory)
        output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output
    return directory


def achieved_rates(directory: Path) -> list[float]:
    """Starts per second in each stage, over the whole seconds from a second after it began to its end."""
    info = json.loads((directory / files.HARNESS_OPEN_MODEL).read_text())
    begins = [change["time"] for change in info["stage_changes"]]
    ends = begins[1:] + [begins[-1] + STAGE_SECONDS[-1]]
    starts = {int(row["timestamp"]): int(row["starts"]) for row in csv.DictReader(open(directory / files.HARNESS_SCHEDULE, newline=""))}
    rates = []
    for begin, end in zip(begins, ends, strict=True):
        seconds = range(math.ceil(begin + SETTLE_SECONDS), math.floor(end))
        assert len(seconds) >= 2
        rates.append(sum(starts.get(second, 0) for second in seconds) / len(seconds))
    return rates


def test_stages_switch_on_time_and_the_rate_follows(staged_run):
    info = json.loads((staged_run / files.HARNESS_OPEN_MODEL).read_text())
    changes = info["stage_changes"]
    assert [(change["rate"], change["users"]) for change in changes] == [(100, 4), (300, 8), (50, 8)]
    gaps = [later["time"] - earlier["time"] for earlier, later in zip(changes, changes[1:], strict=False)]
    assert all(abs(gap - length) < 0.1 for gap, length in zip(gaps, STAGE_SECONDS, strict=False)), gaps
    rates = achieved_rates(staged_run)
    for achieved, stage in zip(rates, STAGES, strict=True):
        assert abs(achieved - stage["rate"]) <= 0.05 * stage["rate"], (rates, STAGES)
    assert abs(rates[0] - 100) <= 2  # schedule accuracy at 100 starts/s: within 2%
    run = json.loads((staged_run / files.HARNESS_RUN).read_text())
    assert abs(run["end_time"] - run["start_time"] - sum(STAGE_SECONDS)) < 1.5  # the shape ended the run after its last stage
    assert int(aggregated_locust(staged_run)["Request Count"]) == info["starts"]


def test_report_draws_the_schedule_with_stage_boundaries(staged_run):
    result = build_report(staged_run)
    assert "schedule.png" in result.summary["plots"]
    stages = result.summary["open_model"]["stages"]
    assert [stage["rate"] for stage in stages] == [100, 300, 50]
    assert "| stage |" in (staged_run / files.REPORT_MD).read_text()


# ---- the dispatcher alone (gevent, no Locust) -------------------------------------------------------------


def test_dispatcher_hands_out_starts_at_the_rate_and_counts_the_ones_nobody_took():
    import gevent

    from harness.metrics.open_model import OpenModelRecorder
    from harness.workload.arrivals import ArrivalDispatcher

    recorder = OpenModelRecorder()
    dispatcher = ArrivalDispatcher("constant", recorder)
    dispatcher.start()
    dispatcher.set_rate(1000)
    lags = []
    taker = gevent.spawn(lambda: [lags.append(dispatcher.take()) for _ in range(100)])
    gevent.sleep(0.3)
    dispatcher.stop()  # ~300 due: 100 taken, the rest waiting
    taker.join()
    totals = recorder.tally.totals()
    assert len(lags) == totals["starts"] == 100
    assert totals["intended_starts"] == totals["starts"] + totals["unstarted_at_end"]
    assert 250 <= totals["intended_starts"] <= 310
    assert totals["unstarted_worst_lag_ms"] > 150  # the oldest waited since early in the 0.3 s
    assert dispatcher.rate is None


def test_a_rate_change_keeps_the_starts_that_fell_due_while_the_process_was_busy():
    import gevent

    from harness.metrics.open_model import OpenModelRecorder
    from harness.workload.arrivals import ArrivalDispatcher

    recorder = OpenModelRecorder()
    dispatcher = ArrivalDispatcher("constant", recorder)
    dispatcher.start()
    dispatcher.set_rate(100)
    gevent.sleep(0.05)
    before = recorder.tally.totals()["intended_starts"]
    time.sleep(0.3)  # the whole process busy: the dispatcher greenlet cannot run
    dispatcher.set_rate(200)  # e.g. a new share from the master, handled right after
    kept = recorder.tally.totals()["intended_starts"] - before
    dispatcher.stop()
    assert 29 <= kept <= 32, kept  # 0.3 s at 100/s, each with its own intended time


def test_poisson_gaps_average_one_over_the_rate():
    import random

    from harness.workload.arrivals import gap_function

    gap = gap_function("poisson", random.Random(7))
    gaps = [gap(500.0) for _ in range(20000)]
    assert abs(sum(gaps) / len(gaps) - 1 / 500) < 0.02 / 500
    assert len(set(gaps)) == len(gaps)  # not evenly spaced
    assert gap_function("constant", random.Random(7))(500.0) == 1 / 500


# ---- master and workers: the rate is split, and a killed worker's share goes to the others ----------------

WORKER_RATE = 120
WORKER_RUN_SECONDS = 20


def test_a_killed_workers_share_goes_to_the_workers_left(tmp_path):
    """Two workers serve 60 starts/s each; one is killed (SIGKILL) mid-run; once the master finds it missing
    (no heartbeat for worker_pauses.SILENCE_SECONDS), the other serves all 120/s."""
    with ScriptedEndpoint(default=lambda operation: answer({})) as endpoint:
        scenario = stall_scenario(tmp_path, endpoint.url, {"rate": WORKER_RATE, "users": 8, "run_time": f"{WORKER_RUN_SECONDS}s"})
        port = free_port()
        base = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles" / "scenario.py"), "--scenario", str(scenario), "--skip-setup"]
        master = subprocess.Popen(
            base + ["--headless", "--csv", str(tmp_path / "locust"), "--master", "--master-bind-port", str(port), "--expect-workers", "2"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        logs = [tmp_path / f"worker-{number}.log" for number in range(2)]
        workers = [subprocess.Popen(base + ["--worker", "--master-port", str(port)], cwd=tmp_path, stdout=open(log, "w"), stderr=subprocess.STDOUT) for log in logs]
        try:
            assert wait_for(lambda: all("this worker serves 60" in log.read_text() for log in logs), 30), [log.read_text()[-2000:] for log in logs]
            killed_at = time.time() + 3
            time.sleep(3)
            workers[1].kill()
            output, _ = master.communicate(timeout=90)
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
    assert master.returncode == 0, output
    assert "1 live workers now share 120" in output
    assert "this worker serves 120" in logs[0].read_text()
    starts = {int(row["timestamp"]): int(row["starts"]) for row in csv.DictReader(open(tmp_path / files.HARNESS_SCHEDULE, newline=""))}
    run = json.loads((tmp_path / files.HARNESS_RUN).read_text())
    taken_over = range(math.ceil(killed_at) + SILENCE_SECONDS + 3, math.floor(run["end_time"]))  # heartbeat misses, then a second to settle
    assert len(taken_over) >= 2, (killed_at, run)
    achieved = sum(starts.get(second, 0) for second in taken_over) / len(taken_over)
    assert abs(achieved - WORKER_RATE) <= 0.05 * WORKER_RATE, (achieved, starts)


def test_a_staged_run_lasts_its_stages(tmp_path):
    """`ddb-harness run` gives Locust the stages' total as the run time (the shape ends the run there too)."""
    from harness.run.runner import RunOptions, locust_command
    from harness.run.session import Target
    from harness.scenario import load_scenario
    from harness.target.client import Connection

    path = stall_scenario(tmp_path, "http://127.0.0.1:1", {"stages": STAGES})
    scenario = load_scenario(path)
    command = locust_command(path, scenario, tmp_path, Target(Connection("us-east-1", "http://127.0.0.1:1")), RunOptions())
    assert command[command.index("--run-time") + 1] == f"{sum(STAGE_SECONDS)}s"


def test_an_open_model_pool_starts_within_a_second_unless_told_otherwise(tmp_path):
    from harness.scenario import load_scenario

    def load(spec: dict):
        data = {"tables": [{"name": "pool", "attributes": {"pk": "S"}, "key": {"hash": "pk"}}], "workload": {"mix": [{"name": "r", "op": "GetItem", "table": "pool", "key": {"pk": "k"}}]}, "load": spec}
        return load_scenario(write_scenario(tmp_path, data)).load

    assert load({"rate": 50, "users": 40}).spawn_rate == 40
    assert load({"users": 4, "stages": [{"duration": "5s", "rate": 50, "users": 60}]}).spawn_rate == 60
    assert load({"rate": 50, "users": 40, "spawn_rate": 2}).spawn_rate == 2
    closed = load({"users": 40})
    assert (closed.spawn_rate, closed.is_open) == (10, False)  # the closed model keeps its defaults
