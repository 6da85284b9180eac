"""Report build time for a synthetic 1-hour --csv-full-history run with 10 operations (a benchmark, not a test).

    .venv/bin/python bench/report_build.py [--seconds 3600] [--operations 10] [--runs 3] [--keep DIR]

Writes a run folder in the layouts of harness.metrics.results_files (Locust's stats, full history with one
row per step per second plus Aggregated, failures; every harness_* file with real HDR histogram
encodings; harness_run.json; a scenario.yaml that validates, with thresholds), then times
build_report on it and prints the median of the runs, split into analysis, plots and rendering.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from harness.metrics import results_files as files
from harness.metrics.latency import new_histogram, summary_of, to_microseconds
from harness.report import build_report
from harness.report.analysis import analyse
from harness.report.build import draw_plots
from harness.report.render_html import render_html
from harness.report.render_md import render_markdown
from harness.report.sections import document

START = 1_767_225_600  # 2026-01-01T00:00:00Z
PERCENTILE_COLUMNS = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS_HEADER = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time", "Min Response Time",
                "Max Response Time", "Average Content Size", "Requests/s", "Failures/s", *PERCENTILE_COLUMNS]  # fmt: skip
HISTORY_HEADER = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", *PERCENTILE_COLUMNS, "Total Request Count",
                  "Total Failure Count", "Total Median Response Time", "Total Average Response Time", "Total Min Response Time",
                  "Total Max Response Time", "Total Average Content Size"]  # fmt: skip
# (task, operation, table, index) cycled over the operations; names are unique steps.
KINDS = [
    ("partiql_insert_order", "ExecuteStatement", "orders", ""),
    ("walk_ring", "GetItem", "round-trip", ""),
    ("parallel_scan", "Scan", "tlog_scan", ""),
    ("sharded_gsi_query", "Query", "tlog_scan", "GSI_1"),
]


def steps(count: int) -> list[dict]:
    """`count` steps with a name, task, operation, table, index, request rate and median latency."""
    rng = random.Random(1)
    out = []
    for number in range(count):
        task, operation, table, index = KINDS[number % len(KINDS)]
        out.append({"name": f"{task}_{number}", "task": task, "operation": operation, "table": table, "index": index,
                    "rate": rng.choice([20, 50, 100, 300]), "median_ms": rng.choice([4.0, 8.0, 15.0, 40.0])})  # fmt: skip
    return out


def latency_ms(rng: random.Random, median: float) -> float:
    return rng.lognormvariate(0, 0.5) * median


def write_run(folder: Path, seconds: int, step_list: list[dict]) -> None:
    """A complete run folder of `seconds` seconds."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    totals = {step["name"]: [0, 0] for step in step_list}
    with open(folder / files.LOCUST_HISTORY, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HISTORY_HEADER)
        for second in range(seconds):
            all_requests = all_failures = 0
            for step in step_list:
                requests = max(0, int(rng.gauss(step["rate"], step["rate"] * 0.05)))
                failures = rng.randrange(3) if second % 97 == 0 else 0
                totals[step["name"]][0] += requests
                totals[step["name"]][1] += failures
                all_requests, all_failures = all_requests + totals[step["name"]][0], all_failures + totals[step["name"]][1]
                percentiles = sorted(round(latency_ms(rng, step["median_ms"])) for _ in PERCENTILE_COLUMNS)
                writer.writerow([START + second, 40, step["operation"], step["name"], f"{step['rate']:.6f}", "0.000000", *percentiles,
                                 *totals[step["name"]], step["median_ms"], step["median_ms"] * 1.1, 1, 500, 300])  # fmt: skip
            writer.writerow([START + second, 40, "", "Aggregated", "0.000000", "0.000000", *([10] * 11), all_requests, all_failures, 10, 11, 1, 500, 300])
    grand = [sum(value[0] for value in totals.values()), sum(value[1] for value in totals.values())]
    with open(folder / files.LOCUST_STATS, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(STATS_HEADER)
        for step in step_list:
            requests, failures = totals[step["name"]]
            writer.writerow([step["operation"], step["name"], requests, failures, step["median_ms"], step["median_ms"] * 1.1, 1, 500, 300,
                             requests / seconds, failures / seconds, *([round(step["median_ms"])] * 11)])  # fmt: skip
        writer.writerow(["", "Aggregated", *grand, 10, 11, 1, 500, 300, grand[0] / seconds, grand[1] / seconds, *([10] * 11)])
    with open(folder / files.LOCUST_FAILURES, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"])
        for step in step_list:
            error = "ThrottledError('ProvisionedThroughputExceededException: Throughput exceeds the current capacity')"
            writer.writerow([step["operation"], step["name"], error, totals[step["name"]][1], "2026-01-01T00:00:00Z", "2026-01-01T00:59:59Z"])
    write_harness_files(folder, seconds, step_list, totals, rng)


def write_harness_files(folder: Path, seconds: int, step_list: list[dict], totals: dict, rng: random.Random) -> None:
    latency_rows, histogram_rows = [], []
    everything = new_histogram()
    for step in step_list:
        histogram = new_histogram()
        weight = max(1, totals[step["name"]][0] // 5000)  # 5,000 distinct samples, weighted to the request count
        for _ in range(5000):
            histogram.record_value(to_microseconds(latency_ms(rng, step["median_ms"])), weight)
        everything.add(histogram)
        latency_rows.append([step["operation"], step["name"], *summary_of(histogram)])
        histogram_rows.append([step["operation"], step["name"], histogram.encode().decode("ascii")])
    latency_rows.append(["", "Aggregated", *summary_of(everything)])
    table(folder / files.HARNESS_LATENCY, files.LATENCY_COLUMNS, latency_rows)
    table(folder / files.HARNESS_HISTOGRAMS, files.HISTOGRAM_COLUMNS, histogram_rows)
    table(folder / files.HARNESS_REQUESTS, files.REQUEST_COLUMNS,
          [[step["operation"], step["name"], totals[step["name"]][0], 0, totals[step["name"]][1], totals[step["name"]][1] * 2] for step in step_list])  # fmt: skip
    targets = sorted({(step["operation"], step["table"], step["index"]) for step in step_list})
    table(folder / files.HARNESS_ATTEMPTS, files.ATTEMPT_COLUMNS,
          [[*target, sum(totals[s["name"]][0] for s in step_list if (s["operation"], s["table"], s["index"]) == target) * 2, 500, 3] for target in targets])  # fmt: skip
    throttles = [[START + second, "Query", "tlog_scan", "GSI_1", "IndexReadProvisionedThroughputExceeded(GSI_1)", rng.randrange(1, 20)]
                 for second in range(seconds) if second % 5 == 0]  # fmt: skip
    table(folder / files.HARNESS_THROTTLES, files.THROTTLE_COLUMNS, throttles)
    capacity = []
    for second in range(seconds):
        capacity += [[START + second, "orders", "", 0.0, rng.uniform(80, 120)], [START + second, "round-trip", "", rng.uniform(40, 60), 0.0],
                     [START + second, "tlog_scan", "", rng.uniform(500, 900), 0.0], [START + second, "tlog_scan", "GSI_1", rng.uniform(200, 300), 0.0]]  # fmt: skip
    table(folder / files.HARNESS_CAPACITY, files.CAPACITY_COLUMNS, capacity)
    run = {"scenario": "bench", "description": "", "target": {"kind": "local", "region": "us-east-1", "endpoint_url": None},
           "start_time": START + 0.1, "end_time": START + seconds + 0.1, "retries": {"mode": "standard", "max_attempts": 3},
           "tables": [{"name": "orders", "billing_mode": "PAY_PER_REQUEST", "capacity": None, "gsis": []},
                      {"name": "round-trip", "billing_mode": "PAY_PER_REQUEST", "capacity": None, "gsis": []},
                      {"name": "tlog_scan", "billing_mode": "PROVISIONED", "capacity": {"read": 1000, "write": 100},
                       "gsis": [{"name": "GSI_1", "capacity": {"read": 250, "write": 100}}]}],
           "workers": 0}  # fmt: skip
    (folder / files.HARNESS_RUN).write_text(json.dumps(run, indent=2))
    (folder / files.SCENARIO_COPY).write_text(scenario_yaml(step_list))


def scenario_yaml(step_list: list[dict]) -> str:
    mix = []
    for step in step_list:
        extra = {"parallel_scan": ", segments: 4", "sharded_gsi_query": ", index: GSI_1, sort_prefix: '404#'"}.get(step["task"], "")
        mix.append(f"    - {{task: {step['task']}, name: {step['name']}, table: {step['table']}{extra}}}")
    return "\n".join([
        "name: bench", "tables:",
        "  - {name: orders, attributes: {pk: S, sk: S}, key: {hash: pk, range: sk}, dataset: {model: orders}}",
        "  - {name: round-trip, attributes: {primary_key: S}, key: {hash: primary_key}, dataset: {model: ring}}",
        "  - name: tlog_scan",
        "    attributes: {requestid: N, GSI_1_PK: S, GSI_1_SK: S}",
        "    key: {hash: requestid}",
        "    billing_mode: PROVISIONED",
        "    capacity: {read: 1000, write: 100}",
        "    gsis: [{name: GSI_1, key: {hash: GSI_1_PK, range: GSI_1_SK}, capacity: {read: 250, write: 100}}]",
        "    dataset: {model: logfile, shards: 10}",
        "workload:", "  mix:", *mix,
        "thresholds:", "  - {step: '*', p99_ms: 1000, error_ratio: 0.01, throttle_ratio: 0.01}", "",
    ])  # fmt: skip


def table(path: Path, columns: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)


def timed(function, *args):
    """(wall seconds, result); CPU seconds of the last call in timed.cpu (wall time suffers when other work shares the cores)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    timed.cpu = time.process_time() - cpu
    return time.perf_counter() - start, value


def render_both(analysis, images: dict[str, str], folder: Path) -> None:
    report = document(analysis, images)
    render_markdown(report)
    render_html(report, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--operations", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Write the run folder here and keep it (default: a temporary folder).")
    options = parser.parse_args()
    folder = (options.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))) / "bench-run"
    made, _ = timed(write_run, folder, options.seconds, steps(options.operations))
    history_rows = sum(1 for _ in open(folder / files.LOCUST_HISTORY)) - 1
    print(f"synthesised {options.seconds} s x {options.operations} operations ({history_rows:,} history rows) in {made:.1f} s: {folder}")
    builds, cpus, analyses, drawings, renders = [], [], [], [], []
    for _ in range(options.runs):
        seconds, result = timed(build_report, folder)
        builds.append(seconds)
        cpus.append(timed.cpu)
        analysis_s, analysis = timed(analyse, folder)
        plots_s, images = timed(draw_plots, analysis, folder)
        render_s, _ = timed(render_both, analysis, images, folder)
        analyses.append(analysis_s), drawings.append(plots_s), renders.append(render_s)
    print(f"build_report: median {statistics.median(builds):.2f} s wall, {statistics.median(cpus):.2f} s CPU over {options.runs} runs (wall min {min(builds):.2f} s, max {max(builds):.2f} s)")
    print(f"  analysis {statistics.median(analyses):.2f} s, plots {statistics.median(drawings):.2f} s, render md+html {statistics.median(renders):.2f} s")
    print(f"  thresholds broken: {len(result.broken)}; files: {', '.join(sorted(path.name for path in result.files))}")


if __name__ == "__main__":
    main()
