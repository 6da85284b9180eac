"""A ring of items, each naming the next: a chain of dependent GetItem calls (round-trip latency).

Following next_primary_key from any item visits every item once and comes back to it, so a
walker can start anywhere and never hit a missing key.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

from harness.scenario import RingDataset

ATTRIBUTE_TYPES = RingDataset.ATTRIBUTE_TYPES

MIN_SIZE = 2


def ring_keys(size: int, seed: int) -> list[str]:
    """The ring's primary keys in walk order; ring_keys(...)[0] is the conventional start (no DynamoDB call)."""
    _check_size(size)
    rng = random.Random(seed)
    return [_new_key(rng) for _ in range(size)]


def generate_items(size: int, seed: int) -> Iterator[dict]:
    """The ring's items in walk order, in DynamoDB wire format (no DynamoDB call).

    Keys come from the same draws as ring_keys(size, seed), one at a time, so a ring of millions
    is never held in memory: only the first key is kept, to close the cycle.
    """
    _check_size(size)
    rng = random.Random(seed)
    first_key = current_key = _new_key(rng)
    for _ in range(size - 1):
        next_key = _new_key(rng)
        yield _ring_item(current_key, next_key)
        current_key = next_key
    yield _ring_item(current_key, first_key)


def _ring_item(primary_key: str, next_primary_key: str) -> dict:
    return {"primary_key": {"S": primary_key}, "next_primary_key": {"S": next_primary_key}}


def _new_key(rng: random.Random) -> str:
    # 122 random bits: a repeat (which would split the ring) is too unlikely to guard against.
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _check_size(size: int) -> None:
    if size < MIN_SIZE:
        raise ValueError(f"a ring needs at least {MIN_SIZE} items, found {size}")
