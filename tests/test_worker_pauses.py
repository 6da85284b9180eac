"""Every worker of a real distributed run frozen (SIGSTOP) and thawed (SIGCONT): a pause is ridden out, a long silence ends the run.

A VM or container frozen for a moment, a CPU starved for seconds: the workers send no heartbeat.
A 5 s pause must leave the load running afterwards with nothing lost; a silence longer than
harness.run.worker_pauses.SILENCE_SECONDS must stop the run at once, recorded, exit code 4, not
idle to its run time. Both runs play side by side (~40 s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from support.waiting import wait_for
from test_run_e2e import read_rows, run_dir_of
from test_signals import HARNESS, requests_counted, signal_scenario, total_requests_at

from harness.run.worker_pauses import SILENCE_SECONDS

SHORT_PAUSE, LONG_PAUSE = 5.0, SILENCE_SECONDS + 10.0
RUN_SECONDS = {SHORT_PAUSE: 22, LONG_PAUSE: 60}


@dataclass
class Paused:
    returncode: int
    stderr: str
    run_dir: Path
    frozen_at: float
    thawed_at: float
    ended_at: float


def pause_workers(seconds: float, folder: Path) -> Paused:
    """A run with 2 workers; once requests are counted both workers are frozen for `seconds`, then thawed."""
    results = folder / "results"
    command = HARNESS + ["run", str(signal_scenario(folder, f"test-{uuid.uuid4().hex[:12]}", gated=False)), "--results-dir", str(results)]
    command += ["--workers", "2", "-t", f"{RUN_SECONDS[seconds]}s"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    workers: list[psutil.Process] = []
    try:
        assert wait_for(lambda: requests_counted(results) > 0, 120), "the run did not start"
        workers = [child for child in psutil.Process(process.pid).children(recursive=True) if "--worker" in " ".join(child.cmdline())]
        assert len(workers) == 2, workers
        frozen_at = time.time()
        for worker in workers:
            worker.suspend()
        time.sleep(seconds)
        thawed_at = time.time()
        for worker in workers:
            worker.resume()
        _, stderr = process.communicate(timeout=RUN_SECONDS[seconds] + 60)
        return Paused(process.returncode, stderr, run_dir_of(results), frozen_at, thawed_at, time.time())
    finally:
        for worker in workers:
            try:
                worker.resume()
            except psutil.Error:
                pass
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def paused(endpoint, tmp_path_factory) -> dict[float, Paused]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {seconds: pool.submit(pause_workers, seconds, tmp_path_factory.mktemp("pause")) for seconds in (SHORT_PAUSE, LONG_PAUSE)}
        return {seconds: future.result() for seconds, future in futures.items()}


def test_a_short_pause_of_every_worker_is_ridden_out_and_the_load_goes_on(paused):
    run = paused[SHORT_PAUSE]
    assert run.returncode == 0, run.stderr[-3000:]
    assert not (run.run_dir / "harness_interruption.json").exists()
    assert json.loads((run.run_dir / "harness_workers.json").read_text())["lost"] == 0
    after_thaw = total_requests_at(run.run_dir, run.ended_at) - total_requests_at(run.run_dir, run.thawed_at + 2)
    assert after_thaw > 0, "no request after the workers came back"
    requests = {row["Name"]: int(row["Request Count"]) for row in read_rows(run.run_dir / "locust_stats.csv")}
    harness = sum(int(row["requests"]) for row in read_rows(run.run_dir / "harness_requests.csv"))
    assert harness == requests["Aggregated"]  # nothing lost across the pause


def test_a_long_silence_of_every_worker_stops_the_run_at_once_and_says_so(paused):
    run = paused[LONG_PAUSE]
    assert run.returncode == 4, run.stderr[-3000:]
    record = json.loads((run.run_dir / "harness_interruption.json").read_text())
    assert record["cause"] == "workers" and record["process"] == "locust master" and record["exit_code"] == 4
    assert f"every worker went silent for {SILENCE_SECONDS} s" in record["message"]
    assert run.frozen_at + SILENCE_SECONDS <= record["at"] <= run.frozen_at + SILENCE_SECONDS + 8
    assert run.ended_at < run.frozen_at + RUN_SECONDS[LONG_PAUSE] - 20, "the run idled on instead of ending"
    assert "Stopped early" in (run.run_dir / "report.md").read_text()
    assert "the run stopped early (locust master): every worker went silent" in run.stderr
    requests = {row["Name"]: int(row["Request Count"]) for row in read_rows(run.run_dir / "locust_stats.csv")}
    assert requests["Aggregated"] > 0 and (run.run_dir / "summary.json").exists()
