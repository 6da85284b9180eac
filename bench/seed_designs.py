"""The shipped designs as a user runs them: req/s and p99 of each, and the figure each design is about.

    .venv/bin/python -m bench.seed_designs                  # every design, 20 s each, on one DynamoDB Local
    .venv/bin/python -m bench.seed_designs --seconds 10 --only workshop_ex5_sparse_index ycsb_a

Each scenario runs headless with its own users and mix (`--run-time` only) against one embedded
DynamoDB Local this script starts (loaded once per table). Printed per design: requests/s and the
exact p99 of all requests (harness_latency.csv), and: ex5 items read vs returned per request of
each step; ex7 the share of lock attempts that found the lock taken; YCSB A the share of requests
on the hottest 1% of the key space (10,000 records: 100 keys). Writes bench/results/seed-designs-<UTC>.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.scenario import load_scenario
from harness.target.local import start_local

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
RESULTS = Path(__file__).resolve().parent / "results"
DESIGNS = [
    "workshop_ex4_gsi_overloading", "workshop_ex5_sparse_index", "workshop_ex6_composite_keys", "workshop_ex7_locks",
    "social_network", "chat", "messages", "social", "ycsb_a", "ycsb_b", "ycsb_c", "ycsb_d", "ycsb_e", "ycsb_f",
]  # fmt: skip


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def measure(name: str, endpoint: str, seconds: int, results: Path) -> dict:
    """Run one design and read its files."""
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(SCENARIOS / f"{name}.yaml"), "--endpoint-url", endpoint, "--run-time", f"{seconds}s", "--results-dir", str(results / name)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    run_dir = next((results / name).iterdir())
    stats = {(row["Type"], row["Name"]): row for row in rows(run_dir / "locust_stats.csv")}
    total = stats[("", "Aggregated")]
    latency = {(row["type"], row["name"]): row for row in rows(run_dir / "harness_latency.csv")}
    overall = latency.get(("", "Aggregated")) or latency.get(("", "All requests")) or {}
    figures = {"exit_code": done.returncode, "requests": int(total["Request Count"]), "requests_per_s": float(total["Requests/s"]),
               "p99_ms": float(overall.get("p99_ms") or "nan"), "failures": int(total["Failure Count"])}  # fmt: skip
    if name == "workshop_ex5_sparse_index":
        for row in rows(run_dir / "harness_reads.csv"):
            requests = int(row["requests"])
            figures[row["name"]] = {"returned_per_request": int(row["items_returned"]) / requests, "read_per_request": int(row["items_read"]) / requests}
            figures[row["name"]]["p99_ms"] = float(latency[(row["type"], row["name"])]["p99_ms"])
    if name == "workshop_ex7_locks":
        take = stats[("UpdateItem", "take_lock")]
        figures["lock_taken_share"] = int(take["Failure Count"]) / int(take["Request Count"])
        figures["lock_attempts"] = int(take["Request Count"])
    if name == "ycsb_a":
        keys = sorted((int(row["attempts"]) for row in rows(run_dir / "harness_keys.csv")), reverse=True)
        records = load_scenario(SCENARIOS / "ycsb_a.yaml").tables[0].dataset.entities[0].count
        figures["hottest_1pct_share"] = sum(keys[: records // 100]) / sum(keys)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=DESIGNS)
    args = parser.parse_args(argv)
    measured = {}
    with tempfile.TemporaryDirectory() as folder:
        server = start_local(Path(folder) / "local")
        try:
            for name in args.only:
                measured[name] = measure(name, server.endpoint, args.seconds, Path(folder) / "results")
                print(name, json.dumps(measured[name]), flush=True)
        finally:
            server.stop()
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"seed-designs-{stamp}.json").write_text(json.dumps({"seconds": args.seconds, "designs": measured}, indent=2) + "\n")
    print("\n| design | req/s | p99 ms | failures |\n| --- | ---: | ---: | ---: |")
    for name, figures in measured.items():
        print(f"| {name} | {figures['requests_per_s']:.0f} | {figures['p99_ms']:.1f} | {figures['failures']} |")


if __name__ == "__main__":
    main()
