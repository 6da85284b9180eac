"""The Locust master under 10, 25, 50 and 100 workers: its CPU per worker report, memory, stats age, exactness.

    .venv/bin/python -m bench.master_scaling                          # 10 25 50 100 workers, 40 s each, ~5 min
    .venv/bin/python -m bench.master_scaling --workers 100 --run-time 60s --profile   # where the master's CPU goes
    .venv/bin/python -m bench.master_scaling --show bench/results/master-<UTC>.json

The master is the real one: `python -m locust -f locustfiles/scenario.py --master` with the
harness's plugin (its collector merges every worker's HDR histograms, attempts, requests,
throttles and capacity), the web UI on, `--autostart`, `--csv` with full history as `ddb-harness
run` writes it. The workers are light (bench/light_workers.py: real WorkerRunners with the
harness's metrics hooks, 10 to a process, 20 operations each at `--rate` requests/s against the
null endpoint), so the master is what is measured.

Measured over the steady part of each run (all users running, the last seconds left out):
- master CPU seconds (user + system, psutil: CPU time, not wall, since the machine is shared)
  per worker report received, and as a share of one core;
- the master's RSS at the end of the window;
- stats age: every second the bench reads the web UI's /stats/requests; the age of what it shows
  is now minus the time the workers had completed as many requests as its Aggregated row counts;
- report payload: bytes of each worker report as sent (msgpack), and of the harness's part of it;
- exactness, after the run: locust_stats.csv and harness_requests.csv count exactly the requests
  the workers completed, per row and in total; harness_latency.csv's percentiles equal those of one
  HDR histogram built from all workers' raw latencies (the same microsecond values).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from bench.run import REPO, RESULTS, machine
from bench.workers_scaling import endpoint_scenario, null_server
from harness.metrics.latency import new_histogram, summary_of

WORKER_COUNTS = (10, 25, 50, 100)
WORKERS_PER_PROCESS = 10
REPORT_INTERVAL_S = 3.0
LATENCY_COLUMNS = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99_9_ms", "max_ms", "count")


def free_port() -> int:
    from harness.target.local import free_port as harness_free_port

    return harness_free_port()


def fast_scenario(url: str, folder: Path) -> Path:
    """The round-trip scenario at the null endpoint, with the fast client (the light workers use its client settings)."""
    import yaml

    path = endpoint_scenario(url, folder)
    data = yaml.safe_load(path.read_text())
    data["client"] = {**(data.get("client") or {}), "kind": "fast"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def master_command(scenario: Path, url: str, workers: int, users: int, port: int, web_port: int, prefix: Path, profile: Path | None) -> list[str]:
    """The master as `ddb-harness run --master` starts it, with the web UI on and the run started at once.

    No --run-time: the bench ends the run with SIGTERM, which quits the way a headless run's end
    does (the harness's master waits for every worker's final report, then writes its files).
    """
    head = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "locust"] if profile else [sys.executable, "-m", "locust"]
    return head + [
        "-f", str(REPO / "locustfiles" / "scenario.py"), "--scenario", str(scenario), "--endpoint-url", url, "--skip-setup",
        "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), "--expect-workers", str(workers),
        "--autostart", "-u", str(workers * users), "-r", str(workers * users),
        "--web-host", "127.0.0.1", "--web-port", str(web_port),
        "--csv", str(prefix), "--csv-full-history", "--logfile", str(prefix.parent / "master.log"),
    ]  # fmt: skip


def shown_total(web_port: int) -> int | None:
    """The Aggregated request count the web UI shows now."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/stats/requests", timeout=5) as answer:
            stats = json.loads(answer.read())["stats"]
    except (OSError, ValueError, KeyError):
        return None
    total = next((row for row in stats if row["name"] == "Aggregated"), None)
    return int(total["num_requests"]) if total else None


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def run_once(url: str, scenario: Path, workers: int, args, folder: Path) -> dict:
    """One master with `workers` light workers; the measurements of its steady window."""
    run_dir = folder / f"master-{workers}-{time.time_ns()}"
    run_dir.mkdir()
    port, web_port = free_port(), free_port()
    profile = run_dir / "master.prof" if args.profile else None
    run_seconds = float(args.run_time.rstrip("s"))
    load_before = os.getloadavg()[0]
    master = subprocess.Popen(
        master_command(scenario, url, workers, args.users, port, web_port, run_dir / "locust", profile),
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(run_dir / "master.err", "w"),
    )  # fmt: skip
    master_process = psutil.Process(master.pid)
    time.sleep(2)  # the master binds its port
    processes, outputs = [], []
    for number in range(math.ceil(workers / WORKERS_PER_PROCESS)):
        count = min(WORKERS_PER_PROCESS, workers - number * WORKERS_PER_PROCESS)
        out = run_dir / f"workers-{number}.json"
        profiled = ["-m", "cProfile", "-o", str(run_dir / f"workers-{number}.prof")] if args.profile else []
        command = [
            sys.executable, *profiled, "-m", "bench.light_workers", "--master-port", str(port), "--workers", str(count),
            "--users", str(args.users), "--rate", str(args.rate), "--url", url, "--scenario", str(scenario), "--out", str(out),
        ]  # fmt: skip
        processes.append(subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(run_dir / f"workers-{number}.err", "w")))
        outputs.append(out)
    polls, cpu_samples, rss = [], [], 0
    first_requests = None
    stop_at = None
    while master.poll() is None:
        now = time.time()
        if first_requests and stop_at is None:
            stop_at = first_requests + run_seconds
        if stop_at and now >= stop_at:
            master.terminate()
            master.wait(120)
            break
        total = shown_total(web_port)
        cpu_samples.append((now, cpu_seconds(master_process)))
        rss = max(rss, master_process.memory_info().rss)
        if total:
            first_requests = first_requests or now
            polls.append((now, total))
        time.sleep(1.0)
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    logs = [log for out in outputs for log in json.loads(out.read_text())]
    window = (first_requests + args.settle, first_requests + run_seconds - 4) if first_requests else (0, 0)
    return measure(workers, args, run_dir, logs, polls, cpu_samples, rss, window, load_before, profile)


