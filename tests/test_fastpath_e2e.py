"""The fast path against a real DynamoDB Local: same answers as boto3, threaded loader, headless runs.

A headless `ddb-harness run` with `client: {kind: fast}` must produce the same stats rows and
columns as the boto3 path with zero failures, and every PartiQL insert it counts as a success
must be in the table afterwards.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import REPO, scenario_data, write_scenario

from harness.datasets import logfile
from harness.ops import parallel_scan
from harness.scenario import ClientSettings
from harness.target.client import Connection, make_client
from harness.target.loader import load_items

HARNESS = [sys.executable, "-m", "harness.cli"]


@pytest.fixture
def fast_client(endpoint):
    return make_client(Connection("us-east-1", endpoint), ClientSettings(kind="fast"))


@pytest.fixture
def client(endpoint):
    """The reference: a plain boto3 client, whatever the default client kind is."""
    return make_client(Connection("us-east-1", endpoint), ClientSettings(kind="boto3"))


@pytest.fixture
def table(client, table_name):
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield table_name
    client.delete_table(TableName=table_name)


def without_metadata(response: dict) -> dict:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def test_every_fast_operation_answers_like_boto3(client, fast_client, table):
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    item = {**key, "n": {"N": "1"}, "b": {"B": b"\x00\xff"}, "l": {"L": [{"S": "x"}, {"BOOL": True}]}}
    capacity = {"ReturnConsumedCapacity": "INDEXES"}
    assert without_metadata(fast_client.put_item(TableName=table, Item=item, **capacity)) == without_metadata(client.put_item(TableName=table, Item=item, **capacity))
    reads = [
        ("get_item", {"TableName": table, "Key": key, **capacity}),
        ("query", {"TableName": table, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}, **capacity}),
        ("scan", {"TableName": table, "Limit": 10, **capacity}),
        ("execute_statement", {"Statement": f'SELECT * FROM "{table}" WHERE pk = ?', "Parameters": [{"S": "p"}]}),
        ("batch_get_item", {"RequestItems": {table: {"Keys": [key]}}, **capacity}),
    ]
    for method, params in reads:
        expected = without_metadata(getattr(client, method)(**params))
        assert without_metadata(getattr(fast_client, method)(**params)) == expected, method
    assert fast_client.get_item(TableName=table, Key=key)["Item"]["b"]["B"] == b"\x00\xff"
    update = {"TableName": table, "Key": key, "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"}
    assert fast_client.update_item(**update)["Attributes"] == {"n": {"N": "2"}}
    fast_client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "p"}, "sk": {"S": "2"}}}}])
    fast_client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": "3"}}}}]})
    fast_client.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': ?}}", Parameters=[{"S": "p"}, {"S": "4"}])
    fast_client.delete_item(TableName=table, Key=key)
    remaining = client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert sorted(entry["sk"]["S"] for entry in remaining["Items"]) == ["2", "3", "4"]


def test_errors_from_dynamodb_local_match_boto3(client, fast_client, table):
    condition = {"TableName": table, "Item": {"pk": {"S": "c"}, "sk": {"S": "c"}}, "ConditionExpression": "attribute_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    outcomes = []
    for each in (client, fast_client):
        with pytest.raises(each.exceptions.ConditionalCheckFailedException) as raised:
            each.put_item(**condition)
        outcomes.append(raised.value)
    assert outcomes[1].response["Error"] == outcomes[0].response["Error"]
    for each in (client, fast_client):
        with pytest.raises(each.exceptions.ResourceNotFoundException):
            each.get_item(TableName=f"{table}-missing", Key={"pk": {"S": "x"}, "sk": {"S": "x"}})


def test_threaded_loader_and_parallel_scan_use_the_fast_client(client, fast_client, table_name):
    """The plain threaded path (`ddb-harness setup`, ops outside Locust) works without gevent's patching."""
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "requestid", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "requestid", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    report = load_items(fast_client, table_name, logfile.generate_items(3000, seed=4), total=3000, workers=4, progress=False)
    assert report.items == 3000
    scanned = parallel_scan(fast_client, table_name, segments=4, page_limit=500)
    assert scanned.value.count == 3000
    assert scanned.calls >= 4
    client.delete_table(TableName=table_name)


# ---- headless runs --------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def run_headless(tmp_path: Path, endpoint: str, shipped: str, kind: str, table: str) -> tuple[list[dict], list[str]]:
    """`ddb-harness run` of a shipped scenario on its own table with `client.kind`; (stats rows, stats columns)."""
    data = scenario_data(shipped)
    data["client"] = {**data.get("client", {}), "kind": kind}
    data["tables"][0]["name"] = table
    for step in data["workload"]["mix"]:
        step["table"] = table
    path = write_scenario(tmp_path, data, f"{kind}.yaml")
    results = tmp_path / f"results-{kind}"
    command = HARNESS + ["run", str(path), "--endpoint-url", endpoint, "--run-time", "4s", "--users", "4", "--results-dir", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = [folder for folder in results.iterdir() if folder.is_dir()]
    with open(run_dir / "locust_stats.csv", newline="") as handle:
        columns = next(csv.reader(handle))
    return read_rows(run_dir / "locust_stats.csv"), columns


def count_items(client, table: str) -> int:
    total, start = 0, None
    while True:
        page = client.scan(TableName=table, Select="COUNT", Limit=10000, **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


@pytest.mark.parametrize("shipped", ["roundtrip.yaml", "partiql_orders.yaml"])
def test_headless_run_with_fast_client_has_the_boto3_stats_shape(shipped, endpoint, client, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    fast_rows, fast_columns = run_headless(tmp_path, endpoint, shipped, "fast", f"fast-{suffix}")
    boto3_rows, boto3_columns = run_headless(tmp_path, endpoint, shipped, "boto3", f"boto3-{suffix}")
    assert fast_columns == boto3_columns
    assert {(row["Type"], row["Name"]) for row in fast_rows} == {(row["Type"], row["Name"]) for row in boto3_rows}
    for row in fast_rows:
        assert int(row["Failure Count"]) == 0, row
        assert int(row["Request Count"]) > 0, row
    if shipped == "partiql_orders.yaml":
        loaded = scenario_data(shipped)["tables"][0]["dataset"]["size"]
        inserts = next(row for row in fast_rows if row["Type"] == "ExecuteStatement")
        succeeded = int(inserts["Request Count"]) - int(inserts["Failure Count"])
        assert count_items(client, f"fast-{suffix}") == loaded + succeeded
