"""The seed designs as a user runs them: what the report says about a sparse index, a hot key and a lock.

Each test runs `ddb-harness run` against the session's DynamoDB Local on a table of its own, and
checks the run's files against the truth: the workshop's employees.csv, the gate's throttles, the
table's items after a contended run.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeDeserializer
from conftest import REPO, WORKSHOP_DATA, scenario_data, write_scenario

from harness.gate import start_gate

HARNESS = [sys.executable, "-m", "harness.cli"]
EMPLOYEES_CSV = WORKSHOP_DATA / "employees.csv"
EMPLOYEE_COLUMNS = ["id", "name", "title", "dept", "city", "state", "dob", "hire_date", "previous_title", "previous_title_end", "is_manager"]


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run(path: Path, results: Path, *arguments: str) -> tuple[subprocess.CompletedProcess, Path]:
    done = subprocess.run(HARNESS + ["run", str(path), "--results-dir", str(results), *arguments], capture_output=True, text=True, timeout=240, cwd=REPO)
    folders = [folder for folder in results.iterdir() if folder.is_dir()] if results.exists() else []
    assert len(folders) == 1, done.stderr[-3000:]
    return done, folders[0]


def renamed(data: dict, table: str) -> dict:
    """The scenario with its one table called `table`, in the table list and in every step."""
    old = data["tables"][0]["name"]
    data["tables"][0]["name"] = table
    for step in data["workload"]["mix"]:
        for operation in [step, *step.get("chain", [])]:
            if operation.get("table") == old:
                operation["table"] = table
    return data


def employees_from_csv(data: dict) -> dict:
    """Workshop exercise 5's table loaded from employees.csv: per employee a root item, its state, current and previous title."""
    source = {"file": str(EMPLOYEES_CSV), "format": "csv", "columns": EMPLOYEE_COLUMNS}
    root = {
        "PK": "e#{row.id}", "SK": "root", "name": {"column": "name", "type": "S"}, "GSI_1_PK": "root", "GSI_1_SK": "{name}",
        "state": {"column": "state", "type": "S"}, "title": {"column": "title", "type": "S"}, "previous": {"column": "previous_title", "type": "S"},
        "city_dept": "{row.city}#{row.dept}", "is_manager": {"column": "is_manager", "type": "S", "present_if": "1"},
    }  # fmt: skip
    kinds = {"state_item": "state#{parent.state}", "current_title": "current_title#{parent.title}", "previous_title": "previous_title#{parent.previous}"}
    children = [
        {"name": name, "parent": "employee", "per_parent": 1,
         "attributes": {"PK": "{parent.PK}", "SK": sort_key, "GSI_1_PK": sort_key, "GSI_1_SK": "{parent.name}"}}
        for name, sort_key in kinds.items()
    ]  # fmt: skip
    data["tables"][0]["dataset"]["entities"] = [{"name": "employee", "source": source, "attributes": root}, *children]
    return data


