"""Soak: one long `ddb-harness run` at the rate this machine sustains, every process's RSS, open files and CPU sampled.

    .venv/bin/python -m bench.soak                  # 2 hours (the goal: memory flat within 10% after 5 minutes)
    .venv/bin/python -m bench.soak --minutes 10     # the quick check
    .venv/bin/python -m bench.soak --minutes 30 --workers 0 --scenario scenarios/roundtrip.yaml

The default scenario (bench/soak.yaml) has every process a run can have: master, 2 workers, the
capacity gate, DynamoDB Local, and a table whose reads touch more keys than a key tally keeps.

Samples the run's process tree (ddb-harness, the Locust master or standalone process, workers, the capacity
gate, DynamoDB Local) every --sample-seconds with psutil: RSS, open file descriptors, CPU % since the
last sample. After the run: growth of each process's RSS and descriptors from the end of the warm-up to
the end, requests served, and the time `ddb-harness report` takes to rebuild the report from the full
history. Writes bench/results/soak-<UTC>.json (samples included) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def role_of(process: psutil.Process, cli_pid: int) -> str:
    """A stable name for a process of the run: cli, locust, worker-<pid>, gate, dynamodb-local."""
    if process.pid == cli_pid:
        return "cli"
    command = " ".join(process.cmdline())
    if "DynamoDBLocal" in command:
        return "dynamodb-local"
    if "harness.gate" in command:
        return "gate"
    if "--worker" in command:
        return f"worker-{process.pid}"
    if "locust" in command:
        return "locust"
    return f"other-{process.pid}"


def sample(tree: dict[int, psutil.Process], cli: psutil.Process) -> dict[str, dict]:
    """One sample of every process of the run, by role (CPU % since the previous sample of that process)."""
    found: dict[str, dict] = {}
    for process in [cli, *cli.children(recursive=True)]:
        try:
            known = tree.setdefault(process.pid, process)
            with known.oneshot():
                found[role_of(known, cli.pid)] = {"rss_mb": known.memory_info().rss / 2**20, "fds": known.num_fds(), "cpu_percent": known.cpu_percent(None)}
        except psutil.Error:
            continue
    return found


def under_load(samples: list[dict]) -> list[dict]:
    """The samples taken while Locust ran: after it, ddb-harness builds the report (pandas, matplotlib), which is no growth."""
    return [entry for entry in samples if "locust" in entry["processes"]]


def growth(samples: list[dict], role: str, key: str, after_s: float) -> dict:
    """First sample at or after the warm-up and the last sample under load of one process's `key`, and the growth between."""
    series = [(entry["t"], entry["processes"][role][key]) for entry in under_load(samples) if role in entry["processes"]]
    warm = [value for at, value in series if at >= after_s] or [value for _, value in series]
    if not warm:
        return {}
    first, last = warm[0], warm[-1]
    return {"after_warmup": round(first, 2), "end": round(last, 2), "max": round(max(warm), 2), "growth_percent": round(100 * (last - first) / first, 1) if first else None}


def report_rebuild_seconds(run_dir: Path) -> float:
    """Wall time of `ddb-harness report RUN_DIR` (a new process: imports included, as a user waits for it)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", "report", str(run_dir)], capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    """Run the soak and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--warmup-minutes", type=float, default=5)
    parser.add_argument("--sample-seconds", type=float, default=60)
    parser.add_argument("--scenario", default=str(REPO / "bench" / "soak.yaml"))
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="Locust workers (0: one standalone process)")
    parser.add_argument("--results-dir", default=None, help="where the run folder goes (default: a folder under /tmp)")
    parser.add_argument("--summarize", type=Path, default=None, help="print the table of a soak-<UTC>.json again instead of running")
    options = parser.parse_args()
    if options.summarize:
        summarize(options.summarize, options.warmup_minutes)
        return
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results_dir = Path(options.results_dir or f"/tmp/ddb-harness-soak-{stamp}")
    command = [sys.executable, "-m", "harness.cli", "run", options.scenario, "-t", f"{int(options.minutes * 60)}s", "-u", str(options.users), "-r", str(options.users), "--results-dir", str(results_dir)]
    if options.workers:
        command += ["--workers", str(options.workers)]
    log_path = results_dir.with_suffix(".stderr.txt")
    results_dir.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as stderr:
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)
        cli, tree, samples = psutil.Process(run.pid), {}, []
        started = time.monotonic()
        while run.poll() is None:
            entry = {"t": round(time.monotonic() - started, 1), "processes": sample(tree, cli)}
            if run.poll() is None:
                samples.append(entry)
                print(f"+{entry['t']:7.0f} s  " + "  ".join(f"{role} {values['rss_mb']:.0f} MB/{values['fds']} fd/{values['cpu_percent']:.0f}%" for role, values in sorted(entry["processes"].items())), flush=True)
            try:
                run.wait(options.sample_seconds)
            except subprocess.TimeoutExpired:
                pass
        stdout = run.stdout.read()
    run_dirs = sorted(path for path in results_dir.iterdir() if path.is_dir())
    run_dir = run_dirs[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    built = re.search(r"report built in ([\d.]+) s", log_path.read_text())
    roles = sorted({role for entry in samples for role in entry["processes"]})
    warmup = options.warmup_minutes * 60
    result = {
        "command": command, "exit_code": run.returncode, "run_dir": str(run_dir), "minutes": options.minutes,
        "requests": summary["totals"]["requests"], "failures": summary["totals"].get("other_failures"),
        "requests_per_s": summary["totals"]["requests_per_s"],
        "report_seconds_in_run": float(built.group(1)) if built else None, "report_rebuild_seconds": round(report_rebuild_seconds(run_dir), 2),
        "history_rows": sum(1 for _ in open(run_dir / "locust_stats_history.csv")) - 1,
        "rss_mb": {role: growth(samples, role, "rss_mb", warmup) for role in roles},
        "fds": {role: growth(samples, role, "fds", warmup) for role in roles},
        "samples": samples, "stdout": stdout,
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"soak-{stamp}.json"
    out.write_text(json.dumps(result, indent=2))
    print_table(result, roles)
    print(f"written: {out}")


def print_table(result: dict, roles: list[str]) -> None:
    """The soak's summary: requests, report times, and per process RSS and descriptors after the warm-up and at the end."""
    print(f"\n{result['requests']:,} requests ({result['requests_per_s']:.0f}/s), exit code {result['exit_code']}; report built in {result['report_seconds_in_run']} s in the run, rebuilt in {result['report_rebuild_seconds']} s ({result['history_rows']:,} history rows)")
    print(f"{'process':<16} {'RSS after warm-up':>18} {'RSS end':>9} {'growth':>8} {'fds after warm-up':>18} {'fds end':>8}")
    for role in roles:
        rss, fds = result["rss_mb"][role], result["fds"][role]
        if rss:
            print(f"{role:<16} {rss['after_warmup']:>15.1f} MB {rss['end']:>6.1f} MB {rss['growth_percent']:>7}% {fds['after_warmup']:>18.0f} {fds['end']:>8.0f}")


def summarize(path: Path, warmup_minutes: float) -> None:
    """Print the table of a soak's JSON again, its growth computed afresh from its samples."""
    result = json.loads(path.read_text())
    roles = sorted({role for entry in result["samples"] for role in entry["processes"]})
    result["rss_mb"] = {role: growth(result["samples"], role, "rss_mb", warmup_minutes * 60) for role in roles}
    result["fds"] = {role: growth(result["samples"], role, "fds", warmup_minutes * 60) for role in roles}
    result.setdefault("exit_code", None)
    print_table(result, roles)


if __name__ == "__main__":
    main()
