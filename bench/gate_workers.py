"""Does the capacity gate limit a 2-worker run? `ddb-harness run --workers 2`, through the gate vs straight to DynamoDB Local.

    .venv/bin/python -m bench.gate_workers                  # 3 run pairs of 18 s, ~4 min
    .venv/bin/python -m bench.gate_workers --runs 5 --workers 2 --users 32

One DynamoDB Local for the session (warmed by an unmeasured run, for the JVM's JIT) with one
capacity gate in front of it (`harness.gate.start_gate`, as `capacity: emulate` starts it). The
workload is the ring walk of `scenarios/roundtrip.yaml` (GetItem after GetItem, no wait, fast
path) with its table made PROVISIONED at 40,000 RCU, so the gate meters every request (buckets,
per-partition limits, ConsumedCapacity) but never refuses one. Each run is the real command
line, `ddb-harness run SCENARIO --workers N`, with the gate's or DynamoDB Local's endpoint as
target; which goes first alternates between pairs, the gated/direct ratio is taken within each
pair, and every number is the median over pairs. req/s is the Aggregated row of the run's
`locust_stats.csv`. Nothing is pinned: the master, the workers, the gate and DynamoDB Local
share the machine, so the gate's CPU is taken from the others.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import psutil
import yaml

from bench.run import REPO, RESULTS, machine
from bench.workers_scaling import SCENARIO, local_server, prepare, run_once
from harness.gate import start_gate

MODES = ("gate", "direct")


def ring_scenario(folder: Path, mode: str, url: str) -> Path:
    """roundtrip.yaml against `url`, its table PROVISIONED far above what the run can read."""
    data = yaml.safe_load(SCENARIO.read_text())
    data["target"] = {"kind": "endpoint", "url": url}
    data["tables"][0].update(billing_mode="PROVISIONED", capacity={"read": 40000, "write": 1000})
    path = folder / f"roundtrip-{mode}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="run pairs (one gated and one direct run each)")
    parser.add_argument("--run-time", default="18s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=32, help="users in total, split between the workers")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    runs = []
    with tempfile.TemporaryDirectory(prefix="gate-workers-") as temporary, local_server(Path(temporary)) as (local_url, local_pid):
        folder = Path(temporary)
        gate = start_gate(local_url, 300.0, folder)
        try:
            gate_process = psutil.Process(gate.process.pid)
            scenarios = {"gate": ring_scenario(folder, "gate", gate.endpoint), "direct": ring_scenario(folder, "direct", local_url)}
            prepare(scenarios["direct"])
            for mode in MODES:  # warm-up, unmeasured
                run_once(scenarios[mode], args.workers, args.users, "8s", local_pid, folder)
            for pair in range(args.runs):
                for mode in MODES if pair % 2 == 0 else tuple(reversed(MODES)):
                    gate_before = sum(gate_process.cpu_times()[:2])
                    result = run_once(scenarios[mode], args.workers, args.users, args.run_time, local_pid, folder)
                    gate_cpu = sum(gate_process.cpu_times()[:2]) - gate_before
                    result.update(mode=mode, pair=pair, gate_cpu_us_per_req=round(gate_cpu / result["requests"] * 1e6, 1) if mode == "gate" and result["requests"] else None)
                    runs.append(result)
                    print(f"[pair {pair + 1}/{args.runs}] {mode:<6}: {result['req_per_s']:8.0f} req/s, {result['failures']} failures, load {result['load_average_1m_before']:.1f}", file=sys.stderr, flush=True)
        finally:
            gate.stop()
    by_pair: dict[int, dict[str, dict]] = {}
    for run in runs:
        by_pair.setdefault(run["pair"], {})[run["mode"]] = run
    ratios = [pair["gate"]["req_per_s"] / pair["direct"]["req_per_s"] for pair in by_pair.values() if pair["direct"]["req_per_s"]]
    summary = {
        "req_per_s_gate": statistics.median(run["req_per_s"] for run in runs if run["mode"] == "gate"),
        "req_per_s_direct": statistics.median(run["req_per_s"] for run in runs if run["mode"] == "direct"),
        "ratio_gate_direct": statistics.median(ratios),
        "pair_ratios": [round(ratio, 3) for ratio in ratios],
        "gate_cpu_us_per_req": statistics.median(run["gate_cpu_us_per_req"] for run in runs if run["mode"] == "gate"),
        "failures": sum(run["failures"] for run in runs),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"gate-workers-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    info = {"started": started.isoformat(timespec="seconds"), "machine": {**machine(), "load_average_end": os.getloadavg()}, "arguments": vars(args)}
    path.write_text(json.dumps({**info, "summary": summary, "runs": runs}, indent=1))
    print("| workers | req/s through the gate | req/s direct | gate / direct (median of pairs) | pair ratios | gate CPU µs/req | failures |")
    print("| ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    print(
        f"| {args.workers} | {summary['req_per_s_gate']:,.0f} | {summary['req_per_s_direct']:,.0f} | {summary['ratio_gate_direct']:.2f} | "
        f"{', '.join(f'{ratio:.2f}' for ratio in ratios)} | {summary['gate_cpu_us_per_req']:,.0f} | {summary['failures']} |"
    )
    print(f"\nmedians of {args.runs} run pairs; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
