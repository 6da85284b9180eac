"""Does the capacity gate limit a 2-worker run? `ddb-harness run --workers 2` on the embedded target, gate on vs off.

    .venv/bin/python -m bench.gate_workers                  # 3 run pairs of 18 s, ~4 min
    .venv/bin/python -m bench.gate_workers --runs 5 --workers 2 --users 32

The workload is the ring walk of `scenarios/roundtrip.yaml` (GetItem after GetItem, no wait, fast
path) with its table made PROVISIONED at 40,000 RCU, so the gate meters every request (buckets,
per-partition limits, ConsumedCapacity) but never refuses one. Each run is the real command line
with the embedded DynamoDB Local, once with `target.capacity: emulate` (the gate in front of
DynamoDB Local) and once with `capacity: none` (workers straight to DynamoDB Local); which goes
first alternates between pairs, the gated/direct ratio is taken within each pair, and every
number is the median over pairs. req/s is the Aggregated row of the run's `locust_stats.csv`.
Nothing is pinned: the master, the workers, the gate and DynamoDB Local share the machine.
"""

from __future__ import annotations

import argparse
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
from bench.workers_scaling import RUN_TIMEOUT_SECONDS, SCENARIO, aggregated_row

MODES = ("emulate", "none")


def gate_scenario(folder: Path, capacity: str) -> Path:
    """roundtrip.yaml on the embedded target, its table PROVISIONED far above what the run can read."""
    data = yaml.safe_load(SCENARIO.read_text())
    data["target"] = {"kind": "local", "capacity": capacity}
    data["tables"][0].update(billing_mode="PROVISIONED", capacity={"read": 40000, "write": 1000})
    path = folder / f"roundtrip-{capacity}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_once(scenario: Path, workers: int, users: int, run_time: str, folder: Path) -> dict:
    """One headless `ddb-harness run --workers N` with its own embedded server; the Aggregated row's numbers."""
    results = folder / f"results-{time.time_ns()}"
    command = [sys.executable, "-m", "harness.cli", "run", str(scenario), "--workers", str(workers), "-u", str(users), "-r", str(users), "-t", run_time, "--results-dir", str(results)]
    load_average = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=RUN_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"{scenario.name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    (run_dir,) = [path for path in results.iterdir() if path.is_dir()]
    row = aggregated_row(run_dir / "locust_stats.csv")
    gated = (run_dir / "capacity-gate.log").exists()
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]), "req_per_s": float(row["Requests/s"]), "gate_ran": gated, "load_average_1m_before": load_average}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="run pairs (one gated and one direct run each)")
    parser.add_argument("--run-time", default="18s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=32, help="users in total, split between the workers")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    runs = []
    with tempfile.TemporaryDirectory(prefix="gate-workers-") as temporary:
        folder = Path(temporary)
        scenarios = {mode: gate_scenario(folder, mode) for mode in MODES}
        for pair in range(args.runs):
            for mode in MODES if pair % 2 == 0 else tuple(reversed(MODES)):
                result = {**run_once(scenarios[mode], args.workers, args.users, args.run_time, folder), "mode": mode, "pair": pair}
                if result["gate_ran"] != (mode == "emulate"):
                    raise RuntimeError(f"capacity: {mode} but the gate {'did not run' if mode == 'emulate' else 'ran'}")
                runs.append(result)
                print(f"[pair {pair + 1}/{args.runs}] capacity {mode:<7}: {result['req_per_s']:8.0f} req/s, {result['failures']} failures, load {result['load_average_1m_before']:.1f}", file=sys.stderr, flush=True)
    by_pair: dict[int, dict[str, dict]] = {}
    for run in runs:
        by_pair.setdefault(run["pair"], {})[run["mode"]] = run
    ratios = [pair["emulate"]["req_per_s"] / pair["none"]["req_per_s"] for pair in by_pair.values() if pair["none"]["req_per_s"]]
    summary = {
        "req_per_s_gated": statistics.median(run["req_per_s"] for run in runs if run["mode"] == "emulate"),
        "req_per_s_direct": statistics.median(run["req_per_s"] for run in runs if run["mode"] == "none"),
        "ratio_gated_direct": statistics.median(ratios),
        "pair_ratios": [round(ratio, 3) for ratio in ratios],
        "failures": sum(run["failures"] for run in runs),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"gate-workers-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    info = {"started": started.isoformat(timespec="seconds"), "machine": {**machine(), "load_average_end": os.getloadavg()}, "arguments": vars(args)}
    path.write_text(json.dumps({**info, "summary": summary, "runs": runs}, indent=1))
    print("| workers | req/s, gate (capacity: emulate) | req/s, direct (capacity: none) | gated / direct (median of pairs) | pair ratios | failures |")
    print("| ---: | ---: | ---: | ---: | --- | ---: |")
    print(
        f"| {args.workers} | {summary['req_per_s_gated']:,.0f} | {summary['req_per_s_direct']:,.0f} | {summary['ratio_gated_direct']:.2f} | "
        f"{', '.join(f'{ratio:.2f}' for ratio in ratios)} | {summary['failures']} |"
    )
    print(f"\nmedians of {args.runs} run pairs; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
