"""End to end: real `ddb-harness run` and `locust -f` processes, headless, reading Locust's real CSVs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, SCENARIOS, scenario_data, write_scenario

from harness.scenario import load_scenario, stats_rows

HARNESS = [sys.executable, "-m", "harness.cli"]
SHIPPED = sorted(path.name for path in SCENARIOS.glob("*.yaml"))


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def run_dir_of(results: Path) -> Path:
    folders = [folder for folder in results.iterdir() if folder.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def expected_rows(scenario_path: Path) -> set[tuple[str, str]]:
    """(request_type, name) rows every step of the mix must produce (a chain's operations too)."""
    operation = {"partiql_insert_order": "ExecuteStatement", "walk_ring": "GetItem", "parallel_scan": "Scan", "sharded_gsi_query": "Query", "chain": "Chain"}
    return {(operation.get(kind, kind), name) for name, kind, _, _ in stats_rows(load_scenario(scenario_path))}


EXPECTED_FAILURES = {
    # Contention is the point: a user finding the lock taken fails take_lock (and so its chain) on the condition.
    "workshop_ex7_locks.yaml": {("UpdateItem", "take_lock"), ("Chain", "move_employee")},
}
"""Rows of a shipped scenario that may fail, and then only with ConditionalCheckError."""


def assert_healthy_run(run_dir: Path, scenario_path: Path, may_fail: set[tuple[str, str]] = frozenset()) -> list[dict]:
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust_report.html", "scenario.yaml"):
        assert (run_dir / name).exists(), name
    rows = read_rows(run_dir / "locust_stats.csv")
    by_key = {(row["Type"], row["Name"]): row for row in rows}
    for key in expected_rows(scenario_path):
        assert key in by_key, f"no stats row for {key}: {sorted(by_key)}"
        assert int(by_key[key]["Request Count"]) > 0, key
    for row in rows:
        assert int(row["Failure Count"]) == 0 or (row["Type"], row["Name"]) in may_fail or (row["Name"] == "Aggregated" and may_fail), row
    for failure in read_rows(run_dir / "locust_failures.csv"):
        assert (failure["Method"], failure["Name"]) in may_fail and failure["Error"].startswith("ConditionalCheckError"), failure
    history = read_rows(run_dir / "locust_stats_history.csv")
    assert {row["Name"] for row in history} >= {key[1] for key in expected_rows(scenario_path)}  # full history per step
    return rows


@pytest.mark.parametrize("scenario", SHIPPED)
def test_shipped_scenario_runs_headless(scenario, endpoint, tmp_path):
    results = tmp_path / "results"
    command = HARNESS + ["run", str(SCENARIOS / scenario), "--endpoint-url", endpoint, "--run-time", "4s", "--users", "3", "--results-dir", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO)
    may_fail = EXPECTED_FAILURES.get(scenario, set())
    assert done.returncode == (1 if may_fail else 0), done.stderr[-3000:]  # 1: some requests failed, as expected there
    run_dir = run_dir_of(results)
    rows = assert_healthy_run(run_dir, SCENARIOS / scenario, may_fail)
    assert run_dir.name.startswith(load_scenario(SCENARIOS / scenario).name + "-")
    assert_mix_follows_the_weights(rows, load_scenario(SCENARIOS / scenario))
    assert f"results: {run_dir}" in done.stdout
    total = next(row for row in rows if row["Name"] == "Aggregated")
    assert int(total["Request Count"]) == sum(int(row["Request Count"]) for row in rows if row["Name"] != "Aggregated")
    target = json.loads((run_dir / "summary.json").read_text())["run"]["target"]
    endpoint_parts = urlsplit(endpoint)
    assert (target["kind"], target["host"], target["port"]) == ("endpoint", endpoint_parts.hostname, endpoint_parts.port)


def assert_mix_follows_the_weights(rows: list[dict], scenario) -> None:
    """Each step of the mix ran its share of the task runs (weight / total weight), as far as chance allows.

    A step's runs are its stats row's requests (a chain's: its Chain row) over its `repeat`. Locust
    draws tasks by weight, so the count is binomial: the bound is 2 percentage points or 4 standard
    deviations, whichever is wider (2 points needs ~10,000 runs at 50%: a 4 s test run has fewer).
    """
    steps = [step for step in scenario.workload.mix if getattr(step, "op", None) or getattr(step, "chain", None)]
    if len(steps) != len(scenario.workload.mix) or len(steps) < 2:
        return  # the built-in tasks report per page or per lap, not per task run
    by_name = {row["Name"]: row for row in rows if row["Type"] != "" and row["Name"] != "Aggregated"}
    runs = {step.step_name: int(by_name[step.step_name]["Request Count"]) / step.repeat for step in steps}
    total_runs, total_weight = sum(runs.values()), sum(step.weight for step in steps)
    for step in steps:
        expected = step.weight / total_weight
        bound = max(0.02, 4 * (expected * (1 - expected) / total_runs) ** 0.5)
        share = runs[step.step_name] / total_runs
        assert abs(share - expected) <= bound, f"{step.step_name}: {share:.3f} of {total_runs:.0f} runs, weight share {expected:.3f} (bound {bound:.3f})"


def test_quickstart_on_embedded_local_target(tmp_path):
    """No endpoint given: the harness starts DynamoDB Local itself and stops it afterwards."""
    data = scenario_data("quickstart.yaml")
    data["tables"][2]["dataset"]["size"] = 1000
    path = write_scenario(tmp_path, data)
    results = tmp_path / "results"
    done = subprocess.run(HARNESS + ["run", str(path), "--run-time", "4s", "--results-dir", str(results)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = run_dir_of(results)
    assert_healthy_run(run_dir, path)
    assert "listens on every interface" in (run_dir / "harness.log").read_text()
    server_log = (run_dir / "dynamodb-local.log").read_text()
    assert "DynamoDB Local" in server_log or "Port:" in server_log
    leftover = subprocess.run(["pgrep", "-f", f"DynamoDBLocal.jar.*{results}"], capture_output=True)
    assert leftover.returncode == 1  # nothing matches: no server outlived the run
    assert_orders_units_are_estimated(run_dir)


def assert_orders_units_are_estimated(run_dir: Path) -> None:
    """DynamoDB Local reports no units for PartiQL: each order insert (items under 1 KB) counts 1 WCU, marked estimated."""
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["target_kind"] == "embedded" and summary["run"]["target"]["host"] == "127.0.0.1"
    inserts = next(row for row in summary["operations"] if row["name"] == "partiql_insert_order")["requests"]
    orders = next(row for row in summary["capacity"] if (row["table"], row["index"]) == ("orders", ""))
    assert inserts > 0 and orders["write_units"] == orders["estimated_write_units"] == inserts
    assert orders["units_source"] == "estimated"
    cost = next(row for row in summary["cost"]["resources"] if row["table"] == "orders")
    assert cost["on_demand_run_usd"] > 0 and cost["units_source"] == "estimated"
    ring = next(row for row in summary["capacity"] if row["table"] == "round-trip")
    assert ring["units_source"] == "reported" and ring["read_units"] > 0  # GetItem: DynamoDB Local's own numbers
    report = (run_dir / "report.md").read_text()
    assert "orders (estimated)" in report and "target embedded 127.0.0.1:" in report


def test_csv_totals_match_locust_final_count(endpoint, tmp_path):
    """The stats CSV is rewritten at exit, so its totals equal what Locust printed last."""
    results = tmp_path / "results"
    command = HARNESS + ["run", str(SCENARIOS / "roundtrip.yaml"), "--endpoint-url", endpoint, "--run-time", "3s", "--users", "4", "--results-dir", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read_rows(run_dir_of(results) / "locust_stats.csv")
    csv_total = int(next(row for row in rows if row["Name"] == "Aggregated")["Request Count"])
    printed = [line for line in done.stdout.splitlines() if line.strip().startswith("Aggregated")]
    assert printed and int(printed[0].split()[1]) == csv_total  # Locust's own final table comes first


def test_plain_locust_with_a_thin_locustfile(endpoint, tmp_path):
    """`locust -f locustfiles/roundtrip.py --scenario ...` works without ddb-harness, setup included."""
    data = scenario_data("roundtrip.yaml")
    data["tables"][0]["name"] = "plain-locust-ring"
    data["workload"]["mix"][0]["table"] = "plain-locust-ring"
    path = write_scenario(tmp_path, data)
    command = [
        sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles" / "roundtrip.py"), "--scenario", str(path),
        "--endpoint-url", endpoint, "--headless", "-u", "2", "-r", "2", "--run-time", "3s", "--csv", str(tmp_path / "plain"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {(row["Type"], row["Name"]): row for row in read_rows(tmp_path / "plain_stats.csv")}
    assert int(rows[("GetItem", "walk_ring")]["Request Count"]) > 0
    assert int(rows[("GetItem", "walk_ring")]["Failure Count"]) == 0


def test_locust_with_bad_scenario_exits_with_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntables: []\nworkload: {mix: []}\n")
    command = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles" / "scenario.py"), "--scenario", str(path), "--headless", "-t", "2s"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert "tables" in done.stderr and "Traceback" not in done.stderr
