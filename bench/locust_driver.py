"""Drivers (b) and (c): the harness's DynamoDBUser under Locust, used as a library, one process.

    .venv/bin/python -m bench.locust_driver --endpoint URL --operation GetItem --kind boto3|fast [--users 1] [--seconds 5]

Users run `DynamoDBUser._call` (the harness's one timing path) around the same request the raw
loop sends, through the process's shared client (`client: {kind: ...}`), with Locust's stats and
the harness's metrics hooks installed as in a real run (`--no-metrics` leaves the hooks out).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import gevent
import locust  # noqa: F401  (first: gevent's monkey-patching)
from locust import constant, task
from locust.env import Environment

from bench.workloads import METHODS, OPERATIONS, TABLE, cpu_seconds, measurement, pin_to, request_maker
from harness.ops.result import OpResult
from harness.run.locust_plugin import RunContext
from harness.scenario import Scenario
from harness.target.client import Connection
from harness.workload.users import DynamoDBUser

REGION = "us-east-1"


def bench_scenario(kind: str, users: int) -> Scenario:
    """A scenario carrying the client settings (its tables and mix only satisfy validation)."""
    return Scenario.model_validate(
        {
            "name": "bench",
            "client": {"kind": kind},
            "tables": [{"name": TABLE, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": 2, "load": "never"}}],
            "workload": {"mix": [{"task": "walk_ring", "table": TABLE}]},
            "load": {"users": users},
        }
    )


def call_operation(client, method: str, request: dict) -> OpResult:
    """One DynamoDB call as an access pattern: its response's metadata in an OpResult."""
    result = OpResult()
    result.absorb(getattr(client, method)(**request))
    return result


def user_class(operation: str):
    """A DynamoDBUser that sends `operation` back to back."""
    method, next_request = METHODS[operation], request_maker(operation)

    class BenchUser(DynamoDBUser):
        wait_time = constant(0)

        @task
        def call(self):
            self._call(operation, "bench", call_operation, method, next_request())

    return BenchUser


def measure_window(environment, seconds: float) -> tuple[int, int, float, float]:
    """(requests, failures, wall seconds, CPU seconds of this process) over the next `seconds` of a running test."""
    stats = environment.stats.total
    requests, failures = stats.num_requests, stats.num_failures
    cpu_start, window_start = cpu_seconds(), time.perf_counter()
    gevent.sleep(seconds)
    window, cpu = time.perf_counter() - window_start, cpu_seconds() - cpu_start
    return stats.num_requests - requests, stats.num_failures - failures, window, cpu


def run(endpoint: str, operation: str, kind: str, users: int, seconds: float, warmup: float, metrics: bool) -> dict:
    """Start `users` users, let them warm up, measure a window of `seconds`, stop."""
    scenario = bench_scenario(kind, users)
    connection = Connection(REGION, endpoint)
    environment = Environment(user_classes=[user_class(operation)])
    environment.harness_run = RunContext(scenario, connection, pool_size=max(users, 10))
    runner = environment.create_local_runner()
    if metrics:
        from harness.metrics.locust_hooks import install

        install(environment, runner, environment.harness_run.client(), scenario, connection)
    started = time.perf_counter()
    runner.start(users, spawn_rate=max(users * 10, 100))
    gevent.sleep(warmup)
    count, failed, window, cpu = measure_window(environment, seconds)
    stats = environment.stats.total
    runner.quit()
    driver = f"locust-{kind}" + ("" if metrics else "-nometrics")
    return measurement(driver, operation, users, count, failed, window, cpu, stats.num_requests, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--operation", choices=OPERATIONS, default="GetItem")
    parser.add_argument("--kind", choices=("boto3", "fast"), default="fast")
    parser.add_argument("--users", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--no-metrics", action="store_true")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args()
    pin_to(args.cpu)
    print(json.dumps(run(args.endpoint, args.operation, args.kind, args.users, args.seconds, args.warmup, not args.no_metrics)))


if __name__ == "__main__":
    main()
