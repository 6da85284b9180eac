"""A short text summary of a run from Locust's stats CSV (the full report lives in harness.report)."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.metrics.results_files import HARNESS_LATENCY, LOCUST_STATS


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_stats(run_dir: Path) -> list[dict]:
    """Rows of locust_stats.csv (the Aggregated row included), [] when there is none.

    Where harness_latency.csv has the row, its exact p50/p99 (HDR) replace Locust's bucketed ones
    and the row says `exact`; otherwise Locust's values stay and it says `locust`.
    """
    exact = {(row["type"], row["name"]): row for row in _rows(Path(run_dir) / HARNESS_LATENCY)}
    rows = []
    for row in _rows(Path(run_dir) / LOCUST_STATS):
        latency = exact.get((row["Type"], row["Name"]))
        if latency:
            row = {**row, "50%": f"{float(latency['p50_ms']):.1f}", "99%": f"{float(latency['p99_ms']):.1f}", "source": "exact"}
        else:
            row = {**row, "source": "locust"}
        rows.append(row)
    return rows


def summary_lines(rows: list[dict]) -> list[str]:
    """One aligned line per stats row: type, name, requests, failures, req/s, p50, p99 (ms) and their source."""
    if not rows:
        return ["no requests were recorded"]
    header = f"{'type':<17} {'name':<28} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  latency"
    lines = [header]
    for row in rows:
        lines.append(
            f"{row['Type']:<17} {row['Name']:<28} {int(row['Request Count']):>9} {int(row['Failure Count']):>9} "
            f"{float(row['Requests/s']):>8.1f} {row['50%']:>8} {row['99%']:>8}  {row['source']}"
        )
    return lines
