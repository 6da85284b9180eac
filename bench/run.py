"""The request-path benchmark: req/s per core and CPU µs per request for boto3, Locust+boto3 and the fast path.

    .venv/bin/python -m bench.run                       # null endpoint and DynamoDB Local, 3 runs, ~30 min
    .venv/bin/python -m bench.run --targets null --runs 3 --operations GetItem

For each target (the null endpoint of bench/null_endpoint.py, and a fresh DynamoDB Local) and
operation (GetItem, PutItem, Query, ExecuteStatement), every run starts one process per driver:
  a   raw boto3 loop, botocore's default Config, 1 thread             (bench/raw_driver.py)
  a'  raw boto3 loop, the harness's tuned Config, 1 thread
  b   the harness's DynamoDBUser under Locust, client kind boto3, 1 user (bench/locust_driver.py)
  c   the same with client kind fast, 1 user
  c8  the fast path with 8 users (the process saturated)
  f   the fast client in the raw loop of (a), without Locust or gevent
each pinned to CPU 0 while the server is pinned to CPU 1 (when the machine has two). A driver
measures its own CPU time over a window after warm-up: CPU µs per request, and req/s per core =
10^6 / that (what one fully busy core would sustain). Ratios (b/a, c/a) are taken within each
run, then the median over runs is reported, like every other number. Writes bench/results/<UTC>.json
and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import psutil

from bench.workloads import KEY, OPERATIONS, TABLE, stored_item

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
CLIENT_CPU, SERVER_CPU = 0, 1
DRIVERS = {
    "a": ("bench.raw_driver", ["--config", "plain"]),
    "a'": ("bench.raw_driver", ["--config", "harness"]),
    "b": ("bench.locust_driver", ["--kind", "boto3", "--users", "1"]),
    "b8": ("bench.locust_driver", ["--kind", "boto3", "--users", "8"]),
    "c": ("bench.locust_driver", ["--kind", "fast", "--users", "1"]),
    "c8": ("bench.locust_driver", ["--kind", "fast", "--users", "8"]),
    "f": ("bench.raw_driver", ["--config", "fast"]),
}
DESCRIPTIONS = {
    "a": "raw boto3 loop (default Config)",
    "a'": "raw boto3 loop (harness Config)",
    "b": "Locust + harness, boto3, 1 user",
    "b8": "Locust + harness, boto3, 8 users",
    "c": "Locust + harness, fast path, 1 user",
    "c8": "Locust + harness, fast path, 8 users",
    "f": "fast client in a plain loop (no Locust), 1 thread",
}


def pin(pid: int, cpu: int) -> None:
    """Pin every thread of a process to one CPU, when the machine has that CPU."""
    if not hasattr(os, "sched_setaffinity") or cpu >= (os.cpu_count() or 1):
        return
    for thread in psutil.Process(pid).threads():
        try:
            os.sched_setaffinity(thread.id, {cpu})
        except OSError:
            pass


@contextmanager
def null_endpoint():
    """The null endpoint in its own process, pinned to the server CPU; yields (url, pid)."""
    process = subprocess.Popen([sys.executable, "-m", "bench.null_endpoint"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        port = int(process.stdout.readline().split()[1])
        pin(process.pid, SERVER_CPU)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def dynamodb_local():
    """A fresh DynamoDB Local with the bench table and its stored item, pinned to the server CPU."""
    from harness.scenario import ClientSettings
    from harness.target.client import Connection, make_client
    from harness.target.local import start_local

    with tempfile.TemporaryDirectory() as logs:
        server = start_local(log_dir=Path(logs))
        try:
            client = make_client(Connection("us-east-1", server.endpoint), ClientSettings())
            client.create_table(
                TableName=TABLE,
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            client.put_item(TableName=TABLE, Item=stored_item())
            pin(server.process.pid, SERVER_CPU)
            yield server.endpoint, server.process.pid
        finally:
            server.stop()


def run_driver(driver: str, url: str, operation: str, seconds: float, warmup: float, server_pid: int) -> dict:
    """One driver process; its JSON line plus the server's CPU over the driver's whole life."""
    module, extra = DRIVERS[driver]
    command = [sys.executable, "-m", module, "--endpoint", url, "--operation", operation, "--seconds", str(seconds), "--warmup", str(warmup), "--cpu", str(CLIENT_CPU), *extra]
    server = psutil.Process(server_pid)
    pin(server_pid, SERVER_CPU)  # threads a JVM started since
    before = sum(server.cpu_times()[:2])
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=seconds + warmup + 120)
    server_cpu = sum(server.cpu_times()[:2]) - before
    if done.returncode != 0:
        raise RuntimeError(f"{driver} {operation} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["key"] = driver
    result["server_cpu_us_per_req"] = round(server_cpu / result["total_requests"] * 1e6, 1) if result["total_requests"] else None
    result["server_core_share"] = round(server_cpu / result["total_wall_s"], 3)
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(runs: list[dict], drivers: list[str]) -> list[dict]:
    """Median over runs per (target, operation, driver), with ratios to (a) taken within each run."""
    rows = []
    targets = list(dict.fromkeys(r["target"] for r in runs))  # in the order they ran
    keys = sorted({(r["target"], r["operation"]) for r in runs}, key=lambda k: (targets.index(k[0]), OPERATIONS.index(k[1])))
    for target, operation in keys:
        mine = [r for r in runs if r["target"] == target and r["operation"] == operation]
        for driver in drivers:
            samples = [r for r in mine if r["key"] == driver]
            ratios = []
            for sample in samples:
                base = next((r for r in mine if r["key"] == "a" and r["run"] == sample["run"]), None)
                if base:
                    ratios.append(base["cpu_us_per_req"] / sample["cpu_us_per_req"])
            rows.append(
                {
                    "target": target, "operation": operation, "driver": driver, "what": DESCRIPTIONS[driver],
                    "concurrency": samples[0]["concurrency"] if samples else None, "runs": len(samples),
                    "req_per_s": median([s["req_per_s"] for s in samples]),
                    "cpu_us_per_req": median([s["cpu_us_per_req"] for s in samples]),
                    "req_per_core_s": median([s["req_per_core_s"] for s in samples]),
                    "ratio_to_a": median(ratios),
                    "failures": sum(s["failures"] for s in samples),
                    "server_cpu_us_per_req": median([s["server_cpu_us_per_req"] for s in samples if s["server_cpu_us_per_req"] is not None]),
                    "server_core_share": median([s["server_core_share"] for s in samples]),
                }
            )  # fmt: skip
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| target | operation | driver | req/s (wall) | CPU µs/req | req/s per core | × raw boto3 (a) | server CPU µs/req | server core share |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['target']} | {row['operation']} | {row['driver']}: {row['what']} | {row['req_per_s']:,.0f} | {row['cpu_us_per_req']:,.0f} | "
            f"{row['req_per_core_s']:,.0f} | {row['ratio_to_a']:.2f} | {row['server_cpu_us_per_req']:,.0f} | {row['server_core_share']:.0%} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    """What the numbers were measured on."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return {
        "cpu": model, "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
        "versions": {name: version(name) for name in ("boto3", "botocore", "locust", "gevent", "geventhttpclient")},
        "load_average": os.getloadavg(),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", choices=("null", "local"), default=["null", "local"])
    parser.add_argument("--operations", nargs="+", choices=OPERATIONS, default=list(OPERATIONS[:4]), help="default: GetItem PutItem Query ExecuteStatement")
    parser.add_argument("--drivers", nargs="+", choices=list(DRIVERS), default=list(DRIVERS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--show", type=Path, help="print the table of an earlier results file and exit")
    args = parser.parse_args()
    if args.show:
        saved = json.loads(args.show.read_text())
        print(markdown(summarize(saved["runs"], saved["arguments"]["drivers"])))
        return
    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"started": started.isoformat(timespec="seconds"), "machine": machine(), "arguments": {**vars(args), "show": None}}
    runs = []
    for target in args.targets:
        with (null_endpoint() if target == "null" else dynamodb_local()) as (url, pid):
            for run in range(args.runs):
                for operation in args.operations:
                    for driver in args.drivers:
                        result = run_driver(driver, url, operation, args.seconds, args.warmup, pid)
                        result.update(target=target, run=run)
                        runs.append(result)
                        print(f"[{target} run {run + 1}/{args.runs}] {operation:16s} {driver:3s} {result['cpu_us_per_req']:8.1f} CPU µs/req {result['req_per_s']:8.0f} req/s", file=sys.stderr, flush=True)
    info["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["machine"]["load_average_end"] = os.getloadavg()
    rows = summarize(runs, args.drivers)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"request-path-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({**info, "summary": rows, "runs": runs}, indent=1))
    print(markdown(rows))
    print(f"\nmedians of {args.runs} runs; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
