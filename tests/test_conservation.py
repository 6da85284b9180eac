"""Nothing lost, nothing invented: every count of a whole `ddb-harness run` agrees with what the server saw.

Three books are kept of one run: Locust's stats CSV (logical requests per step), the harness's
metrics files (harness_requests.csv per step, harness_attempts.csv per HTTP attempt) and the
server's own tally. Rows that are not requests of their own are left out: `Lap` rows (a lap is N
GetItems that have their own rows) and `Aggregated`. A parallel scan is `segments` Scan calls and a
sharded query `shards` Query calls per logical request; SDK retries add attempts, not requests.

Related, not repeated here: tests/test_metrics_e2e.py checks attempts and throttles of a bare
`locust -f` run against a throttling stub, tests/test_distributed.py that two workers' writes all
land in DynamoDB Local once each (no failures there). The second test below does that for writes
that are throttled, some until the SDK gives up, through the capacity gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections import Counter

import pytest
from conftest import REPO, insert_orders_scenario, write_scenario
from counting_stub import CountingDynamoDB
from test_run_e2e import read_rows, run_dir_of

from harness.datasets.ring import ring_keys
from harness.gate import start_gate
from harness.scenario import load_scenario
from harness.target import tables

HARNESS = [sys.executable, "-m", "harness.cli"]
THROTTLE = "ProvisionedThroughputExceededException"
SERVER_ERROR = "InternalServerError"
RING_SIZE, SEGMENTS, SHARDS, MAX_ATTEMPTS = 6, 3, 3, 3
FAN_OUT = {"GetItem": 1, "Scan": SEGMENTS, "Query": SHARDS}
NOT_REQUESTS = {"Lap", ""}  # Lap rows, and the Aggregated row (no type)


def stub_scenario(tmp_path):
    data = {
        "name": "conservation",
        "target": {"kind": "local"},
        "client": {"retries": {"mode": "legacy", "max_attempts": MAX_ATTEMPTS}},  # legacy: 50-100 ms backoff, many cycles in 3 s
        "tables": [
            {"name": "cons-ring", "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": RING_SIZE, "seed": 0, "load": "never"}},
            {
                "name": "cons-logs",
                "attributes": {"requestid": "N", "GSI_1_PK": "S", "GSI_1_SK": "S"},
                "key": {"hash": "requestid"},
                "gsis": [{"name": "GSI_1", "key": {"hash": "GSI_1_PK", "range": "GSI_1_SK"}, "projection": {"type": "KEYS_ONLY"}}],
                "dataset": {"model": "logfile", "size": 100, "shards": SHARDS, "load": "never"},
            },
        ],
        "workload": {
            "mix": [
                {"task": "walk_ring", "table": "cons-ring", "weight": 2},  # a whole lap per task: Lap rows appear
                {"task": "parallel_scan", "table": "cons-logs", "segments": SEGMENTS, "page_limit": 100},
                {"task": "sharded_gsi_query", "table": "cons-logs", "index": "GSI_1", "sort_prefix": "404#"},
            ]
        },
        "load": {"users": 3, "spawn_rate": 10, "run_time": "3s", "stop_timeout": "20s", "wait_time": {"constant": 0}},
    }
    return write_scenario(tmp_path, data)


def fault(operation: str, number: int, attempt: int) -> str | None:
    """Every 11th GetItem is throttled on every attempt (it fails); a quarter of the workloads' calls fail their first attempt only."""
    if operation not in FAN_OUT:
        return None
    if operation == "GetItem" and number % 11 == 5:
        return THROTTLE
    if attempt == 1 and number % 4 == 1:
        return THROTTLE if number % 8 == 1 else SERVER_ERROR
    return None


def by_operation(rows: list[dict], column: str) -> Counter:
    totals: Counter = Counter()
    for row in rows:
        totals[row["operation"]] += int(row[column])
    return totals


