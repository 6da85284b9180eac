"""Items/s of the template dataset generator alone, and of generate + load into a fresh DynamoDB Local.

    .venv/bin/python -m bench.template_generate                         # 1,000,000 generated x 3 per entity, 100,000 loaded, ~4 min
    .venv/bin/python -m bench.template_generate --items 200000 --load-items 20000

The entity is the `user` of a social design (scenarios read by `parse_scenario`, as a run reads a
file): `_user_id` a sequence, `pk: "USER#{_user_id}"`, `sk: PROFILE`, `name: {faker: name}`,
`bio: {text: {length: 200}}`, `followers: {integer: {min: 0, max: 5000}}`; and the same without the
Faker field. Measured:
  generate   `harness.datasets.dataset_items(table)` (what `ddb-harness setup` loads) drained for
             --items items, in this process: items/s (wall) and CPU µs per item. --runs runs per
             entity, the entities alternating; medians.
  load       the same items (with Faker), --load-items of them, through
             `harness.target.loader.load_items` (4 sender threads, BatchWriteItem x25, the fast
             client) into a fresh in-memory DynamoDB Local, as bench/loader_throughput.py does:
             items/s (wall), this process's CPU and the server's.
Writes bench/results/template_generate.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import psutil

from bench.run import REPO, RESULTS, machine
from harness.datasets import dataset_items
from harness.scenario import ClientSettings, parse_scenario
from harness.target.client import Connection, make_client
from harness.target.loader import load_items
from harness.target.local import start_local
from harness.target.tables import ensure_table, item_count

TABLE = "bench-template"
SCENARIO = """
name: bench-template
tables:
  - name: bench-template
    attributes: {pk: S, sk: S}
    key: {hash: pk, range: sk}
    dataset:
      model: template
      seed: 7
      entities:
        - name: user
          count: %d
          attributes:
            _user_id: {sequence: {start: 1}}
            pk: "USER#{_user_id}"
            sk: PROFILE
%s            bio: {text: {length: 200}}
            followers: {integer: {min: 0, max: 5000}}
workload:
  mix:
    - {name: get_user, op: GetItem, table: bench-template, pick: {entity: user}}
"""
ENTITIES = {
    "user": "            name: {faker: name}\n",
    "user_no_faker": "",
}
DESCRIPTIONS = {
    "user": "user: sequence, 2 format strings, constant, faker name, 200-char text, integer",
    "user_no_faker": "user without the faker field",
}


def table_spec(entity: str, items: int):
    """The scenario's table, its dataset `items` users of `entity`'s kind."""
    return parse_scenario(SCENARIO % (items, ENTITIES[entity]), Path(f"{entity}.yaml")).tables[0]


def generate(entity: str, items: int) -> dict:
    """Drain the dataset's items (wire format, as the loader gets them); wall and CPU per item."""
    generated, total = dataset_items(table_spec(entity, items))  # compiles the values (and imports Faker) before the clock
    started, cpu = time.perf_counter(), time.process_time()
    deque(generated, maxlen=0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "entity": entity,
        "items": total,
        "seconds": round(seconds, 2),
        "items_per_s": round(total / seconds),
        "cpu_us_per_item": round(cpu / total * 1e6, 2),
    }


def load(entity: str, items: int, workers: int) -> dict:
    """Generate and load `items` into a fresh DynamoDB Local with the harness's loader and fast client."""
    spec = table_spec(entity, items)
    with tempfile.TemporaryDirectory() as logs:
        server = start_local(log_dir=Path(logs))
        try:
            connection = Connection("us-east-1", server.endpoint)
            control = make_client(connection, ClientSettings(kind="boto3"))
            ensure_table(control, spec)
            client = make_client(connection, ClientSettings(kind="fast"))
            server_process = psutil.Process(server.process.pid)
            server_cpu, own_cpu, started = sum(server_process.cpu_times()[:2]), _own_cpu(), time.perf_counter()
            generated, total = dataset_items(spec)
            loaded = load_items(client, spec.name, generated, total=total, workers=workers, progress=False).items
            seconds = time.perf_counter() - started
            own_cpu, server_cpu = _own_cpu() - own_cpu, sum(server_process.cpu_times()[:2]) - server_cpu
            in_table = item_count(control, spec.name)
        finally:
            server.stop()
    return {
        "entity": entity, "items": loaded, "in_table": in_table, "seconds": round(seconds, 1), "items_per_s": round(loaded / seconds),
        "loader_cpu_s": round(own_cpu, 1), "loader_cpu_us_per_item": round(own_cpu / loaded * 1e6), "server_cpu_s": round(server_cpu, 1),
        "workers": workers,
    }  # fmt: skip


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def markdown(generated: list[dict], loaded: dict | None) -> str:
    lines = [
        "| what | entity | items | seconds | items/s | CPU µs/item | runs |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in generated:
        runs = ", ".join(f"{value:,.0f}" for value in row["round_items_per_s"])
        lines.append(
            f"| generate | {row['entity']} | {row['items']:,} | {row['seconds']:.1f} | {row['items_per_s']:,.0f} | {row['cpu_us_per_item']:.1f} | {runs} items/s |"
        )
    if loaded:
        lines.append(
            f"| generate + load (DynamoDB Local, {loaded['workers']} senders) | {loaded['entity']} | {loaded['items']:,} | {loaded['seconds']:.0f} | "
            f"{loaded['items_per_s']:,.0f} | {loaded['loader_cpu_us_per_item']:,} (server {loaded['server_cpu_s']:.0f} s CPU) | 1 |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items generated per run")
    parser.add_argument("--runs", type=int, default=3, help="generate runs per entity (median taken)")
    parser.add_argument("--load-items", type=int, default=100_000, help="items generated and loaded into DynamoDB Local (0: skip)")
    parser.add_argument("--workers", type=int, default=4, help="the loader's sender threads")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"started": started.isoformat(timespec="seconds"), "machine": machine()}
    runs = []
    for run in range(args.runs):
        for entity in ENTITIES if run % 2 == 0 else reversed(ENTITIES):
            result = generate(entity, args.items)
            result["run"] = run
            runs.append(result)
            print(f"[generate {run + 1}/{args.runs}] {json.dumps(result)}", file=sys.stderr, flush=True)
    rows = []
    for entity in ENTITIES:
        mine = [r for r in runs if r["entity"] == entity]
        rows.append(
            {
                "entity": entity, "what": DESCRIPTIONS[entity], "items": args.items, "runs": len(mine),
                "seconds": statistics.median(r["seconds"] for r in mine),
                "items_per_s": statistics.median(r["items_per_s"] for r in mine),
                "cpu_us_per_item": statistics.median(r["cpu_us_per_item"] for r in mine),
                "round_items_per_s": [r["items_per_s"] for r in mine],
            }
        )  # fmt: skip
    loaded = None
    if args.load_items:
        loaded = load("user", args.load_items, args.workers)
        print(f"[load] {json.dumps(loaded)}", file=sys.stderr, flush=True)
    info["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["machine"]["load_average_end"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "template_generate.json"
    path.write_text(json.dumps({**info, "arguments": vars(args), "generate": rows, "load": loaded, "runs": runs}, indent=1))
    print(markdown(rows, loaded))
    print(f"\ngenerate: medians of {args.runs} runs; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