def test_the_sparse_index_reads_the_managers_where_the_filtered_scan_reads_every_item(endpoint, table_name, tmp_path):
    """Workshop exercise 5 on the workshop's own 1,000 employees: 4,000 items, 84 managers."""
    with open(EMPLOYEES_CSV, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    managers = sum(1 for row in rows if len(row) > 10 and row[10] == "1")
    items = 4 * len(rows)
    assert (managers, items) == (84, 4000)
    path = write_scenario(tmp_path, employees_from_csv(renamed(scenario_data("workshop_ex5_sparse_index.yaml"), table_name)))

    done, run_dir = run(path, tmp_path / "results", "--endpoint-url", endpoint, "--run-time", "3s", "--users", "2")

    assert done.returncode == 0, done.stderr[-3000:]
    reads = {row["name"]: row for row in read_rows(run_dir / "harness_reads.csv")}
    sparse, scan = reads["managers_by_sparse_index"], reads["managers_by_filtered_scan"]
    for row in (sparse, scan):
        assert int(row["requests"]) > 0 and int(row["items_returned"]) == managers * int(row["requests"])
    assert int(sparse["items_read"]) == managers * int(sparse["requests"])  # the index holds only the managers
    assert int(scan["items_read"]) == items * int(scan["requests"])  # the scan reads the whole table to find them
    summary = {row["name"]: row for row in json.loads((run_dir / "summary.json").read_text())["reads"]}
    assert summary["managers_by_filtered_scan"]["read_per_request"] == items
    assert summary["managers_by_filtered_scan"]["returned_share"] == pytest.approx(managers / items)
    assert summary["managers_by_sparse_index"]["returned_share"] == 1.0
    report = (run_dir / "report.md").read_text()
    section = report.split("## Read efficiency", 1)[1].split("\n## ", 1)[0]
    assert "| Scan | managers_by_filtered_scan |" in section and "| 84.00 | 4000.00 | 2.10% |" in section
    assert "| Query | managers_by_sparse_index |" in section and "| 84.00 | 84.00 | 100.00% |" in section


def test_a_zipfian_read_of_a_small_provisioned_table_names_its_throttled_keys_and_why(endpoint, table_name, tmp_path):
    """Capacity emulation (a gate with a 1 s burst) on a 10-RCU table read with a zipfian skew, no SDK retries."""
    data = {
        "name": "hot-reads",
        "client": {"retries": {"mode": "legacy", "max_attempts": 1}},
        "tables": [{
            "name": table_name, "attributes": {"id": "S"}, "key": {"hash": "id"}, "billing_mode": "PROVISIONED", "capacity": {"read": 10, "write": 10},
            "dataset": {"model": "template", "entities": [{"name": "item", "count": 500, "attributes": {"id": "k{index:04d}", "v": {"text": {"length": 50}}}}]},
        }],
        "workload": {"mix": [{"name": "read_hot", "op": "GetItem", "table": table_name, "pick": {"entity": "item", "distribution": "zipfian"}}]},
        "load": {"users": 3, "spawn_rate": 100, "wait_time": {"constant": 0.005}},
    }  # fmt: skip
    path = write_scenario(tmp_path, data)
    gate = start_gate(endpoint, burst_seconds=1, log_dir=tmp_path)
    try:
        setup = subprocess.run(HARNESS + ["setup", str(path), "--endpoint-url", endpoint], capture_output=True, text=True, timeout=120)
        assert setup.returncode == 0, setup.stderr[-3000:]
        done, run_dir = run(path, tmp_path / "results", "--endpoint-url", gate.endpoint, "--capacity-gate", "--run-time", "4s")
    finally:
        gate.stop()

    assert done.returncode == 1, done.stderr[-3000:]  # throttled reads fail: no retries
    keys = read_rows(run_dir / "harness_keys.csv")
    attempts = {row["key"]: int(row["attempts"]) for row in keys}
    throttled = {row["key"]: int(row["throttled_attempts"]) for row in keys}
    hottest = max(attempts, key=attempts.get)
    assert throttled[hottest] > 0 and sum(throttled.values()) > sum(attempts.values()) / 2  # 10 RCU: most reads refused
    reasons = read_rows(run_dir / "harness_key_throttles.csv")
    assert {row["reason"] for row in reasons} == {"TableReadProvisionedThroughputExceeded"}
    assert sum(int(row["throttled_attempts"]) for row in reasons) == sum(throttled.values())
    requests = read_rows(run_dir / "harness_requests.csv")[0]
    assert sum(attempts.values()) == int(requests["requests"])  # one attempt per request: every request is on exactly one key
    section = (run_dir / "report.md").read_text().split("## Hot keys", 1)[1].split("\n## ", 1)[0]
    assert f"`{hottest}`" in section and f"TableReadProvisionedThroughputExceeded: {throttled[hottest]}" in section
    assert (run_dir / "hot_keys.png").stat().st_size > 0


def test_the_lock_holds_under_contention_from_two_workers(endpoint, client, table_name, tmp_path):
    """Workshop exercise 7: 16 users on 2 workers over 10 employees. Afterwards no lock is held, and every
    move is whole (desk and floor name the same mover), and the moves counted equal the moves the run made."""
    data = renamed(scenario_data("workshop_ex7_locks.yaml"), table_name)
    path = write_scenario(tmp_path, data)

    done, run_dir = run(path, tmp_path / "results", "--endpoint-url", endpoint, "--run-time", "4s", "--workers", "2")

    assert done.returncode == 1, done.stderr[-3000:]  # the lock was found taken: those requests failed, as they must
    stats = {row["Name"]: row for row in read_rows(run_dir / "locust_stats.csv")}
    taken = int(stats["take_lock"]["Failure Count"])
    attempts = int(stats["take_lock"]["Request Count"])
    moves = int(stats["set_floor"]["Request Count"])
    assert 0 < taken < attempts and moves == attempts - taken
    for name in ("set_desk", "set_floor", "release_lock"):
        assert int(stats[name]["Failure Count"]) == 0 and int(stats[name]["Request Count"]) == moves
    failures = read_rows(run_dir / "locust_failures.csv")
    assert {(row["Name"], row["Error"].split("(")[0]) for row in failures} == {("take_lock", "ConditionalCheckError"), ("move_employee", "ConditionalCheckError")}
    items = [{key: TypeDeserializer().deserialize(value) for key, value in item.items()} for item in client.scan(TableName=table_name, ConsistentRead=True)["Items"]]
    assert len(items) == 10
    assert [item for item in items if "lock_owner" in item] == []  # no lock left held
    assert all(item["desk"] == item["floor"] for item in items)  # every move is whole
    assert sum(int(item["moves"]) for item in items) == moves
    print(f"{attempts} lock attempts, {taken} found the lock taken ({taken / attempts:.0%}), {moves} moves")
