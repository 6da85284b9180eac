"""The harness_* files of a run folder, written from a merged Tally (names and columns: harness.metrics.results_files)."""

from __future__ import annotations

import csv
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from harness.metrics import results_files as files
from harness.metrics.tally import Tally


def write_metrics_files(run_dir: Path, tally: Tally, info: dict) -> list[Path]:
    """Write harness_latency/histograms/attempts/requests/throttles/capacity/reads/aggregates/keys/key_throttles.csv and harness_run.json; returns the paths."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tables = [
        (files.HARNESS_LATENCY, files.LATENCY_COLUMNS, tally.latency.percentile_rows()),
        (files.HARNESS_HISTOGRAMS, files.HISTOGRAM_COLUMNS, tally.latency.encoded_rows()),
        (files.HARNESS_ATTEMPTS, files.ATTEMPT_COLUMNS, tally.attempts.rows()),
        (files.HARNESS_REQUESTS, files.REQUEST_COLUMNS, tally.requests.rows()),
        (files.HARNESS_THROTTLES, files.THROTTLE_COLUMNS, tally.throttles.rows()),
        (files.HARNESS_CAPACITY, files.CAPACITY_COLUMNS, [_rounded(row) for row in tally.capacity.rows()]),
        (files.HARNESS_READS, files.READ_COLUMNS, tally.reads.rows()),
        (files.HARNESS_AGGREGATES, files.AGGREGATE_COLUMNS, tally.aggregates.rows()),
        (files.HARNESS_KEYS, files.KEY_COLUMNS, tally.keys.rows()),
        (files.HARNESS_KEY_THROTTLES, files.KEY_THROTTLE_COLUMNS, tally.keys.reason_rows()),
    ]
    written = [write_csv(run_dir / name, columns, rows) for name, columns, rows in tables]
    run_json = run_dir / files.HARNESS_RUN
    info = {**info, "estimated_capacity": [dict(zip(files.ESTIMATED_KEYS, _rounded(row), strict=True)) for row in tally.estimated.rows()]}
    with whole_file(run_json) as handle:
        handle.write(json.dumps(info, indent=2) + "\n")
    return written + [run_json]


def write_csv(path: Path, columns: list[str], rows: list[list]) -> Path:
    """A header and rows; the file is written even with no rows, so readers find every file."""
    with whole_file(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


@contextmanager
def whole_file(path: Path) -> Iterator[TextIO]:
    """A text file that appears whole or not at all: written beside `path`, then renamed over it.

    A full disk (or any error) leaves the previous `path` as it was, never a half-written file a
    report would read as fewer requests; the error is raised.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", newline="", encoding="utf-8") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _rounded(row: list) -> list:
    """Capacity units summed from floats (0.5 + 0.5 + ...) without 0.30000000000000004 artefacts."""
    return [round(value, 6) if isinstance(value, float) else value for value in row]
