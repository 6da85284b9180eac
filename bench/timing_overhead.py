"""What the harness adds to each measured latency, in microseconds (a benchmark, not a test).

    .venv/bin/python -m bench.timing_overhead [--calls 100000] [--runs 7]

`DynamoDBUser._call` reads perf_counter, runs the access pattern, reads perf_counter again, then
classifies and fires the request event. Only what happens between the two clock reads is in the
latency Locust records; the rest costs CPU but no latency. With a stub client that answers
instantly (a canned GetItem response), this prints, as medians of the runs:
  in the latency:  recorded response time of `_call` minus the bare stub call, for a
                   no-op pattern and for get_ring_item (OpResult bookkeeping included), and
                   the harness's attempt listener, which runs inside the client call
  per call CPU:    the whole `_call` (event fired, Locust's stats and the harness's metrics
                   listeners attached) minus the bare pattern call
"""

from __future__ import annotations

import argparse
import statistics
import time

import locust  # noqa: F401  (gevent's monkey-patching first, as in a real run)
from locust.env import Environment

from bench.locust_driver import bench_scenario
from harness.metrics.locust_hooks import install as install_metrics
from harness.ops.result import OpResult
from harness.ops.ring import get_ring_item
from harness.run.locust_plugin import RunContext
from harness.target.client import Connection
from harness.workload.users import DynamoDBUser

RESPONSE = {
    "Item": {"primary_key": {"S": "k"}, "next_primary_key": {"S": "k"}},
    "ConsumedCapacity": {"TableName": "bench", "CapacityUnits": 0.5},
    "ResponseMetadata": {"RequestId": "R", "HTTPStatusCode": 200, "HTTPHeaders": {"content-length": "120"}, "RetryAttempts": 0},
}


class InstantClient:
    """A client whose GetItem answers at once with a canned response, calling attempt listeners as the fast client does."""

    def __init__(self):
        self.listeners = []

    def add_attempt_listener(self, listener) -> None:
        self.listeners.append(listener)

    def get_item(self, **params):
        for listener in self.listeners:
            listener("GetItem", params, RESPONSE, 200)
        return RESPONSE


def no_op(client) -> OpResult:
    return OpResult()


class Probe(DynamoDBUser):
    abstract = True


def make_user(metrics: bool) -> Probe:
    scenario = bench_scenario("boto3", 1)
    environment = Environment(user_classes=[Probe])
    environment.harness_run = RunContext(scenario, Connection("us-east-1", "http://127.0.0.1:1"), pool_size=1)
    runner = environment.create_local_runner()  # attaches Locust's stats listener to the request event
    user = Probe(environment)
    user.client = InstantClient()
    if metrics:
        install_metrics(environment, runner, user.client, scenario, environment.harness_run.connection)
    return user


def recorded_us(user: Probe, calls: int, operation, *args) -> float:
    """Mean response time `_call` recorded, in µs."""
    total = 0.0
    for _ in range(calls):
        total += user._call("GetItem", "probe", operation, *args).elapsed_ms
    return total / calls * 1000


def per_call_us(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def one_run(calls: int) -> dict:
    user, with_metrics = make_user(False), make_user(True)
    client = user.client
    bare_stub = per_call_us(lambda: client.get_item(TableName="bench", Key={}), calls)
    bare_stub_listened = per_call_us(lambda: with_metrics.client.get_item(TableName="bench", Key={}), calls)
    bare_ring = per_call_us(lambda: get_ring_item(client, "bench", "k"), calls)
    bare_no_op = per_call_us(lambda: no_op(client), calls)
    return {
        "clock: perf_counter pair": per_call_us(lambda: time.perf_counter() - time.perf_counter(), calls),
        "in latency: _call around a no-op pattern": recorded_us(user, calls, no_op),
        "in latency: _call around get_ring_item, minus the bare client call": recorded_us(user, calls, get_ring_item, "bench", "k") - bare_stub,
        "in latency: the metrics attempt listener (called inside the client call)": bare_stub_listened - bare_stub,
        "CPU per call: _call (Locust stats) minus the bare pattern": per_call_us(lambda: user._call("GetItem", "probe", get_ring_item, "bench", "k"), calls) - bare_ring,
        "CPU per call: _call (Locust stats + harness metrics) minus the bare pattern": per_call_us(lambda: with_metrics._call("GetItem", "probe", get_ring_item, "bench", "k"), calls) - bare_ring,
        "CPU per call: _call of a no-op pattern, minus the bare no-op": per_call_us(lambda: user._call("GetItem", "probe", no_op), calls) - bare_no_op,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = [one_run(args.calls) for _ in range(args.runs)]
    for label in runs[0]:
        values = [run[label] for run in runs]
        print(f"{label:78s} {statistics.median(values):6.2f} µs  (median of {args.runs}; min {min(values):.2f}, max {max(values):.2f})")


if __name__ == "__main__":
    main()
