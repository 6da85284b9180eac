"""1 vs 2 workers: aggregate req/s of a headless `ddb-harness run --workers N` against DynamoDB Local and the null endpoint.

    .venv/bin/python -m bench.workers_scaling                       # both targets, 3 run pairs, 18 s runs, ~6 min
    .venv/bin/python -m bench.workers_scaling --targets null --runs 5
    .venv/bin/python -m bench.workers_scaling --show bench/results/workers-<UTC>.json

The workload is the round-trip ring walk (`scenarios/roundtrip.yaml`: GetItem after GetItem, no
wait) with enough users to saturate the workers (default 32, split between them by Locust). Each
run is the real command line, `ddb-harness run SCENARIO --workers N -u U -r U -t T`, a master plus
N worker processes; its aggregate req/s is the Aggregated row of the run's `locust_stats.csv`
(requests over the run's whole time, ramp-up included). A run pair is one 1-worker run and one
2-worker run back to back (which goes first alternates); the ratio 2w/1w is taken within each
pair, then every number is the median over pairs.

Targets, each one server for the whole session:
- `local`: a fresh in-memory DynamoDB Local (`harness.target.local`), the ring table loaded once before the runs.
  A first, unmeasured 2-worker run per target warms the server (the JVM's JIT) and the OS caches.
- `null`: bench/null_endpoint.py, taught to answer DescribeTable with the ring table so the
  harness's setup finds it ready (GetItem answers name `key#1` as the next key, so users keep walking).
The server's CPU per request is measured from its process, to show whether it was the bottleneck.
Nothing is pinned: the workers need both cores, which they share with the server.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import yaml

from bench.run import REPO, RESULTS, machine

SCENARIO = REPO / "scenarios" / "roundtrip.yaml"
WORKER_COUNTS = (1, 2)
RUN_TIMEOUT_SECONDS = 300

NULL_WITH_TABLE = """
import json, os, sys
from bench import null_endpoint
null_endpoint.BODIES[b"DescribeTable"] = json.loads(os.environ["NULL_DESCRIBE_TABLE"])
sys.argv[1:] = []
null_endpoint.main()
"""
"""The null endpoint, plus a DescribeTable answer (the harness's setup reuses a table whose schema matches)."""


def endpoint_scenario(url: str, folder: Path) -> Path:
    """scenarios/roundtrip.yaml with an endpoint target at `url`."""
    data = yaml.safe_load(SCENARIO.read_text())
    data["target"] = {"kind": "endpoint", "url": url}
    path = folder / "roundtrip-endpoint.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def describe_table_answer() -> dict:
    """DescribeTable's answer for the ring table of roundtrip.yaml: ACTIVE, with the scenario's schema."""
    from harness.scenario import load_scenario
    from harness.target.tables import create_table_request

    request = create_table_request(load_scenario(SCENARIO).tables[0])
    table = {key: request[key] for key in ("TableName", "AttributeDefinitions", "KeySchema")}
    return {"Table": {**table, "TableStatus": "ACTIVE", "BillingModeSummary": {"BillingMode": request["BillingMode"]}, "ItemCount": 200}}


@contextmanager
def null_server():
    """The null endpoint with the ring table; yields (url, pid)."""
    environment = {**os.environ, "NULL_DESCRIBE_TABLE": json.dumps(describe_table_answer())}
    process = subprocess.Popen([sys.executable, "-c", NULL_WITH_TABLE], stdout=subprocess.PIPE, text=True, cwd=REPO, env=environment)
    try:
        port = int(process.stdout.readline().split()[1])
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def local_server(folder: Path):
    """A fresh in-memory DynamoDB Local; yields (url, pid). The ring table is created and loaded by `prepare`."""
    from harness.target.local import start_local

    server = start_local(log_dir=folder)
    try:
        yield server.endpoint, server.process.pid
    finally:
        server.stop()


def prepare(scenario: Path) -> None:
    """Create and load the ring table once (`ddb-harness setup`), so every measured run reuses it."""
    done = subprocess.run([sys.executable, "-m", "harness.cli", "setup", str(scenario)], capture_output=True, text=True, cwd=REPO, timeout=RUN_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"setup failed:\n{done.stderr[-3000:]}")


def aggregated_row(stats_csv: Path) -> dict:
    """The Aggregated row of a Locust stats CSV."""
    with open(stats_csv, newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


def run_once(scenario: Path, workers: int, users: int, run_time: str, server_pid: int, folder: Path, extra: tuple[str, ...] = ()) -> dict:
    """One headless `ddb-harness run --workers N` (plus `extra` options); the Aggregated row's numbers and the server's CPU."""
    results = folder / f"results-{time.time_ns()}"
    command = [
        sys.executable, "-m", "harness.cli", "run", str(scenario), "--workers", str(workers),
        "-u", str(users), "-r", str(users), "-t", run_time, "--results-dir", str(results), *extra,
    ]  # fmt: skip
    server = psutil.Process(server_pid)
    load_average = os.getloadavg()[0]
    before = sum(server.cpu_times()[:2])
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=RUN_TIMEOUT_SECONDS)
    wall = time.monotonic() - started
    server_cpu = sum(server.cpu_times()[:2]) - before
    if done.returncode != 0:
        raise RuntimeError(f"--workers {workers} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    (run_dir,) = [path for path in results.iterdir() if path.is_dir()]
    row = aggregated_row(run_dir / "locust_stats.csv")
    requests = int(row["Request Count"])
    return {
        "workers": workers,
        "users": users,
        "requests": requests,
        "failures": int(row["Failure Count"]),
        "req_per_s": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]) if row.get("50%") not in (None, "", "N/A") else None,
        "command_wall_s": round(wall, 2),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_us_per_req": round(server_cpu / requests * 1e6, 1) if requests else None,
        "load_average_1m_before": load_average,
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(runs: list[dict]) -> list[dict]:
    """Per target: medians over run pairs of each worker count's req/s, and of the 2w/1w ratio within each pair."""
    rows = []
    for target in dict.fromkeys(run["target"] for run in runs):
        mine = [run for run in runs if run["target"] == target]
        by_pair = {}
        for run in mine:
            by_pair.setdefault(run["pair"], {})[run["workers"]] = run
        ratios = [pair[2]["req_per_s"] / pair[1]["req_per_s"] for pair in by_pair.values() if 1 in pair and 2 in pair and pair[1]["req_per_s"]]
        row = {"target": target, "pairs": len(by_pair), "ratio_2w_1w": median(ratios), "ratios": [round(ratio, 3) for ratio in ratios]}
        for workers in WORKER_COUNTS:
            samples = [run for run in mine if run["workers"] == workers]
            row[f"req_per_s_{workers}w"] = median([run["req_per_s"] for run in samples])
            row[f"server_cpu_us_per_req_{workers}w"] = median([run["server_cpu_us_per_req"] for run in samples if run["server_cpu_us_per_req"] is not None])
            row[f"failures_{workers}w"] = sum(run["failures"] for run in samples)
        rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| target | req/s, 1 worker | req/s, 2 workers | 2w/1w (median of pairs) | pair ratios | server CPU µs/req (1w / 2w) | failures |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        ratios = ", ".join(f"{ratio:.2f}" for ratio in row["ratios"])
        lines.append(
            f"| {row['target']} | {row['req_per_s_1w']:,.0f} | {row['req_per_s_2w']:,.0f} | {row['ratio_2w_1w']:.2f} | {ratios} | "
            f"{row['server_cpu_us_per_req_1w']:,.0f} / {row['server_cpu_us_per_req_2w']:,.0f} | {row['failures_1w'] + row['failures_2w']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", choices=("local", "null"), default=["local", "null"])
    parser.add_argument("--runs", type=int, default=3, help="run pairs (one 1-worker and one 2-worker run each) per target")
    parser.add_argument("--run-time", default="18s")
    parser.add_argument("--users", type=int, default=32, help="users in total, split between the workers")
    parser.add_argument("--warmup-run-time", default="8s", help="one unmeasured 2-worker run per target first (DynamoDB Local's JIT); 0 to skip")
    parser.add_argument("--show", type=Path, help="print the table of an earlier results file and exit")
    args = parser.parse_args()
    if args.show:
        print(markdown(json.loads(args.show.read_text())["summary"]))
        return
    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"started": started.isoformat(timespec="seconds"), "machine": machine(), "arguments": {**vars(args), "show": None}}
    runs = []
    with tempfile.TemporaryDirectory(prefix="workers-scaling-") as temporary:
        folder = Path(temporary)
        for target in args.targets:
            with (null_server() if target == "null" else local_server(folder)) as (url, pid):
                scenario = endpoint_scenario(url, folder)
                if target == "local":
                    prepare(scenario)
                if args.warmup_run_time not in ("0", "0s"):
                    run_once(scenario, max(WORKER_COUNTS), args.users, args.warmup_run_time, pid, folder)
                for pair in range(args.runs):
                    order = WORKER_COUNTS if pair % 2 == 0 else tuple(reversed(WORKER_COUNTS))  # alternate who goes first
                    for workers in order:
                        result = run_once(scenario, workers, args.users, args.run_time, pid, folder)
                        result.update(target=target, pair=pair)
                        runs.append(result)
                        print(f"[{target} pair {pair + 1}/{args.runs}] {workers} worker(s): {result['req_per_s']:8.0f} req/s, {result['failures']} failures, load {result['load_average_1m_before']:.1f}", file=sys.stderr, flush=True)
    info["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["machine"]["load_average_end"] = os.getloadavg()
    rows = summarize(runs)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"workers-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({**info, "summary": rows, "runs": runs}, indent=1))
    print(markdown(rows))
    print(f"\nmedians of {args.runs} run pairs; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
