"""Table ownership rules (harness.target.tables, harness.target.ownership) against the session's real DynamoDB Local.

DynamoDB Local does not support tagging, so ownership lives in the registry table
ownership.REGISTRY_TABLE, keyed by table name and CreationDateTime.
"""

from __future__ import annotations

import pytest

from harness.errors import TableConflict
from harness.scenario import TableSpec
from harness.target import ownership, tables


def provisioned_spec(name: str, read: int = 5, write: int = 4, gsi_read: int = 3, gsi_write: int = 2, **extra) -> TableSpec:
    """A PROVISIONED table with a sort key and one provisioned GSI."""
    return TableSpec.model_validate(
        {
            "name": name,
            "attributes": {"pk": "S", "sk": "S", "gsi_pk": "S"},
            "key": {"hash": "pk", "range": "sk"},
            "gsis": [
                {
                    "name": "by_gsi_pk",
                    "key": {"hash": "gsi_pk"},
                    "projection": {"type": "INCLUDE", "non_key_attributes": ["status"]},
                    "capacity": {"read": gsi_read, "write": gsi_write},
                }
            ],
            "billing_mode": "PROVISIONED",
            "capacity": {"read": read, "write": write},
            **extra,
        }
    )


def on_demand_spec(name: str, key_type: str = "S", **extra) -> TableSpec:
    """A PAY_PER_REQUEST table with a hash key only."""
    return TableSpec.model_validate({"name": name, "attributes": {"pk": key_type}, "key": {"hash": "pk"}, **extra})


