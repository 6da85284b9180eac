"""Sizing: a scenario's mix weighed by requests per task run, costed with the measured CPU per request; `ddb-harness plan`."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from conftest import REPO, SCENARIOS, scenario_data, write_scenario

from harness.run import sizing
from harness.scenario import load_scenario


def test_the_quickstart_mix_is_weighed_by_requests_per_task_run():
    """walk_ring (weight 10) makes 20 GetItem a run; the insert (10) one statement; the scan (1) 4 pages; the sharded query (2) 10 queries."""
    shares = {item.operation: item for item in sizing.mix_shares(load_scenario(SCENARIOS / "quickstart.yaml"), "fast")}
    total = 10 * 20 + 10 * 1 + 1 * 4 + 2 * 10
    assert shares["GetItem"].share == pytest.approx(200 / total)
    assert shares["ExecuteStatement"].share == pytest.approx(10 / total)
    assert (shares["Scan"].share, shares["Scan"].costed_as) == (pytest.approx(4 / total), "Query")
    assert shares["Query"].share == pytest.approx(20 / total)
    assert sum(item.share for item in shares.values()) == pytest.approx(1)


def test_the_plan_is_rate_times_cpu_over_headroom_one_worker_per_core():
    scenario = load_scenario(SCENARIOS / "roundtrip.yaml")  # GetItem only
    cost = sizing.CPU_US_PER_REQUEST["fast" if scenario.client.kind == "fast" else "boto3"]["GetItem"]
    result = sizing.plan(scenario, 50_000, cores_per_machine=8)
    cores = 50_000 * cost / 1e6 / sizing.HEADROOM
    assert result.cpu_us_per_request == pytest.approx(cost) and result.cores == pytest.approx(cores)
    assert result.workers == math.ceil(cores) and result.machines == math.ceil(result.workers / 8)
    assert result.master_core_share == pytest.approx(result.workers / 3 * sizing.MASTER_CPU_MS_PER_REPORT / 1000)
    boto3 = sizing.plan(scenario.model_copy(update={"client": scenario.client.model_copy(update={"kind": "boto3"})}), 50_000, 8)
    assert boto3.workers > result.workers  # boto3 costs more CPU per request than the fast path


def test_plan_prints_the_workers_for_a_rate_and_refuses_a_bad_one(tmp_path):
    data = scenario_data("quickstart.yaml")
    data["workload"]["mix"].append({"name": "update_order", "op": "UpdateItem", "table": "orders", "key": {"pk": "p", "sk": "s"}, "update": "SET amount = :a", "values": {":a": 1}, "weight": 1})
    path = write_scenario(tmp_path, data)
    done = subprocess.run([sys.executable, "-m", "harness.cli", "plan", str(path), "--rate", "20000", "--cores-per-machine", "4"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "UpdateItem" in done.stdout and "PutItem" in done.stdout  # costed as the closest measured operation
    expected = sizing.plan(load_scenario(path), 20_000, 4)
    assert f"{expected.workers} worker process" in done.stdout and f"on {expected.machines} machine" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "harness.cli", "plan", str(path), "--rate", "0"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and "--rate" in bad.stderr
