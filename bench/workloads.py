"""The requests every bench driver sends, so the raw loop and the Locust Users do the same work.

No heavy imports here: the Locust driver must import locust (gevent's monkey-patching) first.
"""

from __future__ import annotations

import itertools
import os
import time

OPERATIONS = ("GetItem", "PutItem", "Query", "ExecuteStatement", "Query10", "BatchWriteItem")
METHODS = {
    "GetItem": "get_item", "PutItem": "put_item", "Query": "query", "ExecuteStatement": "execute_statement",
    "Query10": "query", "BatchWriteItem": "batch_write_item",
}  # fmt: skip
"""Query10: a Query with Limit 10 (the null endpoint answers 10 items; DynamoDB Local has 1 under the key).
BatchWriteItem: 25 new items a request."""
QUERY_LIMIT = 10
BATCH_SIZE = 25
TABLE = "bench"
KEY = "primary_key"
STORED_KEY = "key#1"
"""The item GetItem and Query read (bench/run.py puts it into DynamoDB Local first)."""
PAYLOAD = "x" * 200
INSERT = f"INSERT INTO \"{TABLE}\" VALUE {{'{KEY}': ?, 'status': ?, 'amount': ?}}"


def stored_item() -> dict:
    """The item behind STORED_KEY, as the null endpoint also answers it."""
    return {KEY: {"S": STORED_KEY}, "next_primary_key": {"S": STORED_KEY}, "status": {"S": "SHIPPED"}, "amount": {"N": "125.5"}, "payload": {"S": PAYLOAD}}


def _new_item(key: str) -> dict:
    return {KEY: {"S": key}, "status": {"S": "NEW"}, "amount": {"N": "1"}, "payload": {"S": PAYLOAD}}


def request_maker(operation: str):
    """A function returning the next request's parameters; writes use new keys (unique per process and start time)."""
    token = f"{os.getpid()}-{time.time_ns()}"
    numbers = itertools.count()
    if operation == "GetItem":
        fixed = {"TableName": TABLE, "Key": {KEY: {"S": STORED_KEY}}, "ReturnConsumedCapacity": "INDEXES"}
        return lambda: fixed
    if operation in ("Query", "Query10"):
        fixed = {
            "TableName": TABLE,
            "KeyConditionExpression": f"{KEY} = :key",
            "ExpressionAttributeValues": {":key": {"S": STORED_KEY}},
            "ReturnConsumedCapacity": "INDEXES",
        }
        if operation == "Query10":
            fixed["Limit"] = QUERY_LIMIT
        return lambda: fixed
    if operation == "BatchWriteItem":
        return lambda: {
            "RequestItems": {TABLE: [{"PutRequest": {"Item": _new_item(f"batch#{token}#{next(numbers)}")}} for _ in range(BATCH_SIZE)]},
            "ReturnConsumedCapacity": "INDEXES",
        }
    if operation == "PutItem":
        return lambda: {
            "TableName": TABLE,
            "Item": _new_item(f"put#{token}#{next(numbers)}"),
            "ReturnConsumedCapacity": "INDEXES",
        }
    if operation == "ExecuteStatement":
        return lambda: {
            "Statement": INSERT,
            "Parameters": [{"S": f"stmt#{token}#{next(numbers)}"}, {"S": "NEW"}, {"N": "1"}],
            "ReturnConsumedCapacity": "INDEXES",
        }
    raise ValueError(f"unknown operation {operation!r} (expected one of {', '.join(OPERATIONS)})")


def pin_to(cpu: int | None) -> None:
    """Run this process on one CPU when the machine has it (Linux only)."""
    if cpu is not None and hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def cpu_seconds() -> float:
    """This process's user + system CPU time."""
    times = os.times()
    return times.user + times.system


def measurement(driver: str, operation: str, concurrency: int, window_requests: int, window_failures: int, window_wall: float, window_cpu: float, total_requests: int, total_wall: float) -> dict:
    """One driver run's numbers, as the JSON line drivers print."""
    cpu_us = window_cpu / window_requests * 1e6 if window_requests else float("nan")
    return {
        "driver": driver,
        "operation": operation,
        "concurrency": concurrency,
        "requests": window_requests,
        "failures": window_failures,
        "wall_s": round(window_wall, 3),
        "cpu_s": round(window_cpu, 3),
        "req_per_s": round(window_requests / window_wall, 1),
        "cpu_us_per_req": round(cpu_us, 1),
        "req_per_core_s": round(1e6 / cpu_us, 1) if window_requests else 0.0,
        "total_requests": total_requests,
        "total_wall_s": round(total_wall, 3),
    }