def measure(workers: int, args, run_dir: Path, logs: list[dict], polls, cpu_samples, rss: int, window, load_before: float, profile) -> dict:
    inside = [(at, cpu) for at, cpu in cpu_samples if window[0] <= at <= window[1]]
    cpu = inside[-1][1] - inside[0][1] if len(inside) > 1 else float("nan")
    seconds = inside[-1][0] - inside[0][0] if len(inside) > 1 else float("nan")
    reports = [report for log in logs for report in log["reports"] if inside and inside[0][0] <= report[0] <= inside[-1][0]]
    completions = sorted(at for log in logs for at in log["completions"])
    ages = [at - completions[total - 1] for at, total in polls if window[0] <= at <= window[1] and 0 < total <= len(completions)]
    sizes = [report[1] for report in reports]
    harness_sizes = [report[2] for report in reports]
    exact = exactness(run_dir, logs)
    row = {
        "workers": workers,
        "operations_per_worker": 20,
        "rate_per_worker": args.rate,
        "window_s": round(seconds, 1),
        "reports": len(reports),
        "reports_per_s": round(len(reports) / seconds, 2) if seconds else None,
        "master_cpu_s": round(cpu, 3),
        "master_core_share": round(cpu / seconds, 4) if seconds else None,
        "master_cpu_ms_per_report": round(cpu / len(reports) * 1000, 3) if reports else None,
        "master_rss_mb": round(rss / 2**20, 1),
        "stats_age_median_s": round(statistics.median(ages), 2) if ages else None,
        "stats_age_max_s": round(max(ages), 2) if ages else None,
        "report_bytes_median": statistics.median(sizes) if sizes else None,
        "harness_bytes_median": statistics.median(harness_sizes) if harness_sizes else None,
        "requests": len(completions),
        "load_held": len(completions) >= 0.5 * workers * args.rate * float(args.run_time.rstrip("s")),
        # False: most workers never ran their users (on a machine this busy, workers that miss 3
        # heartbeats while the master dispatches users are set missing): the row measures nothing.
        "load_average_1m_before": load_before,
        **exact,
    }
    if profile and profile.exists():
        row["profile_top"] = profile_top(profile)
    return row


