"""The open model on the null endpoint: does the schedule hold, how late do starts begin, what does it cost?

    .venv/bin/python -m bench.open_model                          # both parts, 3 rounds, ~7 min
    .venv/bin/python -m bench.open_model --part schedule --rounds 1
    .venv/bin/python -m bench.open_model --show bench/results/open-model-<UTC>.json

- `schedule`: `load.rate` of 100, 1,000 and 3,000 task starts/s (one GetItem each), a pool of 32
  users, a master and 1 or 2 `--worker` processes, 12 s each. From the run's harness_schedule.csv:
  intended and achieved starts/s, the share of late starts (more than 10 ms after their intended time)
  and the median over seconds of each second's worst lag, all over the whole seconds after a 2 s
  warm-up; from harness_open_model.json: the start lag's p50 and p99 over the whole run.
- `cpu`: one standalone Locust process at 1,000 GetItem/s, open model (`rate: 1000`, 32 users) vs
  closed model (32 users at `constant_throughput: 31.25`), 12 s, alternating; CPU time of the Locust process
  (user + system) from test start to test stop, divided by the requests in that window. The ratio
  open/closed is taken within each pair, then the median over pairs.

The null endpoint (bench/null_endpoint.py) runs in its own process; nothing is pinned (the workers
need both cores). Every number is a median over rounds.
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
from pathlib import Path

import yaml

from bench.run import REPO, RESULTS, machine
from harness.target.local import free_port

RATES = (100, 1000, 3000)
WORKER_COUNTS = (1, 2)
USERS = 32
RUN_SECONDS = 12
WARM_UP_SECONDS = 2
"""Whole seconds left out of the steady-state numbers: processes start, 32 users connect."""
CPU_RATE = 1000
TIMEOUT_SECONDS = 120

CPU_WINDOW_LOCUSTFILE = """
import json, time
from locust import events
from locustfiles.scenario import MixUser  # noqa: F401  (the harness's users and hooks)

started = {}

@events.test_start.add_listener
def _start(**_):
    started["cpu"] = time.process_time()

@events.test_stopping.add_listener
def _stopping(environment, **_):
    window = {"cpu_s": time.process_time() - started["cpu"], "requests": environment.stats.total.num_requests}
    print("CPU_WINDOW " + json.dumps(window), flush=True)
"""
"""The scenario's locustfile plus the CPU time of the load window, printed when the test stops."""


