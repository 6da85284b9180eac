"""Bulk-load throughput: the harness's loader against a plain single-process boto3 batch_writer loop.

    .venv/bin/python -m bench.loader_throughput                  # 1,000,000 items + 200,000-item comparison
    .venv/bin/python -m bench.loader_throughput --items 200000 --compare-items 50000

Every measurement gets a fresh DynamoDB Local (in memory) and the logfile table of
scenarios/logfile_sharded_gsi.yaml (GSI_1 included), loaded with synthetic logfile items
(seed 4, 10 shards). Measured:
  harness-<kind> N   harness.target.loader.load_items (4 sender threads, BatchWriteItem x25) with the
                     harness's client (`client.kind` boto3 or fast), for --items and for --compare-items
  batch_writer       boto3's Table.batch_writer() in one loop, one thread, for --compare-items
items/s is wall-clock; CPU seconds are the loading process's and the server's. The ratio is taken
on the same item count. Writes bench/results/loader-<UTC>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import boto3
import psutil

from bench.run import RESULTS, machine
from harness.datasets import logfile
from harness.scenario import ClientSettings, load_scenario
from harness.target.client import Connection, make_client
from harness.target.loader import load_items
from harness.target.local import start_local
from harness.target.tables import ensure_table, item_count

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "logfile_sharded_gsi.yaml"
SEED, SHARDS = 4, 10


def measure(kind: str, items: int, workers: int) -> dict:
    """Load `items` logfile items into a fresh DynamoDB Local with `kind` (harness-boto3, harness-fast, batch_writer)."""
    spec = load_scenario(SCENARIO).tables[0]
    with tempfile.TemporaryDirectory() as logs:
        server = start_local(log_dir=Path(logs))
        try:
            connection = Connection("us-east-1", server.endpoint)
            control = make_client(connection, ClientSettings())
            ensure_table(control, spec)
            server_process = psutil.Process(server.process.pid)
            server_cpu, own_cpu, started = sum(server_process.cpu_times()[:2]), _own_cpu(), time.perf_counter()
            if kind == "batch_writer":
                loaded = _batch_writer(server.endpoint, spec.name, items)
            else:
                client = make_client(connection, ClientSettings(kind=kind.removeprefix("harness-")))
                loaded = load_items(client, spec.name, logfile.generate_items(items, SEED, SHARDS), total=items, workers=workers, progress=False).items
            seconds = time.perf_counter() - started
            result = {
                "kind": kind, "items": loaded, "seconds": round(seconds, 1), "items_per_s": round(loaded / seconds, 1),
                "loader_cpu_s": round(_own_cpu() - own_cpu, 1), "server_cpu_s": round(sum(server_process.cpu_times()[:2]) - server_cpu, 1),
                "in_table": item_count(control, spec.name), "workers": 1 if kind == "batch_writer" else workers,
            }  # fmt: skip
        finally:
            server.stop()
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def _batch_writer(endpoint: str, table: str, items: int) -> int:
    """The baseline most people write: boto3's batch_writer in one loop, one thread.

    The dataset is already in DynamoDB's wire format, so batch_writer's buffering and re-sending
    of unprocessed items run on a plain client (no resource-layer type conversion): the fastest
    form of the baseline, which makes the ratio conservative.
    """
    from boto3.dynamodb.table import BatchWriter

    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="local", aws_secret_access_key="local")
    count = 0
    with BatchWriter(table, client) as writer:
        for item in logfile.generate_items(items, SEED, SHARDS):
            writer.put_item(Item=item)
            count += 1
    return count


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--compare-items", type=int, default=200_000)
    parser.add_argument("--kind", choices=("boto3", "fast"), default="fast", help="client kind of the big harness load")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    results = [
        measure("batch_writer", args.compare_items, 1),
        measure("harness-boto3", args.compare_items, args.workers),
        measure("harness-fast", args.compare_items, args.workers),
    ]
    if args.items:
        results.append(measure(f"harness-{args.kind}", args.items, args.workers))
    baseline = results[0]["items_per_s"]
    for result in results:
        result["ratio_to_batch_writer_same_n"] = round(result["items_per_s"] / baseline, 2) if result["items"] == results[0]["items"] else None
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"loader-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({"started": started.isoformat(timespec="seconds"), "machine": machine(), "arguments": vars(args), "results": results}, indent=1))
    print("| loader | items | seconds | items/s | × batch_writer (same N) | loader CPU s | DynamoDB Local CPU s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        ratio = f"{r['ratio_to_batch_writer_same_n']:.2f}" if r["ratio_to_batch_writer_same_n"] is not None else "-"
        print(f"| {r['kind']} | {r['items']:,} | {r['seconds']:,.0f} | {r['items_per_s']:,.0f} | {ratio} | {r['loader_cpu_s']:,.0f} | {r['server_cpu_s']:,.0f} |")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
