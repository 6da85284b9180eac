"""The console lines of a run at a target rate: both latencies and whether the generator kept its schedule."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from harness.metrics.results_files import HARNESS_CORRECTED_LATENCY, HARNESS_LATENCY, HARNESS_OPEN_MODEL


def open_model_lines(run_dir: Path) -> list[str]:
    """Service and corrected p50/p99 of all requests and the late starts; [] for a closed-model run."""
    path = Path(run_dir) / HARNESS_OPEN_MODEL
    if not path.exists():
        return []
    info = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for label, filename in (("service time", HARNESS_LATENCY), ("corrected (from intended start)", HARNESS_CORRECTED_LATENCY)):
        row = _aggregated(Path(run_dir) / filename)
        if row:
            lines.append(f"open model, {label}: p50 {float(row['p50_ms']):.1f} ms, p99 {float(row['p99_ms']):.1f} ms")
    lines.append(
        f"open model: {info['starts']:,} of {info['intended_starts']:,} scheduled starts began, {info['late_starts']:,} late "
        f"(worst {info['worst_lag_ms']:,.0f} ms), {info['unstarted_at_end']:,} never began"
        + ("; the load generator fell behind its schedule" if info["late_starts"] or info["unstarted_at_end"] else "")
    )
    return lines


def _aggregated(path: Path) -> dict | None:
    if not path.exists():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return next((row for row in csv.DictReader(handle) if row["name"] == "Aggregated"), None)
