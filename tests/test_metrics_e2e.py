"""End to end: harness_* files of real headless Locust runs against stub endpoints and DynamoDB Local."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import REPO, scenario_data, write_scenario
from dynamodb_stub import THROTTLE_REASON, CapacityCountingProxy, RingStub
from test_run_e2e import HARNESS, read_rows, run_dir_of

from harness.datasets.ring import ring_keys
from harness.run.session import open_target, setup
from harness.scenario import load_scenario
from harness.target.local import free_port

ROUNDTRIP = REPO / "locustfiles" / "roundtrip.py"
RAW_TIMES_LOCUSTFILE = Path(__file__).parent / "locustfiles" / "roundtrip_raw_times.py"
RING_SIZE = 50


def ring_scenario(directory: Path, tables: list[str], endpoint: str, users: int = 2, retries: dict | None = None, load: str = "never") -> Path:
    """A scenario walking ring tables one GetItem per task (step `walk_ring`, or the table's name when several)."""
    data = {
        "name": "metrics-ring",
        "target": {"kind": "endpoint", "url": endpoint},
        "client": {"retries": retries or {"mode": "standard", "max_attempts": 3}},
        "tables": [
            {"name": table, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": RING_SIZE, "seed": 0, "load": load}}
            for table in tables
        ],
        "workload": {"mix": [{"task": "walk_ring", "table": table, "steps": 1, **({"name": table} if len(tables) > 1 else {})} for table in tables]},
        "load": {"users": users, "spawn_rate": 10, "run_time": "4s", "stop_timeout": "30s", "wait_time": {"constant": 0}},
    }
    return write_scenario(directory, data)


def run_locust(scenario: Path, endpoint: str, csv_prefix: Path, locustfile: Path = ROUNDTRIP, env: dict | None = None) -> subprocess.CompletedProcess:
    """A headless `locust -f <locustfile> --skip-setup` run (users and run time from the scenario)."""
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--scenario", str(scenario), "--skip-setup", "--endpoint-url", endpoint, "--headless", "--csv", str(csv_prefix)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=csv_prefix.parent, env=env)


def rows_by_key(path: Path, *columns: str) -> dict[tuple, dict]:
    return {tuple(row[column] for column in columns): row for row in read_rows(path)}


def locust_count(run_dir: Path, request_type: str, name: str, column: str = "Request Count") -> int:
    return int(rows_by_key(run_dir / "locust_stats.csv", "Type", "Name")[(request_type, name)][column])


def nearest_rank(values: list[float], percentile: float) -> float:
    """The exact percentile as HdrHistogram defines it: the smallest value with at least percentile% at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(percentile * len(ordered) / 100 - 1e-9), 1) - 1]


DELAYS_MS = {"slow": 30.0, "base": 5.0}


@pytest.fixture(scope="module")
def delay_run(tmp_path_factory):
    """One run of one user walking two rings on the stub: `slow` answers after 30 ms, `base` after 5 ms.

    Returns the run folder, the stub and every raw response time Locust received (a test listener
    in tests/locustfiles/roundtrip_raw_times.py dumps them).
    """
    run_dir = tmp_path_factory.mktemp("delay-run")
    raw_file = run_dir / "raw_times.json"
    with RingStub(ring_keys(RING_SIZE, 0), delays={name: ms / 1000 for name, ms in DELAYS_MS.items()}) as stub:
        scenario = ring_scenario(run_dir, list(DELAYS_MS), stub.url, users=1)
        done = run_locust(scenario, stub.url, run_dir / "locust", locustfile=RAW_TIMES_LOCUSTFILE, env={**os.environ, "RAW_TIMES_FILE": str(raw_file)})
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir, stub, json.loads(raw_file.read_text())


def latency_ms(run_dir: Path, name: str) -> dict[str, float]:
    rows = rows_by_key(run_dir / "harness_latency.csv", "type", "name")
    assert ("GetItem", name) in rows, f"no {name} request in the run: {(run_dir / 'locust_stats.csv').read_text()}"
    return {column: float(value) for column, value in rows[("GetItem", name)].items() if column.endswith("_ms") or column == "count"}


def test_hdr_percentiles_are_the_exact_percentiles_of_every_response_time(delay_run):
    """Each HDR percentile equals the exact nearest-rank percentile of the raw times to HdrHistogram's
    precision (3 significant digits), where Locust's CSV rounds to whole milliseconds; each table's
    delay is a hard floor under its requests."""
    run_dir, stub, raw = delay_run
    for name in DELAYS_MS:
        row = latency_ms(run_dir, name)
        times = [response_time for request_type, step, response_time in raw if (request_type, step) == ("GetItem", name)]
        assert int(row["count"]) == len(times) == locust_count(run_dir, "GetItem", name)
        for column, percentile in (("p50_ms", 50), ("p90_ms", 90), ("p95_ms", 95), ("p99_ms", 99), ("max_ms", 100)):
            exact = nearest_rank(times, percentile)
            assert exact - 0.001 <= row[column] <= exact * (1 + 1 / 1024) + 0.001, (name, column, exact, row[column])
        assert row["min_ms"] >= DELAYS_MS[name]
    attempts = rows_by_key(run_dir / "harness_attempts.csv", "operation", "table", "index")
    assert int(attempts[("GetItem", "slow", "")]["attempts"]) == locust_count(run_dir, "GetItem", "slow")
    assert int(attempts[("GetItem", "slow", "")]["attempts"]) + int(attempts[("GetItem", "base", "")]["attempts"]) == stub.attempts


def test_median_lands_within_a_millisecond_of_the_server_delay(delay_run):
    """slow's p50 minus base's is the extra delay the stub held slow's answers, within 1 ms.

    What the harness measures is the server's delay plus the client's own time: its CPU per call
    and, since both tables' answers are delayed, the same wake-up after an idle wait. The base
    table of the same run carries that client time, and the difference cancels it. The stub times
    its own sleeps, so the scheduler's oversleep on the server side counts as delay, not as error.
    Measured with both cores loaded, the median is off by 0.03-0.15 ms. Tail percentiles are not
    compared: differences of p90s pair different requests, and under load a late wake-up moves
    one table's p90 by 1-2 ms; that every percentile is exact is the test above.
    """
    run_dir, stub, _ = delay_run
    slow, base = latency_ms(run_dir, "slow"), latency_ms(run_dir, "base")
    extra_delay_ms = nearest_rank(stub.held_ms["slow"], 50) - nearest_rank(stub.held_ms["base"], 50)
    assert abs(slow["p50_ms"] - base["p50_ms"] - extra_delay_ms) <= 1.0, (extra_delay_ms, slow, base)


THROTTLE_CASES = {
    # One user: attempts are sequential, so attempts 4-6 of every 6 throttled means three requests
    # succeed, then one is throttled three times and fails. Legacy mode backs off 50-100 ms, so a
    # 4 s run sees many cycles (standard mode's backoff is up to 1 s, then 2 s).
    "legacy, some requests fail": dict(users=1, retries={"mode": "legacy", "max_attempts": 3}, throttle_every=6, throttle_run=3),
    # Three users sharing every 4th attempt being throttled: most throttles are retried away.
    "standard, retried": dict(users=3, retries={"mode": "standard", "max_attempts": 5}, throttle_every=4, throttle_run=1),
}


@pytest.mark.parametrize("case", THROTTLE_CASES)
def test_throttled_attempts_retried_inside_requests_are_all_counted(case, tmp_path):
    """The stub throttles a known share of attempts; SDK retries are on. Every throttled attempt is
    counted, retried or not, with DynamoDB's reason; throttled requests are apart from other failures."""
    settings = THROTTLE_CASES[case]
    table = "throttle-ring"
    with RingStub(ring_keys(RING_SIZE, 0), throttle_every=settings["throttle_every"], throttle_run=settings["throttle_run"]) as stub:
        scenario = ring_scenario(tmp_path, [table], stub.url, users=settings["users"], retries=settings["retries"])
        done = run_locust(scenario, stub.url, tmp_path / "locust")
    failed = locust_count(tmp_path, "GetItem", "walk_ring", "Failure Count")
    assert done.returncode == (1 if failed else 0), done.stderr[-3000:]  # Locust exits 1 when requests failed
    assert stub.throttles_sent >= 3
    if settings["throttle_run"] == settings["retries"]["max_attempts"]:
        assert failed >= 1
        assert {row["Error"].split("(")[0] for row in read_rows(tmp_path / "locust_failures.csv")} == {"ThrottledError"}

    attempts = rows_by_key(tmp_path / "harness_attempts.csv", "operation", "table", "index")[("GetItem", table, "")]
    assert int(attempts["attempts"]) == stub.attempts
    assert int(attempts["throttled_attempts"]) == stub.throttles_sent
    assert int(attempts["error_attempts"]) == 0

    requests = rows_by_key(tmp_path / "harness_requests.csv", "type", "name")[("GetItem", "walk_ring")]
    assert int(requests["requests"]) == locust_count(tmp_path, "GetItem", "walk_ring")
    assert int(requests["throttled_requests"]) == failed
    assert int(requests["failures"]) == 0  # throttles are reported apart from other failures
    # each throttled attempt was either retried or was the last attempt of a throttled request
    assert int(requests["retries"]) + int(requests["throttled_requests"]) == stub.throttles_sent
    assert int(requests["requests"]) + int(requests["retries"]) == stub.attempts

    throttles = read_rows(tmp_path / "harness_throttles.csv")
    assert sum(int(row["throttled_attempts"]) for row in throttles) == stub.throttles_sent
    assert {row["reason"] for row in throttles} == {THROTTLE_REASON}
    assert {(row["operation"], row["table"], row["index"]) for row in throttles} == {("GetItem", table, "")}
    assert len({row["timestamp"] for row in throttles}) >= 2  # a series over time, not one total


def capacity_scenario(tmp_path: Path) -> Path:
    """Quickstart's writes (PartiQL inserts), ring reads and GSI queries on small, uniquely named tables."""
    data = scenario_data("quickstart.yaml")
    suffix = uuid.uuid4().hex[:8]
    renamed = {}
    for table in data["tables"]:
        renamed[table["name"]] = table["name"] = f"{table['name']}-{suffix}"
    data["tables"][0]["dataset"]["size"] = 100
    data["tables"][2]["dataset"]["size"] = 500
    data["workload"]["mix"] = [step for step in data["workload"]["mix"] if step["task"] != "parallel_scan"]
    for step in data["workload"]["mix"]:
        step.update(table=renamed[step["table"]], weight=1)  # every step runs many times, even on a busy machine
        if step["task"] == "walk_ring":
            step["steps"] = 5
    data["load"].update(users=3, run_time="4s")
    return write_scenario(tmp_path, data)


def test_consumed_capacity_equals_what_dynamodb_local_returned(endpoint, tmp_path):
    """A proxy in front of DynamoDB Local totals ConsumedCapacity per table and GSI; harness_capacity.csv agrees."""
    path = capacity_scenario(tmp_path)
    results = tmp_path / "results"
    with CapacityCountingProxy(endpoint, {"GetItem", "Query", "ExecuteStatement"}) as proxy:
        command = HARNESS + ["run", str(path), "--endpoint-url", proxy.url, "--results-dir", str(results)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = run_dir_of(results)

    harness_units = {}
    for row in read_rows(run_dir / "harness_capacity.csv"):
        for side in ("read", "write"):
            key = (row["table"], row["index"], side)
            harness_units[key] = harness_units.get(key, 0.0) + float(row[f"{side}_units"])
    estimated = {}
    for row in json.loads((run_dir / "harness_run.json").read_text())["estimated_capacity"]:
        for side in ("read", "write"):
            if row[f"{side}_units"]:
                estimated[(row["table"], row["index"], side)] = row[f"{side}_units"]
    reported = {key: units - estimated.get(key, 0.0) for key, units in harness_units.items()}
    expected = {key: units for key, units in proxy.units.items() if units}
    assert proxy.responses["GetItem"] and proxy.responses["Query"], proxy.responses
    assert {key for key, units in reported.items() if units > 1e-9} == set(expected)
    for key, units in expected.items():
        assert reported[key] == pytest.approx(units, abs=1e-6), key

    spec = load_scenario(path)
    ring_table, orders_table, logs_table = spec.tables[1].name, spec.tables[0].name, spec.tables[2].name
    assert harness_units[(ring_table, "", "read")] == 0.5 * locust_count(run_dir, "GetItem", "walk_ring")  # 0.5 RCU per small GetItem
    # DynamoDB Local 3.x returns no ConsumedCapacity for ExecuteStatement (the proxy saw none for orders): the harness's
    # estimate stands in, one WCU per small order insert, and is listed as estimated
    assert estimated == {(orders_table, "", "write"): locust_count(run_dir, "ExecuteStatement", "partiql_insert_order")}
    assert harness_units[(orders_table, "", "write")] == estimated[(orders_table, "", "write")]
    assert harness_units[(logs_table, "GSI_1", "read")] > 0
    attempts = rows_by_key(run_dir / "harness_attempts.csv", "operation", "table", "index")
    for operation, table, index in (("Query", logs_table, "GSI_1"), ("ExecuteStatement", orders_table, ""), ("GetItem", ring_table, "")):
        row = attempts[(operation, table, index)]
        assert int(row["attempts"]) - int(row["throttled_attempts"]) - int(row["error_attempts"]) == proxy.responses[operation], row
    info = json.loads((run_dir / "harness_run.json").read_text())
    assert info["scenario"] == spec.name and info["start_time"] < info["end_time"]
    assert {table["name"]: table["billing_mode"] for table in info["tables"]}[logs_table] == "PROVISIONED"


def test_master_merges_worker_metrics(endpoint, tmp_path):
    """Master + 1 worker on loopback: the master's files hold every request the worker made."""
    table = f"metrics-dist-{uuid.uuid4().hex[:8]}"
    path = ring_scenario(tmp_path, [table], endpoint, users=3, load="auto")
    scenario = load_scenario(path)
    setup(scenario, open_target(scenario, endpoint_url=endpoint), progress=False)  # as `ddb-harness run` does before Locust
    port = free_port()
    master = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(ROUNDTRIP), "--scenario", str(path), "--skip-setup", "--endpoint-url", endpoint,
         "--headless", "--master", "--expect-workers", "1", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), "--csv", str(tmp_path / "locust")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    worker_log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(ROUNDTRIP), "--scenario", str(path), "--skip-setup", "--endpoint-url", endpoint,
         "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
        stdout=worker_log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        _, master_err = master.communicate(timeout=120)
        worker.wait(timeout=60)
    finally:
        worker_log.close()
        for process in (master, worker):
            if process.poll() is None:
                process.kill()
    assert master.returncode == 0, master_err[-3000:]

    gets = locust_count(tmp_path, "GetItem", "walk_ring")
    assert gets > 0
    latency = rows_by_key(tmp_path / "harness_latency.csv", "type", "name")
    assert int(latency[("GetItem", "walk_ring")]["count"]) == gets
    requests = rows_by_key(tmp_path / "harness_requests.csv", "type", "name")
    assert int(requests[("GetItem", "walk_ring")]["requests"]) == gets
    attempts = rows_by_key(tmp_path / "harness_attempts.csv", "operation", "table", "index")
    assert int(attempts[("GetItem", table, "")]["attempts"]) == gets  # DynamoDB Local never throttles: no retries
    read_units = sum(float(row["read_units"]) for row in read_rows(tmp_path / "harness_capacity.csv") if row["table"] == table)
    assert read_units == 0.5 * gets
    assert json.loads((tmp_path / "harness_run.json").read_text())["workers"] == 1
