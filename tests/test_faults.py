"""Faults during a run: the target dies (connections cut; a real DynamoDB Local killed) and comes back;
Ctrl+C and SIGTERM on a real `ddb-harness run`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from urllib.parse import urlparse

import psutil
import pytest
from conftest import scenario_data, write_scenario
from support.fault_proxy import FaultProxy
from support.waiting import wait_for
from test_run_e2e import read_rows, run_dir_of

from harness.target.local import start_dynamodb_local

HARNESS = [sys.executable, "-m", "harness.cli"]


def ring_scenario(tmp_path, table_name: str, run_time: str = "14s"):
    data = scenario_data("roundtrip.yaml")
    data["tables"][0]["name"] = table_name
    data["tables"][0]["dataset"]["size"] = 50
    data["workload"]["mix"][0]["table"] = table_name
    data["client"] = {"connect_timeout": 1, "read_timeout": 2, "retries": {"mode": "standard", "max_attempts": 2}}
    data["load"] = {"users": 2, "spawn_rate": 2, "run_time": run_time, "wait_time": {"constant": 0.01}}
    return write_scenario(tmp_path, data)


def start_run(path, endpoint_url: str, results):
    """A real `ddb-harness run` subprocess against `endpoint_url`, once its stats file exists."""
    process = subprocess.Popen(HARNESS + ["run", str(path), "--endpoint-url", endpoint_url, "--results-dir", str(results)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait_for(lambda: results.exists() and any(results.glob("*/locust_stats.csv")), 90):
        process.kill()
        raise AssertionError(f"the run did not start: {process.communicate()[1][-2000:]}")
    return process


def assert_outage_seen_and_recovered(process, stderr: str, results, died_at: float, back_at: float) -> None:
    """The run ended on time with classified connection failures from the outage on, a report saying
    when they began, and requests again once the target was back."""
    assert process.returncode == 1, stderr[-2000:]  # Locust's exit code for a run with failures; the run still ended
    run_dir = run_dir_of(results)
    failures = read_rows(run_dir / "locust_failures.csv")
    assert failures and all("ConnectionFailure" in row["Error"] for row in failures), failures
    history = [row for row in read_rows(run_dir / "locust_stats_history.csv") if row["Name"] == "walk_ring" and row["Type"] == "GetItem"]
    failing_seconds = [int(row["Timestamp"]) for row in history if int(row["Total Failure Count"]) > 0]
    assert failing_seconds, "the outage is visible in the history"
    detected_after = failing_seconds[0] - died_at
    print(f"first classified failure {detected_after:+.1f} s after the target died")
    assert detected_after < 5  # fails fast: timeouts are configured, no user hangs
    report = (run_dir / "report.md").read_text()
    began = re.search(r"Failures began \+\d+ s \((\d\d:\d\d:\d\d) UTC\)", report)
    assert began, "the report says when the failures began"
    died_clock = datetime.fromtimestamp(died_at, timezone.utc)
    reported = datetime.combine(died_clock.date(), datetime.strptime(began.group(1), "%H:%M:%S").time(), timezone.utc)
    assert -2 <= (reported - died_clock).total_seconds() < 5, (began.group(0), f"{died_clock:%H:%M:%S}")
    total_at_end = int(history[-1]["Total Request Count"])
    before_back = [int(row["Total Request Count"]) for row in history if int(row["Timestamp"]) <= back_at]
    assert total_at_end > max(before_back) + 10, "the run recovered after the target came back"


def test_target_connections_cut_mid_run_then_restored(endpoint, table_name, tmp_path):
    """A proxy in front of DynamoDB Local resets every connection and refuses new ones for 4 s."""
    upstream = urlparse(endpoint)
    proxy = FaultProxy(upstream.hostname, upstream.port)
    results = tmp_path / "results"
    process = start_run(ring_scenario(tmp_path, table_name), proxy.url, results)
    try:
        time.sleep(4)
        proxy.cut()
        cut_at = proxy.cut_at  # close() cuts again
        time.sleep(4)
        restored_at = time.time()
        proxy.restore()
        _, stderr = process.communicate(timeout=120)
    finally:
        proxy.close()
        if process.poll() is None:
            process.kill()
    assert_outage_seen_and_recovered(process, stderr, results, cut_at, restored_at)


def test_dynamodb_local_killed_mid_run_then_restarted(table_name, tmp_path):
    """A real DynamoDB Local, its data on disk, is SIGKILLed during the run and started again on the
    same port from the same files: the run sees the outage, goes on, and walks the ring again."""
    database = tmp_path / "database"
    database.mkdir()
    server = start_dynamodb_local(tmp_path / "server-1", db_path=database)
    port = urlparse(server.endpoint).port
    results = tmp_path / "results"
    process = start_run(ring_scenario(tmp_path, table_name, run_time="20s"), server.endpoint, results)
    restarted = None
    try:
        time.sleep(4)
        died_at = time.time()
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        time.sleep(2)
        restarted = start_dynamodb_local(tmp_path / "server-2", port=port, db_path=database)
        back_at = time.time()
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        for each in (server, restarted):
            if each is not None:
                each.stop()
    assert_outage_seen_and_recovered(process, stderr, results, died_at, back_at)


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # how a background job of a non-interactive shell starts


@pytest.mark.parametrize("stop_signal, background", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGTERM, True)], ids=["ctrl-c", "sigterm", "sigterm-background-job"])
def test_interrupted_run_writes_results_and_leaves_no_process(stop_signal, background, tmp_path):
    data = scenario_data("roundtrip.yaml")
    data["load"]["run_time"] = "5m"
    path = write_scenario(tmp_path, data)
    results = tmp_path / "results"
    process = subprocess.Popen(HARNESS + ["run", str(path), "--results-dir", str(results)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=ignore_sigint if background else None)
    assert wait_for(lambda: results.exists() and any(results.glob("*/locust_stats.csv")), 120)
    time.sleep(3)
    family = [process.pid] + [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
    assert any("DynamoDBLocal" in " ".join(psutil.Process(pid).cmdline()) for pid in family if psutil.pid_exists(pid))
    if stop_signal == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C in a terminal does: the whole foreground group
    else:
        process.send_signal(signal.SIGTERM)  # what a supervisor does: only the harness process
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop_signal, stderr[-2000:]  # 130 / 143: the run says it was cut short
    run_dir = run_dir_of(results)
    rows = {(row["Type"], row["Name"]): row for row in read_rows(run_dir / "locust_stats.csv")}
    assert int(rows[("GetItem", "walk_ring")]["Request Count"]) > 0
    assert (run_dir / "locust_report.html").exists()
    assert f"results: {run_dir}" in stdout
    assert wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in family), 15), "a child process outlived the run"