def scenario(folder: Path, url: str, load: dict) -> Path:
    """One GetItem step against the null endpoint (answers any key with the same item)."""
    data = {
        "name": "open-model-bench",
        "target": {"kind": "endpoint", "url": url},
        "tables": [{"name": "bench", "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}}],
        "workload": {"mix": [{"name": "read", "op": "GetItem", "table": "bench", "key": {"primary_key": "key#1"}}]},
        "load": {"users": USERS, "spawn_rate": USERS, "run_time": f"{RUN_SECONDS}s", **load},
    }
    path = folder / f"scenario-{time.time_ns()}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def null_endpoint() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "bench.null_endpoint"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    port = int(process.stdout.readline().split()[1])
    return process, f"http://127.0.0.1:{port}"


def locust_base(path: Path, locustfile: Path | None = None) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(locustfile or REPO / "locustfiles" / "scenario.py"), "--scenario", str(path), "--skip-setup"]


def schedule_run(url: str, rate: int, workers: int, folder: Path) -> dict:
    """A master and `workers` workers at `rate`; the schedule's numbers."""
    run_dir = folder / f"run-{rate}-{workers}-{time.time_ns()}"
    run_dir.mkdir()
    path = scenario(folder, url, {"rate": rate})
    port = free_port()
    master = subprocess.Popen(
        locust_base(path) + ["--headless", "--csv", str(run_dir / "locust"), "--master", "--master-bind-port", str(port), "--expect-workers", str(workers)],
        cwd=run_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    children = [subprocess.Popen(locust_base(path) + ["--worker", "--master-port", str(port)], cwd=run_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        if master.wait(TIMEOUT_SECONDS) != 0:
            raise RuntimeError(f"rate {rate}, {workers} workers: master exited {master.returncode}")
    finally:
        for child in children:
            child.wait(30)
    info = json.loads((run_dir / "harness_open_model.json").read_text())
    with open(run_dir / "harness_schedule.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[1 + WARM_UP_SECONDS : -1]  # whole seconds after the warm-up
    seconds = len(rows)
    steady_starts = sum(int(row["starts"]) for row in rows)
    return {
        "rate": rate,
        "workers": workers,
        "intended_per_s": sum(int(row["intended_starts"]) for row in rows) / seconds,
        "achieved_per_s": steady_starts / seconds,
        "steady_late_share": sum(int(row["late_starts"]) for row in rows) / max(steady_starts, 1),
        "steady_worst_lag_median_ms": statistics.median(float(row["worst_lag_ms"]) for row in rows),
        "late_share": info["late_starts"] / max(info["starts"], 1),
        "unstarted_at_end": info["unstarted_at_end"],
        "lag_p50_ms": info["start_lag_ms"]["p50"],
        "lag_p99_ms": info["start_lag_ms"]["p99"],
        "worst_lag_ms": info["worst_lag_ms"],
        "load_average": os.getloadavg()[0],
    }


def cpu_run(url: str, model: str, folder: Path) -> dict:
    """One standalone Locust process at CPU_RATE, open or closed model: CPU µs per request over the load window."""
    load = {"rate": CPU_RATE} if model == "open" else {"wait_time": {"constant_throughput": CPU_RATE / USERS}}
    locustfile = folder / "cpu_window_locustfile.py"
    locustfile.write_text(CPU_WINDOW_LOCUSTFILE)
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        locust_base(scenario(folder, url, load), locustfile) + ["--headless", "--only-summary"],
        capture_output=True, text=True, cwd=folder, env=environment, timeout=TIMEOUT_SECONDS,
    )  # fmt: skip
    line = next((line for line in done.stdout.splitlines() + done.stderr.splitlines() if line.startswith("CPU_WINDOW ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{model} model run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    window = json.loads(line.split(" ", 1)[1])
    return {"model": model, "requests": window["requests"], "cpu_us_per_request": window["cpu_s"] * 1e6 / window["requests"], "req_per_s": window["requests"] / RUN_SECONDS}  # the window is the run time


def summarize_schedule(runs: list[dict]) -> list[dict]:
    rows = []
    for rate in RATES:
        for workers in WORKER_COUNTS:
            mine = [run for run in runs if run["rate"] == rate and run["workers"] == workers]
            if mine:
                rows.append({"rate": rate, "workers": workers, **{key: statistics.median(run[key] for run in mine) for key in mine[0] if key not in ("rate", "workers")}})
    return rows


def summarize_cpu(pairs: list[tuple[dict, dict]]) -> dict:
    return {
        "open_cpu_us_per_request": statistics.median(open_run["cpu_us_per_request"] for open_run, _ in pairs),
        "closed_cpu_us_per_request": statistics.median(closed["cpu_us_per_request"] for _, closed in pairs),
        "open_over_closed": statistics.median(open_run["cpu_us_per_request"] / closed["cpu_us_per_request"] for open_run, closed in pairs),
        "open_req_per_s": statistics.median(open_run["req_per_s"] for open_run, _ in pairs),
        "closed_req_per_s": statistics.median(closed["req_per_s"] for _, closed in pairs),
        "pairs": len(pairs),
    }


def markdown(result: dict) -> str:
    lines = []
    if result.get("schedule"):
        lines += [
            "| target starts/s | workers | intended/s | achieved/s | achieved / intended | late starts (steady) | worst lag per second, median (ms) | start lag p50, whole run (ms) | start lag p99, whole run (ms) | late starts, whole run |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in result["schedule"]:
            lines.append(
                f"| {row['rate']:,} | {row['workers']} | {row['intended_per_s']:,.1f} | {row['achieved_per_s']:,.1f} | {row['achieved_per_s'] / row['intended_per_s']:.1%} "
                f"| {row['steady_late_share']:.1%} | {row['steady_worst_lag_median_ms']:,.1f} | {row['lag_p50_ms']:.2f} | {row['lag_p99_ms']:,.1f} | {row['late_share']:.1%} |"
            )
    if result.get("cpu"):
        cpu = result["cpu"]
        lines += [
            "",
            "| model | req/s | CPU µs per request |",
            "| --- | ---: | ---: |",
            f"| closed (32 users × constant_throughput 31.25) | {cpu['closed_req_per_s']:,.0f} | {cpu['closed_cpu_us_per_request']:,.0f} |",
            f"| open (rate 1,000, pool of 32) | {cpu['open_req_per_s']:,.0f} | {cpu['open_cpu_us_per_request']:,.0f} |",
            f"| open / closed (median of {cpu['pairs']} pairs) | | {cpu['open_over_closed']:.2f} |",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("schedule", "cpu", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--show", type=Path, help="reprint an earlier result file")
    args = parser.parse_args()
    if args.show:
        print(markdown(json.loads(args.show.read_text())))
        return
    server, url = null_endpoint()
    result: dict = {"machine": machine(), "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            if args.part in ("schedule", "both"):
                runs = []
                for round_number in range(args.rounds):
                    for rate in RATES:
                        for workers in WORKER_COUNTS if round_number % 2 == 0 else WORKER_COUNTS[::-1]:
                            runs.append(schedule_run(url, rate, workers, folder))
                            print(json.dumps(runs[-1]), flush=True)
                result["schedule_runs"], result["schedule"] = runs, summarize_schedule(runs)
            if args.part in ("cpu", "both"):
                pairs = []
                for round_number in range(args.rounds):
                    order = ("open", "closed") if round_number % 2 == 0 else ("closed", "open")
                    runs = {model: cpu_run(url, model, folder) for model in order}
                    print(json.dumps(runs), flush=True)
                    pairs.append((runs["open"], runs["closed"]))
                result["cpu_pairs"], result["cpu"] = pairs, summarize_cpu(pairs)
    finally:
        server.terminate()
        server.wait(10)
    result["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"open-model-{datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
