"""Master and workers on loopback: real `ddb-harness run --workers N` processes against DynamoDB Local."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import psutil
from conftest import SCENARIOS, scenario_data, write_scenario
from test_run_e2e import read_rows, run_dir_of

from harness.run.partition import Partition
from harness.target import tables

HARNESS = [sys.executable, "-m", "harness.cli"]


def orders_scenario(tmp_path, table_name: str, loaded: int = 100):
    data = scenario_data("partiql_orders.yaml")
    data["tables"][0]["name"] = table_name
    data["tables"][0]["dataset"]["size"] = loaded
    data["workload"]["mix"][0]["table"] = table_name
    return write_scenario(tmp_path, data)


def test_two_workers_write_disjoint_keys_and_the_master_counts_everything(endpoint, client, table_name, tmp_path):
    path = orders_scenario(tmp_path, table_name, loaded=100)
    results = tmp_path / "results"
    command = HARNESS + ["run", str(path), "--endpoint-url", endpoint, "--workers", "2", "-u", "4", "-t", "5s", "--results-dir", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = run_dir_of(results)
    rows = {(row["Type"], row["Name"]): row for row in read_rows(run_dir / "locust_stats.csv")}
    inserts = rows[("ExecuteStatement", "partiql_insert_order")]
    successes = int(inserts["Request Count"]) - int(inserts["Failure Count"])
    assert successes > 0 and int(inserts["Failure Count"]) == 0
    # every write the master counted is in the table once: no key written twice, none lost
    assert tables.item_count(client, table_name) == 100 + successes
    workers = json.loads((run_dir / "harness_workers.json").read_text())
    assert len(workers["workers"]) == 2 and workers["lost"] == 0
    assert all(worker["last_report_at"] for worker in workers["workers"])
    logs = [(run_dir / f"locust-worker-{k}.log").read_text() for k in range(2)]
    partitions = sorted(line.rsplit("partition: ", 1)[1] for log in logs for line in log.splitlines() if "partition: worker" in line)
    assert partitions == ["worker 0 of 2", "worker 1 of 2"]  # each worker got its own share from the master
    # Each worker's own closing count, the second book: together they are the master's total.
    sent = [re.search(r"worker \d of 2 sent (\d+) requests \((\d+) failed\)", log) for log in logs]
    assert all(sent), logs
    total = next(row for row in read_rows(run_dir / "locust_stats.csv") if row["Name"] == "Aggregated")
    assert sum(int(match[1]) for match in sent) == int(total["Request Count"])
    assert sum(int(match[2]) for match in sent) == int(total["Failure Count"])


def test_a_killed_worker_is_noted_and_the_run_ends_on_time(endpoint, table_name, tmp_path):
    path = orders_scenario(tmp_path, table_name, loaded=10)
    results = tmp_path / "results"
    command = HARNESS + ["run", str(path), "--endpoint-url", endpoint, "--workers", "2", "-u", "4", "-t", "20s", "--results-dir", str(results)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    while victim is None and time.monotonic() - started < 60:
        time.sleep(0.5)
        workers = [child for child in psutil.Process(process.pid).children(recursive=True) if "--worker" in child.cmdline()]
        if len(workers) == 2 and (results.exists() and any(results.glob("*/locust_stats.csv"))):
            time.sleep(3)  # let the run get going; the master counts it missing after SILENCE_SECONDS (8 s)
            victim = workers[0]
    assert victim is not None, "workers never started"
    victim.kill()
    stdout, stderr = process.communicate(timeout=120)
    elapsed = time.monotonic() - started
    run_dir = run_dir_of(results)
    assert (run_dir / "locust_stats.csv").exists() and (run_dir / "locust_report.html").exists()
    rows = {(row["Type"], row["Name"]): row for row in read_rows(run_dir / "locust_stats.csv")}
    assert int(rows[("ExecuteStatement", "partiql_insert_order")]["Request Count"]) > 0
    workers = json.loads((run_dir / "harness_workers.json").read_text())
    assert workers["lost"] == 1, workers
    assert elapsed < 20 + 45, elapsed  # on time: run time plus startup and shutdown, not a hang
    assert "results:" in stdout


def test_partition_splits_segments_and_spreads_ring_starts():
    parts = [Partition(index, 3) for index in range(3)]
    owned = [segment for part in parts for segment in part.segments(8)]
    assert sorted(owned) == list(range(8))  # every segment exactly once across workers
    starts = {part.ring_start(ordinal, 200) for part in parts for ordinal in range(4)}
    assert len(starts) == 12  # twelve users, twelve different starting points
    assert Partition().segments(5) == [0, 1, 2, 3, 4]


def test_worker_without_reachable_target_is_refused(tmp_path):
    done = subprocess.run(HARNESS + ["run", str(SCENARIOS / "roundtrip.yaml"), "--worker", "--master-host", "127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--endpoint-url" in done.stderr and "Traceback" not in done.stderr
