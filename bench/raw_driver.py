"""Driver (a): a plain boto3 loop, one thread, no Locust: the baseline every ratio divides by.

    .venv/bin/python -m bench.raw_driver --endpoint URL --operation GetItem [--seconds 5] [--config plain|harness|fast]

`--config plain` (the default) is boto3 as most load tests use it: `boto3.client("dynamodb")`
with botocore's default Config; `harness` is boto3 with the harness's tuned Config; `fast` the
harness's fast client in the same loop, without Locust or gevent. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.workloads import METHODS, OPERATIONS, cpu_seconds, measurement, pin_to, request_maker


def make_boto3_client(endpoint: str, config: str, region: str = "us-east-1"):
    """A boto3 DynamoDB client to `endpoint` with dummy credentials."""
    import boto3

    if config in ("harness", "fast"):
        from harness.scenario import ClientSettings
        from harness.target.client import Connection, make_client

        return make_client(Connection(region, endpoint), ClientSettings(kind="boto3" if config == "harness" else "fast"), pool=1)
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint, aws_access_key_id="local", aws_secret_access_key="local")


def run(endpoint: str, operation: str, seconds: float, warmup: float, config: str) -> dict:
    """Call the operation in a loop: `warmup` seconds, then a measured window of `seconds`."""
    client = make_boto3_client(endpoint, config)
    call = getattr(client, METHODS[operation])
    next_request = request_maker(operation)
    started = time.perf_counter()
    total = 0
    while time.perf_counter() - started < warmup:
        call(**next_request())
        total += 1
    cpu_start, window_start, count = cpu_seconds(), time.perf_counter(), 0
    while time.perf_counter() - window_start < seconds:
        call(**next_request())
        count += 1
    window, cpu = time.perf_counter() - window_start, cpu_seconds() - cpu_start
    total += count
    return measurement(f"raw-{config}", operation, 1, count, 0, window, cpu, total, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--operation", choices=OPERATIONS, default="GetItem")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--config", choices=("plain", "harness", "fast"), default="plain")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args()
    pin_to(args.cpu)
    print(json.dumps(run(args.endpoint, args.operation, args.seconds, args.warmup, args.config)))


if __name__ == "__main__":
    main()
