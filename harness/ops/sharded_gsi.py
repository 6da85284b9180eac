"""Write-sharded GSI reads: one Query per shard key shard#1..shard#N, run concurrently, counts merged."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from harness.ops.concurrency import run_parallel
from harness.ops.result import OpResult


@dataclass
class ShardedCount:
    """Matching items in total and per shard key."""

    total: int = 0
    per_shard: dict[str, int] = field(default_factory=dict)


def shard_keys(shards: int, prefix: str = "shard#") -> list[str]:
    """The shard key values a writer spreading over `shards` shards uses: prefix1..prefixN."""
    return [f"{prefix}{number}" for number in range(1, shards + 1)]


def sharded_gsi_query(
    client,
    table: str,
    index: str,
    shard_attribute: str,
    sort_attribute: str,
    shards: int,
    shard_prefix: str = "shard#",
    sort_prefix: str = "",
    page_limit: int | None = None,
) -> OpResult:
    """Query `index` once per shard key (Select=COUNT, begins_with on the sort key), all pages; value is ShardedCount.

    May raise ClientError ProvisionedThroughputExceededException or ValidationException.
    """
    request = {
        "TableName": table,
        "IndexName": index,
        "Select": "COUNT",
        "ExpressionAttributeNames": {"#shard": shard_attribute},
        "ReturnConsumedCapacity": "INDEXES",
    }
    condition = "#shard = :shard"
    if sort_prefix:
        condition += " AND begins_with(#sort, :prefix)"
        request["ExpressionAttributeNames"]["#sort"] = sort_attribute
    request["KeyConditionExpression"] = condition
    if page_limit:
        request["Limit"] = page_limit
    query_one = partial(_count_shard, client, request, sort_prefix)
    result = OpResult(value=ShardedCount())
    for key, part in zip(shard_keys(shards, shard_prefix), run_parallel(query_one, shard_keys(shards, shard_prefix)), strict=False):
        result.merge(part)
        result.value.per_shard[key] = part.value
        result.value.total += part.value
    result.aggregate = result.value.total
    return result


def _count_shard(client, request: dict, sort_prefix: str, shard_key: str) -> OpResult:
    """Every page of the Query for one shard key; value is the count."""
    values = {":shard": {"S": shard_key}}
    if sort_prefix:
        values[":prefix"] = {"S": sort_prefix}
    result, start = OpResult(value=0), None
    while True:
        page_request = {**request, "ExpressionAttributeValues": values}
        if start:
            page_request["ExclusiveStartKey"] = start
        page = result.absorb(client.query(**page_request))
        result.value += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return result