def create_by_hand(client, name: str, key_type: str = "S", read: int = 7, write: int = 6) -> dict:
    """CreateTable straight through the client, as a user would: the harness does not own it."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": key_type}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write},
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return client.describe_table(TableName=name)["Table"]


def registry_entry(client, name: str) -> dict | None:
    return client.get_item(
        TableName=ownership.REGISTRY_TABLE, Key={"table_name": {"S": name}}, ConsistentRead=True
    ).get("Item")


def throughput(description: dict) -> tuple[int, int]:
    capacity = description["ProvisionedThroughput"]
    return capacity["ReadCapacityUnits"], capacity["WriteCapacityUnits"]


# ---- create, reuse, describe --------------------------------------------------------------


def test_provisioned_table_is_created_as_specified_then_reused(client, table_name):
    spec = provisioned_spec(table_name)

    assert tables.ensure_table(client, spec) == tables.CREATED
    assert tables.ensure_table(client, spec) == tables.REUSED

    table = client.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]) == [
        ("gsi_pk", "S"),
        ("pk", "S"),
        ("sk", "S"),
    ]
    assert table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
    assert throughput(table) == (5, 4)
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_gsi_pk"
    assert index["KeySchema"] == [{"AttributeName": "gsi_pk", "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]}
    assert throughput(index) == (3, 2)
    assert ownership.is_owned(client, table)
    assert registry_entry(client, table_name) is not None


def test_on_demand_table_is_created_as_specified(client, table_name):
    assert tables.ensure_table(client, on_demand_spec(table_name)) == tables.CREATED

    table = client.describe_table(TableName=table_name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert "GlobalSecondaryIndexes" not in table
    assert tables.ensure_table(client, on_demand_spec(table_name)) == tables.REUSED


# ---- schema conflicts and recreate --------------------------------------------------------


def test_other_schema_without_recreate_is_a_conflict_naming_the_difference(client, table_name):
    tables.ensure_table(client, on_demand_spec(table_name, key_type="S"))

    with pytest.raises(TableConflict) as raised:
        tables.ensure_table(client, on_demand_spec(table_name, key_type="N"))

    message = str(raised.value)
    assert table_name in message
    assert "attributes" in message and "('pk', 'S')" in message and "('pk', 'N')" in message
    assert "recreate" in message
    assert client.describe_table(TableName=table_name)["Table"]["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"}
    ]


def test_billing_mode_change_is_a_conflict(client, table_name):
    tables.ensure_table(client, on_demand_spec(table_name))
    provisioned = TableSpec.model_validate(
        {
            "name": table_name,
            "attributes": {"pk": "S"},
            "key": {"hash": "pk"},
            "billing_mode": "PROVISIONED",
            "capacity": {"read": 1, "write": 1},
        }
    )

    with pytest.raises(TableConflict, match="billing_mode: found PAY_PER_REQUEST, scenario wants PROVISIONED"):
        tables.ensure_table(client, provisioned)


def test_recreate_replaces_a_harness_table_with_the_new_schema(client, table_name):
    tables.ensure_table(client, on_demand_spec(table_name, key_type="S"))
    client.put_item(TableName=table_name, Item={"pk": {"S": "old"}})
    first = client.describe_table(TableName=table_name)["Table"]

    outcome = tables.ensure_table(client, provisioned_spec(table_name, recreate=True))

    assert outcome == tables.RECREATED
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["KeySchema"][1] == {"AttributeName": "sk", "KeyType": "RANGE"}
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["by_gsi_pk"]
    assert throughput(table) == (5, 4)
    assert table["ItemCount"] == 0
    assert table["CreationDateTime"] != first["CreationDateTime"]
    assert ownership.is_owned(client, table)  # the new table is ours too, so it can be recreated again
    assert not ownership.is_owned(client, first)


def test_recreate_of_a_foreign_table_is_refused_and_leaves_it_untouched(client, table_name):
    before = create_by_hand(client, table_name)
    client.put_item(TableName=table_name, Item={"pk": {"S": "keep-me"}})

    with pytest.raises(TableConflict, match="not created by the harness"):
        tables.ensure_table(client, on_demand_spec(table_name, key_type="N", recreate=True))

    after = client.describe_table(TableName=table_name)["Table"]
    assert after["CreationDateTime"] == before["CreationDateTime"]
    assert after["AttributeDefinitions"] == before["AttributeDefinitions"]
    assert client.get_item(TableName=table_name, Key={"pk": {"S": "keep-me"}}).get("Item") is not None


# ---- delete -------------------------------------------------------------------------------


def test_delete_of_a_foreign_table_is_refused(client, table_name):
    before = create_by_hand(client, table_name)

    with pytest.raises(TableConflict, match="not created by the harness"):
        tables.delete_table(client, table_name)

    after = client.describe_table(TableName=table_name)["Table"]
    assert after["TableStatus"] == "ACTIVE"
    assert after["CreationDateTime"] == before["CreationDateTime"]


def test_delete_of_a_harness_table_removes_it_and_its_registry_entry(client, table_name):
    tables.ensure_table(client, on_demand_spec(table_name))
    assert registry_entry(client, table_name) is not None

    assert tables.delete_table(client, table_name) is True

    assert tables.describe(client, table_name) is None
    assert table_name not in client.list_tables(Limit=100, ExclusiveStartTableName=table_name[:-1]).get("TableNames", [])
    assert registry_entry(client, table_name) is None
    assert tables.delete_table(client, table_name) is False  # nothing left to delete


def test_a_table_recreated_by_hand_under_the_same_name_is_not_ours(client, table_name):
    tables.ensure_table(client, on_demand_spec(table_name))
    ours = client.describe_table(TableName=table_name)["Table"]
    assert ownership.is_owned(client, ours)
    client.delete_table(TableName=table_name)
    client.get_waiter("table_not_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    theirs = create_by_hand(client, table_name, key_type="S")

    assert registry_entry(client, table_name) is not None  # the stale entry of the harness's table remains
    assert not ownership.is_owned(client, theirs)
    with pytest.raises(TableConflict, match="not created by the harness"):
        tables.delete_table(client, table_name)
    with pytest.raises(TableConflict, match="not created by the harness"):
        tables.ensure_table(client, on_demand_spec(table_name, key_type="N", recreate=True))
    assert client.describe_table(TableName=table_name)["Table"]["CreationDateTime"] == theirs["CreationDateTime"]


# ---- capacity -----------------------------------------------------------------------------


def test_reusing_a_harness_table_updates_its_capacity(client, table_name):
    tables.ensure_table(client, provisioned_spec(table_name, read=5, write=4, gsi_read=3, gsi_write=2))

    outcome = tables.ensure_table(client, provisioned_spec(table_name, read=9, write=8, gsi_read=7, gsi_write=6))

    assert outcome == tables.REUSED
    table = client.describe_table(TableName=table_name)["Table"]
    assert throughput(table) == (9, 8)
    assert throughput(table["GlobalSecondaryIndexes"][0]) == (7, 6)
    assert ownership.is_owned(client, table)  # UpdateTable keeps CreationDateTime, so ownership holds


def test_reusing_a_foreign_table_leaves_its_capacity_alone(client, table_name):
    create_by_hand(client, table_name, read=7, write=6)
    spec = TableSpec.model_validate(
        {
            "name": table_name,
            "attributes": {"pk": "S"},
            "key": {"hash": "pk"},
            "billing_mode": "PROVISIONED",
            "capacity": {"read": 2, "write": 1},
        }
    )

    assert tables.ensure_table(client, spec) == tables.REUSED

    assert throughput(client.describe_table(TableName=table_name)["Table"]) == (7, 6)
