"""Operation steps written in YAML alone, run by real `ddb-harness run` processes against DynamoDB Local.

One run sends every data-plane operation from a step of the mix and the stats name each by its
DynamoDB operation and step; failed conditions and cancelled transactions are classified. A lock
chain passes what one operation returned to the next, and inserts made by several users and two
workers never collide and are read back.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, write_scenario

HARNESS = [sys.executable, "-m", "harness.cli"]
LOADED_ACCOUNTS, ENTRIES_PER_ACCOUNT = 200, 3


def run_scenario(data: dict, tmp_path: Path, endpoint: str, *extra: str, exit_code: int = 0) -> tuple[Path, dict[tuple[str, str], dict]]:
    """`ddb-harness run` headless; the run folder and Locust's stats rows by (Type, Name).

    `exit_code` 1 is Locust's when some requests failed, as the runs with failing steps expect.
    """
    path = write_scenario(tmp_path, data)
    results = tmp_path / "results"
    command = HARNESS + ["run", str(path), "--endpoint-url", endpoint, "--results-dir", str(results), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == exit_code, done.stderr[-3000:]
    (run_dir,) = [folder for folder in results.iterdir() if folder.is_dir()]
    with open(run_dir / "locust_stats.csv", newline="") as handle:
        rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(handle)}
    return run_dir, rows


def failures(run_dir: Path) -> dict[str, str]:
    """Step name -> the error text of its failures (one kind per step in these runs)."""
    with open(run_dir / "locust_failures.csv", newline="") as handle:
        return {row["Name"]: row["Error"] for row in csv.DictReader(handle)}


def accounts_table(name: str) -> dict:
    """A single-table design: accounts, and entries below each account; a GSI on `kind`."""
    return {
        "name": name,
        "attributes": {"pk": "S", "sk": "S", "kind": "S"},
        "key": {"hash": "pk", "range": "sk"},
        "gsis": [{"name": "by_kind", "key": {"hash": "kind", "range": "sk"}}],
        "dataset": {
            "model": "template",
            "seed": 3,
            "entities": [
                {
                    "name": "account",
                    "count": LOADED_ACCOUNTS,
                    "attributes": {"_n": {"sequence": {}}, "pk": "ACCT#{_n}", "sk": "META", "kind": "account", "balance": {"integer": {"min": 0, "max": 1000}}},
                },
                {
                    "name": "entry",
                    "parent": "account",
                    "per_parent": ENTRIES_PER_ACCOUNT,
                    "attributes": {
                        "_id": {"uuid": {}}, "pk": "ACCT#{parent._n}", "sk": "ENTRY#{child}#{_id}", "kind": "entry", "seq": {"sequence": {}},
                        "amount": {"integer": {"min": 1, "max": 99}},
                    },  # fmt: skip
                },
            ],
        },
    }


def every_operation(table: str) -> list[dict]:
    """One step per DynamoDB data-plane operation, plus a failing condition and a cancelled transaction."""
    account = {"entity": "account", "distribution": "zipfian"}
    meta = {"pk": "{pk}", "sk": "META"}
    return [
        {"name": "get", "op": "GetItem", "table": table, "pick": account, "projection": "#b", "names": {"#b": "balance"}, "consistent_read": True},
        {"name": "put", "op": "PutItem", "table": table, "new": {"entity": "entry"}, "condition": "attribute_not_exists(pk)"},
        {"name": "update", "op": "UpdateItem", "table": table, "pick": account, "update": "ADD balance :one", "values": {":one": 1}, "return_values": "UPDATED_NEW"},
        {"name": "delete_missing", "op": "DeleteItem", "table": table, "key": {"pk": "NONE#{run.user}", "sk": "X"}, "condition": "attribute_exists(pk)"},
        {"name": "query", "op": "Query", "table": table, "pick": account, "key_condition": "pk = :p AND begins_with(sk, :e)", "values": {":p": "{pk}", ":e": "ENTRY#"}, "limit": 2, "pages": "all"},
        {"name": "query_gsi", "op": "Query", "table": table, "index": "by_kind", "key_condition": "kind = :k", "values": {":k": "account"}, "limit": 50, "forward": False},
        {"name": "scan", "op": "Scan", "table": table, "segments": 2, "limit": 100, "pages": 1, "filter": "kind = :k", "values": {":k": "entry"}},
        {"name": "batch_get", "op": "BatchGetItem", "table": table, "pick": {"entity": "account"}, "batch": 10},
        {"name": "batch_write", "op": "BatchWriteItem", "table": table, "new": {"entity": "entry"}, "batch": 5},
        {"name": "transact_get", "op": "TransactGetItems", "pick": account, "items": [{"get": {"table": table, "key": meta}}]},
        {
            "name": "transact_write",
            "op": "TransactWriteItems",
            "pick": account,
            "items": [
                {"condition_check": {"table": table, "key": meta, "condition": "attribute_exists(pk)"}},
                {"put": {"table": table, "item": {"pk": "{pk}", "sk": "TX#{run.user}", "kind": "tx"}}},
            ],
        },
        {
            "name": "transact_cancelled",
            "op": "TransactWriteItems",
            "pick": account,
            "items": [
                {"update": {"table": table, "key": meta, "update": "ADD balance :one", "values": {":one": 1}}},
                {"condition_check": {"table": table, "key": meta, "condition": "attribute_not_exists(pk)"}},
            ],
        },
        {"name": "partiql_select", "op": "ExecuteStatement", "table": table, "pick": account, "statement": f'SELECT * FROM "{table}" WHERE pk = ?', "parameters": ["{pk}"]},
        {
            "name": "partiql_batch",
            "op": "BatchExecuteStatement",
            "table": table,
            "pick": account,
            "batch": 3,
            "statements": [{"statement": f'SELECT * FROM "{table}" WHERE pk = ? AND sk = ?', "parameters": ["{pk}", "META"]}],
        },
    ]


OPERATION_OF = {
    "get": "GetItem", "put": "PutItem", "update": "UpdateItem", "delete_missing": "DeleteItem", "query": "Query", "query_gsi": "Query",
    "scan": "Scan", "batch_get": "BatchGetItem", "batch_write": "BatchWriteItem", "transact_get": "TransactGetItems",
    "transact_write": "TransactWriteItems", "transact_cancelled": "TransactWriteItems", "partiql_select": "ExecuteStatement",
    "partiql_batch": "BatchExecuteStatement",
}  # fmt: skip


def count_items(client, table: str) -> int:
    """Every item of the table, counted with Scan (Select=COUNT) page after page."""
    total, start = 0, None
    while True:
        page = client.scan(TableName=table, Select="COUNT", **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def test_every_operation_runs_from_a_yaml_step_and_failures_are_classified(endpoint, client, table_name, tmp_path):
    data = {"tables": [accounts_table(table_name)], "workload": {"mix": every_operation(table_name)}, "load": {"users": 4, "run_time": "5s"}}
    run_dir, rows = run_scenario(data, tmp_path, endpoint, exit_code=1)
    for name, operation in OPERATION_OF.items():
        row = rows.get((operation, name))
        assert row is not None, f"no {operation} row for {name}: {sorted(rows)}"
        assert int(row["Request Count"]) > 0, name
        expected_failures = int(row["Request Count"]) if name in ("delete_missing", "transact_cancelled") else 0
        assert int(row["Failure Count"]) == expected_failures, (name, row["Failure Count"])
    errors = failures(run_dir)
    assert errors["delete_missing"].startswith("ConditionalCheckError(")
    assert errors["transact_cancelled"].startswith("TransactionCanceledError(") and "[None, ConditionalCheckFailed]" in errors["transact_cancelled"]
    # nothing lost: every accepted write is in the table (new keys never collide, so none overwrote another)
    loaded = LOADED_ACCOUNTS * (1 + ENTRIES_PER_ACCOUNT)
    puts = int(rows[("PutItem", "put")]["Request Count"]) + 5 * int(rows[("BatchWriteItem", "batch_write")]["Request Count"])
    transaction_items = count_items_with_prefix(client, table_name, "TX#")
    assert count_items(client, table_name) == loaded + puts + transaction_items


def count_items_with_prefix(client, table: str, prefix: str) -> int:
    """Items whose sort key starts with `prefix` (the transaction's own puts, one per user and account)."""
    total, start = 0, None
    while True:
        page = client.scan(
            TableName=table, Select="COUNT", FilterExpression="begins_with(sk, :p)", ExpressionAttributeValues={":p": {"S": prefix}},
            **({"ExclusiveStartKey": start} if start else {}),
        )  # fmt: skip
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def lock_chain(table: str) -> dict:
    """Take an account's lock with a conditional update, change the account under it, let it go."""
    lock = {"#lock": "lock"}
    return {
        "name": "locked_update",
        "pick": {"entity": "account", "distribution": "uniform"},
        "chain": [
            {
                "name": "acquire", "op": "UpdateItem", "table": table, "update": "SET #lock = :me", "condition": "attribute_not_exists(#lock)",
                "names": lock, "values": {":me": "{run.user}"}, "return_values": "ALL_NEW",
            },
            {
                "name": "bump", "op": "UpdateItem", "table": table, "key": {"pk": "{acquire.pk}", "sk": "{acquire.sk}"},
                "update": "ADD bumps :one", "condition": "#lock = :me", "names": lock, "values": {":one": 1, ":me": "{acquire.lock}"},
            },
            {
                "name": "release", "op": "UpdateItem", "table": table, "key": {"pk": "{acquire.pk}", "sk": "{acquire.sk}"},
                "update": "REMOVE #lock", "condition": "#lock = :me", "names": lock, "values": {":me": "{run.user}"},
            },
        ],
    }  # fmt: skip


def test_a_chain_passes_returned_values_and_leaves_no_lock_held(endpoint, client, table_name, tmp_path):
    table = accounts_table(table_name)
    table["dataset"]["entities"][0]["count"] = 4  # few accounts, many users: the lock is contended
    data = {"tables": [table], "workload": {"mix": [lock_chain(table_name)]}, "load": {"users": 8, "run_time": "4s"}}
    run_dir, rows = run_scenario(data, tmp_path, endpoint, exit_code=1)
    chains, acquires = rows[("Chain", "locked_update")], rows[("UpdateItem", "acquire")]
    bumps, releases = rows[("UpdateItem", "bump")], rows[("UpdateItem", "release")]
    completed = int(chains["Request Count"]) - int(chains["Failure Count"])
    assert completed > 0 and int(acquires["Failure Count"]) > 0, "no contention: the test proves nothing"
    assert int(bumps["Failure Count"]) == int(releases["Failure Count"]) == 0
    assert int(bumps["Request Count"]) == int(releases["Request Count"]) == completed
    assert int(chains["Failure Count"]) == int(acquires["Failure Count"])  # a chain fails where its lock was taken
    assert failures(run_dir)["locked_update"].startswith("ConditionalCheckError(")
    accounts = client.scan(TableName=table_name, FilterExpression="sk = :m", ExpressionAttributeValues={":m": {"S": "META"}})["Items"]
    assert len(accounts) == 4
    assert not [item for item in accounts if "lock" in item], "a lock is left held"
    assert sum(int(item.get("bumps", {"N": "0"})["N"]) for item in accounts) == completed  # every completed update is whole


@pytest.mark.parametrize("workers", [None, "2"])
def test_inserts_of_many_users_and_workers_never_collide_and_are_read_back(endpoint, client, table_name, tmp_path, workers):
    read_latest = {
        "name": "read_latest",
        "pick": {"entity": "entry", "distribution": "latest"},
        "chain": [
            {"name": "read", "op": "GetItem", "table": table_name, "consistent_read": True},
            {"name": "touch", "op": "UpdateItem", "table": table_name, "key": {"pk": "{read.pk}", "sk": "{read.sk}"}, "update": "ADD times_read :one", "values": {":one": 1}},
        ],
    }
    insert = {"name": "insert", "op": "PutItem", "table": table_name, "new": {"entity": "entry"}, "condition": "attribute_not_exists(pk)", "weight": 2}
    data = {"tables": [accounts_table(table_name)], "workload": {"mix": [insert, read_latest]}, "load": {"users": 6, "run_time": "4s"}}
    extra = ("--workers", workers) if workers else ()
    _, rows = run_scenario(data, tmp_path, endpoint, *extra)
    inserts, chains = rows[("PutItem", "insert")], rows[("Chain", "read_latest")]
    assert int(inserts["Request Count"]) > 0 and int(inserts["Failure Count"]) == 0  # a collision fails the condition
    assert int(chains["Request Count"]) > 0 and int(chains["Failure Count"]) == 0  # every pick found its item, new ones too
    loaded, loaded_entries = LOADED_ACCOUNTS * (1 + ENTRIES_PER_ACCOUNT), LOADED_ACCOUNTS * ENTRIES_PER_ACCOUNT
    assert count_items(client, table_name) == loaded + int(inserts["Request Count"])
    read_back = client.scan(
        TableName=table_name, FilterExpression="attribute_exists(times_read) AND seq >= :made", ExpressionAttributeValues={":made": {"N": str(loaded_entries)}},
    )["Items"]  # fmt: skip
    assert read_back, "no item made during the run was read back"


def test_repeat_runs_the_operation_that_many_times_per_task_run(endpoint, client, table_name, tmp_path):
    insert = {"name": "insert", "op": "PutItem", "table": table_name, "new": {"entity": "entry"}, "repeat": 5}
    load = {"users": 1, "run_time": "2s", "wait_time": {"constant": 0.2}}
    _, rows = run_scenario({"tables": [accounts_table(table_name)], "workload": {"mix": [insert]}, "load": load}, tmp_path, endpoint)
    requests = int(rows[("PutItem", "insert")]["Request Count"])
    assert requests >= 10 and requests % 5 == 0  # whole task runs of 5 puts; a user stops between task runs
    assert count_items(client, table_name) == LOADED_ACCOUNTS * (1 + ENTRIES_PER_ACCOUNT) + requests
