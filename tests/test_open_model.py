"""Open model against real Locust processes: a 1 s server stall, seen by the open model and hidden by the closed one.

A scripted endpoint answers every request at once, except that once (the 400th request) it holds
every answer for one second. The same 10 s run at 200 tasks/s is made twice at
once: open model (`load.rate: 200`, 10 users as the pool) and closed model (10 users at 20 tasks/s
each). Only the open model measures the requests that should have been sent during the stall.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram
from scripted_endpoint import ScriptedEndpoint, answer

from conftest import REPO, write_scenario
from harness.metrics import results_files as files
from harness.report import build_report

RATE = 200
USERS = 10
RUN_SECONDS = 10
STALL_AT_REQUEST = 400
STALL_SECONDS = 1.0
SLOW_MS = 500.0
ORDER_TOLERANCE = 5
"""Ten users answer in parallel after the stall, so neighbouring starts may reach the endpoint out of order."""


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
        "load": {"users": USERS, "spawn_rate": 100, "run_time": f"{RUN_SECONDS}s", **load},
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
        for kind, (directory, endpoint, process) in runs.items():
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
    assert abs(slow - expected) <= ORDER_TOLERANCE, (slow, expected)
    assert float(aggregated(directory / files.HARNESS_CORRECTED_LATENCY)["p99_ms"]) > SLOW_MS  # p99 shows the stall
    assert float(aggregated(directory / files.HARNESS_LATENCY)["p99_ms"]) < SLOW_MS  # service time alone hides it


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
    assert 1 <= slow <= USERS  # one request in flight per user; the ones it would have sent were never sent
    assert float(aggregated(directory / files.HARNESS_LATENCY)["p99_ms"]) < SLOW_MS
    assert not (directory / files.HARNESS_OPEN_MODEL).exists()


def test_report_and_summary_show_both_latencies_and_the_lag(stall_runs):
    directory, _ = stall_runs["open"]
    result = build_report(directory)
    open_model = result.summary["open_model"]
    assert open_model["corrected_latency_ms"]["p99"] > SLOW_MS > open_model["service_latency_ms"]["p99"]
    assert open_model["late_starts"] > 0 and open_model["fell_behind"] is True
    report = (directory / files.REPORT_MD).read_text()
    assert "corrected" in report and "fell behind" in report


