"""What the gate knows about a table: keys, GSIs and their projections, capacity; read from a TableDescription.

The gate learns tables from the CreateTable answers passing through it and, for any other table
or after an UpdateTable, from its own DescribeTable to the server (wire JSON, not boto3 objects).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.gate.buckets import Limits, TableLimits

# DynamoDB's value for "no maximum" in OnDemandThroughput.
NO_MAXIMUM = -1


@dataclass(frozen=True)
class IndexInfo:
    """A global secondary index: its key attribute names and which attributes it projects."""

    name: str
    arn: str
    hash_key: str
    range_key: str | None
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: frozenset[str]
    limits: Limits

    def key_names(self) -> tuple[str, ...]:
        """The index key attribute names, hash first."""
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)


@dataclass(frozen=True)
class TableInfo:
    """A table as the gate needs it: key names, GSIs (by name), LSI names, capacity."""

    name: str
    arn: str
    hash_key: str
    range_key: str | None
    gsis: dict[str, IndexInfo]
    lsis: frozenset[str]
    limits: Limits

    def key_names(self) -> tuple[str, ...]:
        """The table key attribute names, hash first."""
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def table_limits(self) -> TableLimits:
        """The capacity model's view of this table."""
        return TableLimits(self.limits, tuple(index.limits for index in self.gsis.values()))


def table_info(description: dict) -> TableInfo:
    """A TableInfo from DescribeTable's `Table` (or CreateTable's `TableDescription`) wire JSON."""
    name = description["TableName"]
    arn = description.get("TableArn") or f"arn:aws:dynamodb:local:000000000000:table/{name}"
    on_demand = description.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST" or _unprovisioned(description)
    hash_key, range_key = _keys(description["KeySchema"])
    gsis = {}
    for index in description.get("GlobalSecondaryIndexes", []):
        index_arn = index.get("IndexArn") or f"{arn}/index/{index['IndexName']}"
        index_hash, index_range = _keys(index["KeySchema"])
        projection = index.get("Projection", {})
        gsis[index["IndexName"]] = IndexInfo(
            name=index["IndexName"],
            arn=index_arn,
            hash_key=index_hash,
            range_key=index_range,
            projection=projection.get("ProjectionType", "ALL"),
            included=frozenset(projection.get("NonKeyAttributes", [])),
            limits=_limits(index["IndexName"], index_arn, index, on_demand),
        )
    lsis = frozenset(index["IndexName"] for index in description.get("LocalSecondaryIndexes", []))
    return TableInfo(name, arn, hash_key, range_key, gsis, lsis, _limits(name, arn, description, on_demand))


def _unprovisioned(description: dict) -> bool:
    """No capacity at all: a server that leaves BillingModeSummary out for on-demand tables (moto)."""
    throughput = description.get("ProvisionedThroughput", {})
    return not throughput.get("ReadCapacityUnits") and not throughput.get("WriteCapacityUnits")


def _keys(schema: list[dict]) -> tuple[str, str | None]:
    hash_key = next(key["AttributeName"] for key in schema if key["KeyType"] == "HASH")
    range_key = next((key["AttributeName"] for key in schema if key["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def _limits(name: str, arn: str, description: dict, on_demand: bool) -> Limits:
    if on_demand:
        maxima = description.get("OnDemandThroughput", {})
        return Limits(name, arn, max_read=_maximum(maxima.get("MaxReadRequestUnits")), max_write=_maximum(maxima.get("MaxWriteRequestUnits")))
    throughput = description.get("ProvisionedThroughput", {})
    return Limits(name, arn, read=float(throughput.get("ReadCapacityUnits", 0)), write=float(throughput.get("WriteCapacityUnits", 0)))


def _maximum(value: object) -> float | None:
    if value is None or value == NO_MAXIMUM:
        return None
    return float(value)
