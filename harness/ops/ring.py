"""Round-trip chain gets: each item names the key of the next; GetItem after GetItem around the ring."""

from __future__ import annotations

from harness.ops.result import OpResult

KEY = "primary_key"
NEXT_KEY = "next_primary_key"


class BrokenRing(LookupError):
    """A ring item is missing or names no next key."""


def get_ring_item(client, table: str, key: str) -> OpResult:
    """GetItem on one ring key; the result's value is the next key. BrokenRing if the item is missing."""
    result = OpResult()
    response = result.absorb(
        client.get_item(TableName=table, Key={KEY: {"S": key}}, ReturnConsumedCapacity="INDEXES")
    )
    item = response.get("Item")
    if item is None or NEXT_KEY not in item:
        raise BrokenRing(f"ring item {key!r} is missing from {table} or has no {NEXT_KEY}")
    result.value = item[NEXT_KEY]["S"]
    return result


def walk_ring(client, table: str, start_key: str, steps: int) -> OpResult:
    """`steps` GetItem calls following next_primary_key from start_key; the value is the key reached."""
    result = OpResult(value=start_key)
    for _ in range(steps):
        step = get_ring_item(client, table, result.value)
        result.merge(step)
        result.value = step.value
    return result
