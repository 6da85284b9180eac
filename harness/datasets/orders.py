"""Orders of customers within accounts, for the PartiQL order workload.

Each item is one order. The partition key groups a customer's orders under their account and the
sort key starts with the order status, so "orders of this customer in this status" is a single
Query (or a PartiQL SELECT with begins_with on sk) rather than a Scan.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from harness.scenario import OrdersDataset

ATTRIBUTE_TYPES = OrdersDataset.ATTRIBUTE_TYPES

STATUSES = ("PENDING", "PROCESSED", "SHIPPED", "DELIVERED", "CANCELLED")
USERNAME_COUNT = 10_000
ZIPCODE_RANGE = (10_000, 99_999)
AMOUNT_CENTS_RANGE = (100, 500_000)
YEAR_START = datetime(2021, 1, 1)
SECONDS_IN_YEAR = 365 * 24 * 3600
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def order_pk(account: int, customer: int) -> str:
    """The partition key that holds every order of one customer of one account."""
    return f"ACCOUNT#ACCOUNT{account}#CUSTOMER#CUSTOMER{customer}"


def order_sk(status: str, order_id: str) -> str:
    """The sort key of one order: status first, so a key condition can select orders by status."""
    return f"STATUS#{status}#ORDER#{order_id}"


def random_order(rng: random.Random, accounts: int = 50, customers: int = 50) -> dict:
    """One order item in DynamoDB wire format, every value drawn from rng (no DynamoDB call)."""
    status = rng.choice(STATUSES)
    order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    pk = order_pk(rng.randint(1, accounts), rng.randint(1, customers))
    return {
        "pk": {"S": pk},
        "sk": {"S": order_sk(status, order_id)},
        "zipcode": {"N": str(rng.randint(*ZIPCODE_RANGE))},
        "username": {"S": f"user{rng.randint(1, USERNAME_COUNT)}"},
        "datetime": {"S": _random_time_in_2021(rng)},
        "status": {"S": status},
        "amount": {"N": _dollars(rng.randint(*AMOUNT_CENTS_RANGE))},
    }


def generate_items(size: int, seed: int, accounts: int = 50, customers: int = 50) -> Iterator[dict]:
    """size order items, identical for identical arguments (no DynamoDB call).

    Keys are unique because each sort key holds a fresh 128-bit order id.
    """
    _check_counts(size=size, accounts=accounts, customers=customers)
    rng = random.Random(seed)
    for _ in range(size):
        yield random_order(rng, accounts, customers)


def _random_time_in_2021(rng: random.Random) -> str:
    return (YEAR_START + timedelta(seconds=rng.randrange(SECONDS_IN_YEAR))).strftime(DATETIME_FORMAT)


def _dollars(cents: int) -> str:
    # Built from integer cents so the N value is exact: floats would print 12.5 or 12.499999.
    return f"{cents // 100}.{cents % 100:02d}"


def _check_counts(size: int, accounts: int, customers: int) -> None:
    if size < 0:
        raise ValueError(f"size must be 0 or more, found {size}")
    if accounts < 1 or customers < 1:
        raise ValueError(f"accounts and customers must be 1 or more, found {accounts} and {customers}")
