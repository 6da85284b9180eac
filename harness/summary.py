"""A short text summary of a run from Locust's stats CSV (the full report lives in harness.report)."""

from __future__ import annotations

import csv
from pathlib import Path

STATS_FILE = "locust_stats.csv"


def read_stats(run_dir: Path) -> list[dict]:
    """Rows of locust_stats.csv (the Aggregated row included), [] when there is none."""
    path = Path(run_dir) / STATS_FILE
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def summary_lines(rows: list[dict]) -> list[str]:
    """One aligned line per stats row: type, name, requests, failures, req/s, p50, p99 (ms)."""
    if not rows:
        return ["no requests were recorded"]
    header = f"{'type':<17} {'name':<28} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    lines = [header]
    for row in rows:
        lines.append(
            f"{row['Type']:<17} {row['Name']:<28} {int(row['Request Count']):>9} {int(row['Failure Count']):>9} "
            f"{float(row['Requests/s']):>8.1f} {row['50%']:>8} {row['99%']:>8}"
        )
    return lines