def exactness(run_dir: Path, logs: list[dict]) -> dict:
    """The master's files against the workers' own counts and raw latencies."""
    sent: dict[str, int] = {}
    raw: dict[str, list[int]] = {}
    for log in logs:
        for key, count in log["requests"].items():
            sent[key] = sent.get(key, 0) + count
        for key, values in log["latencies"].items():
            raw.setdefault(key, []).extend(values)
    locust = {f"{row['Type']}|{row['Name']}": int(row["Request Count"]) for row in read_csv(run_dir / "locust_stats.csv") if row["Name"] != "Aggregated"}
    harness = {f"{row['type']}|{row['name']}": int(row["requests"]) for row in read_csv(run_dir / "harness_requests.csv")}
    latency = {f"{row['type']}|{row['name']}": row for row in read_csv(run_dir / "harness_latency.csv") if row["name"] != "Aggregated"}
    mismatched = []
    for key, values in raw.items():
        histogram = new_histogram()
        for value in values:
            histogram.record_value(value)
        pooled = dict(zip(("count", "min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99_9_ms", "max_ms"), summary_of(histogram), strict=True))
        found = latency.get(key)
        if found is None or any(float(found[column]) != float(pooled[column]) for column in LATENCY_COLUMNS):
            mismatched.append(key)
    return {
        "sent_requests": sum(sent.values()),
        "locust_requests": sum(locust.values()),
        "harness_requests": sum(harness.values()),
        "totals_exact": sent == locust == harness,
        "percentiles_exact": not mismatched and len(latency) == len(raw),
        "percentile_mismatches": mismatched,
    }


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def profile_top(path: Path, count: int = 25) -> list[str]:
    """The master's functions by own CPU time (cProfile's tottime)."""
    stats = pstats.Stats(str(path))
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:count]
    return [f"{own:8.3f} s own {total:8.3f} s cum {calls:>9} calls  {Path(file).name}:{line} {name}" for (file, line, name), (_, calls, own, total, _) in rows]


def markdown(rows: list[dict]) -> str:
    lines = [
        "| workers | reports/s | master CPU ms/report | master core share | master RSS MB | stats age median / max s | report bytes (harness part) | requests | load held | totals exact | percentiles exact |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['workers']} | {row['reports_per_s']} | {row['master_cpu_ms_per_report']} | {row['master_core_share']:.0%} | {row['master_rss_mb']} | "
            f"{row['stats_age_median_s']} / {row['stats_age_max_s']} | {row['report_bytes_median']:,.0f} ({row['harness_bytes_median']:,.0f}) | {row['requests']:,} | {row.get('load_held')} | "
            f"{row['totals_exact']} | {row['percentiles_exact']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKER_COUNTS))
    parser.add_argument("--run-time", default="40s")
    parser.add_argument("--users", type=int, default=2, help="users per worker")
    parser.add_argument("--rate", type=float, default=5.0, help="requests/s per worker")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds after the first requests before the window opens")
    parser.add_argument("--profile", action="store_true", help="run the master under cProfile and print its top functions")
    parser.add_argument("--keep", type=Path, help="keep the run folders (logs, CSVs, profiles) under this folder")
    parser.add_argument("--show", type=Path, help="print the table of an earlier results file and exit")
    args = parser.parse_args()
    if args.show:
        print(markdown(json.loads(args.show.read_text())["summary"]))
        return
    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"started": started.isoformat(timespec="seconds"), "machine": machine(), "arguments": {**vars(args), "show": None, "keep": str(args.keep) if args.keep else None}}
    rows = []
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="master-scaling-", dir=args.keep) as temporary, null_server() as (url, server_pid):
        folder = Path(temporary) if not args.keep else Path(tempfile.mkdtemp(prefix="run-", dir=args.keep))
        scenario = fast_scenario(url, folder)
        for workers in args.workers:
            row = run_once(url, scenario, workers, args, folder)
            rows.append(row)
            print(json.dumps({key: value for key, value in row.items() if key != "profile_top"}), flush=True)
            for line in row.get("profile_top", []):
                print("   ", line)
    info["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"master-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({**info, "summary": rows}, indent=2) + "\n")
    print(markdown(rows))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
