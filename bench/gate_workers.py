"""Does the capacity gate limit a 2-worker run? `ddb-harness run --workers 2` with leases, through the gate's process, and straight to DynamoDB Local.

    .venv/bin/python -m bench.gate_workers                  # 3 rounds of 3 runs of 18 s, ~6 min
    .venv/bin/python -m bench.gate_workers --runs 5 --workers 2 --users 32

One DynamoDB Local for the session (warmed by an unmeasured run, for the JVM's JIT) with one
capacity gate in front of it (`harness.gate.start_gate`, as `capacity: emulate` starts it). The
workload is the ring walk of `scenarios/roundtrip.yaml` (GetItem after GetItem, no wait, fast
path) with its table made PROVISIONED at 40,000 RCU, so the gate meters every request (buckets,
per-partition limits, ConsumedCapacity) but never refuses one. Each run is the real command
line, `ddb-harness run SCENARIO --workers N`, in three modes: `leases` (the gate's endpoint
with `--capacity-gate`, as the embedded target runs: each Locust process decides its requests
with tokens leased from the gate, harness.gate.leases), `proxy` (the gate's endpoint alone:
every request passes through the gate's process) and `direct` (DynamoDB Local's endpoint, no
emulation). The order rotates between rounds, the ratios to `direct` are taken within each
round, and every number is the median over rounds. req/s is the Aggregated row of the run's
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

MODES = ("leases", "proxy", "direct")
EXTRA = {"leases": ("--capacity-gate",), "proxy": (), "direct": ()}


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
    parser.add_argument("--runs", type=int, default=3, help="rounds (one run of each mode each)")
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
            urls = {"leases": gate.endpoint, "proxy": gate.endpoint, "direct": local_url}
            scenarios = {mode: ring_scenario(folder, mode, url) for mode, url in urls.items()}
            prepare(scenarios["direct"])
            for mode in MODES:  # warm-up, unmeasured
                run_once(scenarios[mode], args.workers, args.users, "8s", local_pid, folder, EXTRA[mode])
            for round_ in range(args.runs):
                order = MODES[round_ % len(MODES) :] + MODES[: round_ % len(MODES)]
                for mode in order:
                    gate_before = sum(gate_process.cpu_times()[:2])
                    result = run_once(scenarios[mode], args.workers, args.users, args.run_time, local_pid, folder, EXTRA[mode])
                    gate_cpu = sum(gate_process.cpu_times()[:2]) - gate_before
                    per_request = round(gate_cpu / result["requests"] * 1e6, 1) if result["requests"] else None
                    result.update(mode=mode, round=round_, gate_cpu_us_per_req=per_request if mode != "direct" else None)
                    runs.append(result)
                    print(f"[round {round_ + 1}/{args.runs}] {mode:<6}: {result['req_per_s']:8.0f} req/s, {result['failures']} failures, load {result['load_average_1m_before']:.1f}", file=sys.stderr, flush=True)
        finally:
            gate.stop()
    by_round: dict[int, dict[str, dict]] = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["mode"]] = run
    summary: dict = {"failures": sum(run["failures"] for run in runs)}
    for mode in MODES:
        summary[f"req_per_s_{mode}"] = statistics.median(run["req_per_s"] for run in runs if run["mode"] == mode)
    for mode in ("leases", "proxy"):
        ratios = [round_[mode]["req_per_s"] / round_["direct"]["req_per_s"] for round_ in by_round.values() if round_["direct"]["req_per_s"]]
        summary[f"ratio_{mode}_direct"] = statistics.median(ratios)
        summary[f"round_ratios_{mode}"] = [round(ratio, 3) for ratio in ratios]
        summary[f"gate_cpu_us_per_req_{mode}"] = statistics.median(run["gate_cpu_us_per_req"] for run in runs if run["mode"] == mode)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"gate-workers-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    info = {"started": started.isoformat(timespec="seconds"), "machine": {**machine(), "load_average_end": os.getloadavg()}, "arguments": vars(args)}
    path.write_text(json.dumps({**info, "summary": summary, "runs": runs}, indent=1))
    print("| workers | mode | req/s | / direct (median of rounds) | round ratios | gate process CPU µs/req |")
    print("| ---: | --- | ---: | ---: | --- | ---: |")
    for mode in MODES:
        ratio = f"{summary[f'ratio_{mode}_direct']:.2f}" if mode != "direct" else "1"
        rounds = ", ".join(f"{value:.2f}" for value in summary.get(f"round_ratios_{mode}", []))
        cpu = summary.get(f"gate_cpu_us_per_req_{mode}")
        print(f"| {args.workers} | {mode} | {summary[f'req_per_s_{mode}']:,.0f} | {ratio} | {rounds} | {'' if cpu is None else f'{cpu:,.0f}'} |")
    print(f"\nmedians of {args.runs} rounds, {summary['failures']} failures; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
