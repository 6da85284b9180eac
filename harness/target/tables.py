"""Tables from the scenario: CreateTable, DescribeTable, UpdateTable and DeleteTable, with ownership rules.

An existing table with the scenario's schema is reused. A different schema is an error unless the
scenario says `recreate: true` and the harness created that table. Nothing here deletes or changes
the capacity of a table the harness did not create.
"""

from __future__ import annotations

import logging

from botocore.exceptions import ClientError

from harness.errors import TableConflict, error_code
from harness.scenario import Capacity, GsiSpec, LsiSpec, Projection, TableSpec
from harness.target import ownership

log = logging.getLogger(__name__)

CREATED, REUSED, RECREATED = "created", "reused", "recreated"
WAIT = {"Delay": 1, "MaxAttempts": 600}


def create_table_request(spec: TableSpec) -> dict:
    """The CreateTable parameters for a table spec."""
    request = {
        "TableName": spec.name,
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind} for name, kind in spec.attributes.items()],
        "KeySchema": _key_schema(spec.key.hash, spec.key.range),
        "BillingMode": spec.billing_mode,
        "Tags": ownership.OWNER_TAGS,
    }
    if spec.capacity:
        request["ProvisionedThroughput"] = _throughput(spec.capacity)
    if spec.gsis:
        request["GlobalSecondaryIndexes"] = [_gsi_request(index) for index in spec.gsis]
    if spec.lsis:
        request["LocalSecondaryIndexes"] = [_lsi_request(index, spec.key.hash) for index in spec.lsis]
    return request


def _key_schema(hash_key: str, range_key: str | None) -> list[dict]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _throughput(capacity: Capacity) -> dict:
    return {"ReadCapacityUnits": capacity.read, "WriteCapacityUnits": capacity.write}


def _projection(projection: Projection) -> dict:
    wire = {"ProjectionType": projection.type}
    if projection.non_key_attributes:
        wire["NonKeyAttributes"] = list(projection.non_key_attributes)
    return wire


def _lsi_request(index: LsiSpec, hash_key: str) -> dict:
    return {"IndexName": index.name, "KeySchema": _key_schema(hash_key, index.range), "Projection": _projection(index.projection)}


def _gsi_request(index: GsiSpec) -> dict:
    request = {"IndexName": index.name, "KeySchema": _key_schema(index.key.hash, index.key.range), "Projection": _projection(index.projection)}
    if index.capacity:
        request["ProvisionedThroughput"] = _throughput(index.capacity)
    return request


def schema_of(description: dict) -> dict:
    """The parts of a table that make its schema, normalised so two descriptions compare equal."""
    billing = description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    schema = {
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in description["AttributeDefinitions"]),
        "key": [(k["AttributeName"], k["KeyType"]) for k in description["KeySchema"]],
        "billing_mode": billing,
        "gsis": _indexes_of(description.get("GlobalSecondaryIndexes", [])),
    }
    if description.get("LocalSecondaryIndexes"):
        schema["lsis"] = _indexes_of(description["LocalSecondaryIndexes"])
    return schema


def _indexes_of(indexes: list[dict]) -> list[tuple]:
    return sorted(
        (
            index["IndexName"],
            tuple((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]),
            index["Projection"]["ProjectionType"],
            tuple(sorted(index["Projection"].get("NonKeyAttributes", []))),
        )
        for index in indexes
    )


def describe(client, name: str) -> dict | None:
    """DescribeTable's Table, or None when there is no such table."""
    try:
        return client.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def ensure_table(client, spec: TableSpec) -> str:
    """Create the table (or reuse/recreate it per the rules) and wait until it is ACTIVE; returns what happened."""
    existing = describe(client, spec.name)
    if existing is None:
        _create(client, spec)
        return CREATED
    wanted = schema_of({**create_table_request(spec), "BillingModeSummary": {"BillingMode": spec.billing_mode}})
    if schema_of(existing) == wanted:
        _match_capacity(client, spec, existing)
        return REUSED
    if not spec.recreate:
        raise TableConflict(
            f"table {spec.name!r} exists with another schema ({_difference(schema_of(existing), wanted)}); "
            "set recreate: true (only honoured for tables the harness created) or use another name"
        )
    if not ownership.is_owned(client, existing):
        raise TableConflict(f"table {spec.name!r} has another schema and was not created by the harness: refusing to recreate it")
    delete_table(client, spec.name, existing)
    _create(client, spec)
    return RECREATED


def _difference(found: dict, wanted: dict) -> str:
    fields = list(dict.fromkeys(list(wanted) + list(found)))
    parts = [f"{field}: found {found.get(field, [])}, scenario wants {wanted.get(field, [])}" for field in fields if found.get(field) != wanted.get(field)]
    return "; ".join(parts)


def _create(client, spec: TableSpec) -> None:
    """CreateTable, wait for ACTIVE, mark as ours."""
    log.info("creating table %s", spec.name)
    client.create_table(**create_table_request(spec))
    client.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig=WAIT)
    ownership.mark_owned(client, describe(client, spec.name))


def _match_capacity(client, spec: TableSpec, existing: dict) -> None:
    """UpdateTable to the scenario's provisioned capacity when the table is ours; otherwise only warn."""
    updates = capacity_updates(spec, existing)
    if not updates:
        return
    if not ownership.is_owned(client, existing):
        log.warning("table %s: capacity differs from the scenario; not changing a table the harness did not create", spec.name)
        return
    client.update_table(TableName=spec.name, **updates)
    client.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig=WAIT)


def capacity_updates(spec: TableSpec, existing: dict) -> dict:
    """UpdateTable arguments that bring provisioned capacity to the scenario's, or {} when it matches."""
    if spec.billing_mode != "PROVISIONED":
        return {}
    updates: dict = {}
    current = existing.get("ProvisionedThroughput", {})
    if (current.get("ReadCapacityUnits"), current.get("WriteCapacityUnits")) != (spec.capacity.read, spec.capacity.write):
        updates["ProvisionedThroughput"] = _throughput(spec.capacity)
    index_updates = []
    for index in existing.get("GlobalSecondaryIndexes", []):
        wanted = spec.gsi(index["IndexName"]).capacity
        have = index.get("ProvisionedThroughput", {})
        if (have.get("ReadCapacityUnits"), have.get("WriteCapacityUnits")) != (wanted.read, wanted.write):
            index_updates.append({"Update": {"IndexName": index["IndexName"], "ProvisionedThroughput": _throughput(wanted)}})
    if index_updates:
        updates["GlobalSecondaryIndexUpdates"] = index_updates
    return updates


def delete_table(client, name: str, description: dict | None = None) -> bool:
    """DeleteTable, only for a table the harness created; waits until it is gone. False if there was none."""
    description = description or describe(client, name)
    if description is None:
        return False
    if not ownership.is_owned(client, description):
        raise TableConflict(f"table {name!r} was not created by the harness: refusing to delete it")
    log.info("deleting table %s", name)
    client.delete_table(TableName=name)
    client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=WAIT)
    ownership.forget(client, name)
    return True


def item_count(client, name: str) -> int:
    """Exact item count with a paginated Select=COUNT Scan (Limit set: DynamoDB Local is slow without it)."""
    total, start = 0, None
    while True:
        kwargs = {"TableName": name, "Select": "COUNT", "Limit": 10_000}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total