def test_locust_harness_and_server_counts_agree_exactly(tmp_path):
    path = stub_scenario(tmp_path)
    results = tmp_path / "results"
    with CountingDynamoDB(load_scenario(path).tables, {"cons-ring": ring_keys(RING_SIZE, 0)}, fault=fault) as stub:
        done = subprocess.run(HARNESS + ["run", str(path), "--endpoint-url", stub.url, "--results-dir", str(results)], capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 1, done.stderr[-3000:]  # Locust's code when requests failed (the always-throttled GetItems)
    run_dir = run_dir_of(results)

    stats = read_rows(run_dir / "locust_stats.csv")
    locust = {row["Type"]: row for row in stats if row["Type"] not in NOT_REQUESTS}
    assert set(locust) == set(FAN_OUT)
    requests = {row["type"]: row for row in read_rows(run_dir / "harness_requests.csv") if row["type"] not in NOT_REQUESTS}
    latency = {row["type"]: row for row in read_rows(run_dir / "harness_latency.csv") if row["type"] not in NOT_REQUESTS}
    attempts = read_rows(run_dir / "harness_attempts.csv")
    harness_attempts, throttled, errors = (by_operation(attempts, column) for column in ("attempts", "throttled_attempts", "error_attempts"))

    for operation, fan_out in FAN_OUT.items():
        count, failed = int(locust[operation]["Request Count"]), int(locust[operation]["Failure Count"])
        mine = requests[operation]
        assert count > 0, operation
        # Locust's book and the harness's per-request book
        assert int(mine["requests"]) == count == int(latency[operation]["count"]), operation
        assert int(mine["failures"]) + int(mine["throttled_requests"]) == failed, operation
        # the harness's per-attempt book and the server's
        assert harness_attempts[operation] == stub.attempts[operation], operation
        assert throttled[operation] == stub.faults_sent[(operation, THROTTLE)], operation
        assert errors[operation] == stub.faults_sent[(operation, SERVER_ERROR)], operation
        # logical requests -> SDK calls -> HTTP attempts
        assert stub.invocations[operation] == count * fan_out, operation
        assert stub.attempts[operation] == count * fan_out + int(mine["retries"]), operation

    gets, failed_gets = int(locust["GetItem"]["Request Count"]), int(locust["GetItem"]["Failure Count"])
    assert failed_gets == int(requests["GetItem"]["throttled_requests"]) > 0  # failed on throttling, after every retry
    assert stub.faults_sent[("GetItem", THROTTLE)] > failed_gets * MAX_ATTEMPTS  # and retried throttles besides
    assert int(locust["Scan"]["Failure Count"]) == int(locust["Query"]["Failure Count"]) == 0
    assert stub.faults_sent[("Scan", SERVER_ERROR)] and stub.faults_sent[("Query", THROTTLE)]  # retried inside composite requests
    # a Lap row is RING_SIZE successful GetItems, not a request: laps in progress at the end are the only remainder
    laps = next(int(row["Request Count"]) for row in stats if row["Type"] == "Lap")
    assert laps > 0 and 0 <= (gets - failed_gets) - laps * RING_SIZE < RING_SIZE * 3
    aggregated = next(row for row in stats if row["Name"] == "Aggregated")
    assert int(aggregated["Request Count"]) == sum(int(row["Request Count"]) for row in stats if row["Name"] != "Aggregated")


@pytest.fixture
def gate(endpoint, tmp_path):
    started = start_gate(endpoint, burst_seconds=1, log_dir=tmp_path)
    yield started
    started.stop()


@pytest.mark.parametrize("gate_options", [[], ["--capacity-gate", "--workers", "2"]], ids=["through-the-gate", "leases-2-workers"])
def test_every_successful_write_is_in_the_table_and_no_throttled_one(endpoint, client, gate, table_name, tmp_path, gate_options):
    """Write-only run with the capacity gate (20 WCU, 1 s of burst) in front of DynamoDB Local:
    most inserts are throttled, some until the SDK gives up. The table then holds exactly the loaded
    items plus the inserts Locust counted as successful. Every request through the gate's process,
    or (--capacity-gate) two workers deciding their own with leased tokens and reporting their
    counts to the gate."""
    loaded = 40
    path = insert_orders_scenario(tmp_path, table_name, loaded, write_units=20, run_time="4s", max_attempts=2, wait=0, stop_timeout="20s")
    setup = subprocess.run(HARNESS + ["setup", str(path), "--endpoint-url", endpoint], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert setup.returncode == 0, setup.stderr[-3000:]  # loaded straight into DynamoDB Local, so the gate sees only the run
    assert tables.item_count(client, table_name) == loaded
    results = tmp_path / "results"
    done = subprocess.run(HARNESS + ["run", str(path), "--endpoint-url", gate.endpoint, "--results-dir", str(results), *gate_options], capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 1, done.stderr[-3000:]  # some inserts failed: throttled twice
    run_dir = run_dir_of(results)

    row = next(row for row in read_rows(run_dir / "locust_stats.csv") if row["Type"] == "ExecuteStatement")
    count, failed = int(row["Request Count"]), int(row["Failure Count"])
    successes = count - failed
    assert successes > 0 and failed > 0
    assert {failure["Error"].split("(")[0] for failure in read_rows(run_dir / "locust_failures.csv")} == {"ThrottledError"}
    assert tables.item_count(client, table_name) == loaded + successes  # nothing lost, nothing extra

    requests = next(row for row in read_rows(run_dir / "harness_requests.csv") if row["type"] == "ExecuteStatement")
    assert int(requests["requests"]) == count and int(requests["throttled_requests"]) == failed and int(requests["failures"]) == 0
    attempts = next(row for row in read_rows(run_dir / "harness_attempts.csv") if row["operation"] == "ExecuteStatement")
    assert int(attempts["attempts"]) == count + int(requests["retries"])
    with urllib.request.urlopen(gate.endpoint + "/gate/stats", timeout=10) as answer:
        gate_throttles = sum(entry["count"] for entry in json.load(answer)["reasons"] if entry["resource"].endswith(f"table/{table_name}"))
    assert int(attempts["throttled_attempts"]) == gate_throttles  # every throttle the gate sent was counted
    assert int(attempts["attempts"]) - int(attempts["throttled_attempts"]) == successes  # every other attempt wrote one item
