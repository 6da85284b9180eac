"""Bulk loads (harness.target.loader) into the session's real DynamoDB Local: synthetic logs and the workshop CSV."""

from __future__ import annotations

import csv
import itertools

import pytest
from conftest import WORKSHOP_DATA

from harness.datasets import dataset_items, logfile
from harness.scenario import TableSpec
from harness.target import tables
from harness.target.loader import load_items

WORKSHOP_CSV = WORKSHOP_DATA / "logfile_medium1.csv"
WORKSHOP_ROWS = 2_000


@pytest.fixture
def log_table(client, table_name) -> str:
    """An empty harness-created table keyed like the workshop log (requestid N)."""
    spec = TableSpec.model_validate({"name": table_name, "attributes": {"requestid": "N"}, "key": {"hash": "requestid"}})
    assert tables.ensure_table(client, spec) == tables.CREATED
    return table_name


def get_log_item(client, table: str, requestid: int) -> dict:
    return client.get_item(TableName=table, Key={"requestid": {"N": str(requestid)}}, ConsistentRead=True)["Item"]


def test_synthetic_load_with_four_workers_writes_every_item(client, table_name):
    spec = TableSpec.model_validate(
        {
            "name": table_name,
            "attributes": {"requestid": "N"},
            "key": {"hash": "requestid"},
            "dataset": {"model": "logfile", "size": 5_000, "seed": 4},
        }
    )
    tables.ensure_table(client, spec)
    items, total = dataset_items(spec)

    report = load_items(client, table_name, items, total=total, workers=4, progress=False)

    assert total == 5_000
    assert report.items == 5_000
    assert report.batches >= 5_000 // 25  # 25 puts a call at most
    assert report.consumed_wcu > 0  # DynamoDB Local reports ConsumedCapacity for BatchWriteItem
    assert tables.item_count(client, table_name) == 5_000
    last = next(itertools.islice(logfile.generate_items(5_000, 4), 4_999, None))
    assert get_log_item(client, table_name, 5_000) == last


def test_workshop_csv_loads_row_for_row_and_reloading_changes_nothing(client, log_table):
    with open(WORKSHOP_CSV, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == WORKSHOP_ROWS

    report = load_items(client, log_table, logfile.read_csv(WORKSHOP_CSV), total=WORKSHOP_ROWS, progress=False)

    assert report.items == WORKSHOP_ROWS
    assert tables.item_count(client, log_table) == WORKSHOP_ROWS
    second = get_log_item(client, log_table, 2)
    assert second["host"] == {"S": "66.249.67.3"}
    assert second["bytessent"] == {"N": "8068"}
    expected = {column: value for column, value in zip(logfile.CSV_COLUMNS, rows[1], strict=False)}
    assert {name: next(iter(value.values())) for name, value in second.items() if name in expected} == expected
    assert second["GSI_1_PK"] == {"S": "shard#3"}  # requestid 2 % 10 + 1
    assert second["GSI_1_SK"] == {"S": "200#2017-07-20#20"}

    # Puts replace items with the same key: a second load of the same rows adds nothing.
    again = load_items(client, log_table, logfile.read_csv(WORKSHOP_CSV), total=WORKSHOP_ROWS, progress=False)

    assert again.items == WORKSHOP_ROWS
    assert tables.item_count(client, log_table) == WORKSHOP_ROWS
    assert get_log_item(client, log_table, 2) == second


def test_items_repeating_a_key_in_one_batch_leave_the_last_one_and_are_counted(client, log_table):
    """DynamoDB refuses a BatchWriteItem naming one key twice; the loader keeps the last, as PutItem after PutItem would."""
    items = [{"requestid": {"N": str(number % 10)}, "seen": {"N": str(number)}} for number in range(30)]

    report = load_items(client, log_table, iter(items), total=30, workers=1, progress=False, key_names=("requestid",))  # one sender: batches land in order

    assert report.repeated_keys == 15  # batch 1: 25 items on 10 keys; batch 2: 5 new items, none repeated within it
    assert tables.item_count(client, log_table) == 10
    assert get_log_item(client, log_table, 9)["seen"] == {"N": "29"}  # batch 2's item replaced batch 1's (19)
    assert get_log_item(client, log_table, 4)["seen"] == {"N": "24"}  # the last of batch 1 (4, 14, 24) won
