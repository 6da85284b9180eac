"""A run folder read into DataFrames: Locust's CSVs, the harness_* files and the run's metadata.

Pure reading, no Locust: every file is optional. A missing harness_* file is noted in
`RunData.notes` and the report falls back to Locust's numbers; a missing Locust file reads as
an empty run. File names and columns: harness.metrics.results_files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import (
    OTHER,
    ConditionalCheckError,
    ConnectionFailure,
    HarnessError,
    RequestValidationError,
    ThrottledError,
    TransactionCanceledError,
    TransactionConflictError,
)
from harness.metrics import results_files as files
from harness.report.run_info import RunInfo, read_run_info

AGGREGATED = "Aggregated"
COMPOSITE_TYPES = files.COMPOSITE_TYPES
"""Rows that sum requests already counted in other rows (ring laps, chains): shown, never added to totals."""

# Locust's failure text starts with the exception class (repr), which names the outcome.
OUTCOME_OF_ERROR = {
    cls.__name__: cls.outcome
    for cls in (ThrottledError, ConditionalCheckError, TransactionCanceledError, TransactionConflictError, RequestValidationError, ConnectionFailure)
}

STATS_COLUMNS = {
    "Type": "type", "Name": "name", "Request Count": "requests", "Failure Count": "failures",
    "Average Response Time": "mean_ms", "Min Response Time": "min_ms", "Max Response Time": "max_ms",
    "Requests/s": "requests_per_s", "Failures/s": "failures_per_s",
    "50%": "p50_ms", "90%": "p90_ms", "95%": "p95_ms", "99%": "p99_ms", "99.9%": "p99_9_ms", "100%": "p100_ms",
}  # fmt: skip
HISTORY_COLUMNS = {
    "Timestamp": "timestamp", "User Count": "users", "Type": "type", "Name": "name",
    "Requests/s": "requests_per_s", "Failures/s": "failures_per_s",
    "50%": "p50_ms", "95%": "p95_ms", "99%": "p99_ms",
    "Total Request Count": "total_requests", "Total Failure Count": "total_failures",
}  # fmt: skip
FAILURE_COLUMNS = {"Method": "type", "Name": "name", "Error": "error", "Occurrences": "occurrences"}
TEXT_COLUMNS = frozenset({"type", "name", "error", "operation", "table", "index", "reason", "encoded", "key"})


class ReportError(HarnessError):
    """A run folder the report cannot read (no such folder, or a file that is not what its name says)."""


@dataclass(frozen=True)
class RunData:
    """Everything the report reads from one run folder; harness frames are None when their file is missing."""

    run_dir: Path
    info: RunInfo
    stats: pd.DataFrame
    """locust_stats.csv without the Aggregated row: type, name, requests, failures, mean/min/max, p50..p100, requests_per_s."""
    stats_total: pd.Series | None
    """Locust's Aggregated row (composite rows included), None for a file with no rows."""
    history: pd.DataFrame
    """locust_stats_history.csv, one row per (type, name) per second; Aggregated rows have type ""."""
    failures: pd.DataFrame
    """locust_failures.csv plus `outcome` (throttled, conditional, transaction_conflict, validation, connection, other)."""
    latency: pd.DataFrame | None
    histograms: pd.DataFrame | None
    attempts: pd.DataFrame | None
    requests: pd.DataFrame | None
    throttles: pd.DataFrame | None
    capacity: pd.DataFrame | None
    reads: pd.DataFrame | None
    aggregates: pd.DataFrame | None
    keys: pd.DataFrame | None
    key_throttles: pd.DataFrame | None
    notes: tuple[str, ...]

    @property
    def run_id(self) -> str:
        """The run folder's name, e.g. quickstart-20260101T000000Z."""
        return self.run_dir.name


def load_run(run_dir: str | Path) -> RunData:
    """Read a run folder; ReportError when it is not one (no Locust CSV and no harness file in it)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a folder")
    known = [files.LOCUST_STATS, files.HARNESS_RUN, files.HARNESS_LATENCY, files.SCENARIO_COPY]
    if not any((run_dir / name).exists() for name in known):
        raise ReportError(f"{run_dir}: not a run folder (none of {', '.join(known)} is in it)")
    notes: list[str] = []
    stats = _read(run_dir / files.LOCUST_STATS, STATS_COLUMNS, notes)
    total = stats[(stats["type"] == "") & (stats["name"] == AGGREGATED)]
    harness = {name: _read_harness(run_dir / filename, columns, notes) for name, filename, columns in _HARNESS_FILES}
    if not any(frame is not None for frame in harness.values()):
        notes[:] = [note for note in notes if not note.startswith("harness_")] + [NO_HARNESS_FILES]
    return RunData(
        run_dir=run_dir,
        info=read_run_info(run_dir, notes),
        stats=stats.drop(total.index).reset_index(drop=True),
        stats_total=total.iloc[0] if len(total) else None,
        history=_read(run_dir / files.LOCUST_HISTORY, HISTORY_COLUMNS, notes),
        failures=_with_outcome(_read(run_dir / files.LOCUST_FAILURES, FAILURE_COLUMNS, notes)),
        notes=tuple(notes),
        **harness,
    )


_HARNESS_FILES = (
    ("latency", files.HARNESS_LATENCY, files.LATENCY_COLUMNS),
    ("histograms", files.HARNESS_HISTOGRAMS, files.HISTOGRAM_COLUMNS),
    ("attempts", files.HARNESS_ATTEMPTS, files.ATTEMPT_COLUMNS),
    ("requests", files.HARNESS_REQUESTS, files.REQUEST_COLUMNS),
    ("throttles", files.HARNESS_THROTTLES, files.THROTTLE_COLUMNS),
    ("capacity", files.HARNESS_CAPACITY, files.CAPACITY_COLUMNS),
    ("reads", files.HARNESS_READS, files.READ_COLUMNS),
    ("aggregates", files.HARNESS_AGGREGATES, files.AGGREGATE_COLUMNS),
    ("keys", files.HARNESS_KEYS, files.KEY_COLUMNS),
    ("key_throttles", files.HARNESS_KEY_THROTTLES, files.KEY_THROTTLE_COLUMNS),
)


def outcome_of(error: str) -> str:
    """The outcome named by a Locust failure text such as "ThrottledError('ProvisionedThroughput...')"."""
    return OUTCOME_OF_ERROR.get(error.split("(", 1)[0].strip(), OTHER)


def _read(path: Path, columns: dict[str, str], notes: list[str]) -> pd.DataFrame:
    """A Locust CSV with columns renamed; an empty frame (noted) when the file is missing or empty."""
    frame = _read_csv(path, list(columns), notes)
    return _typed(frame.rename(columns=columns)[list(columns.values())])


def _read_harness(path: Path, columns: list[str], notes: list[str]) -> pd.DataFrame | None:
    """A harness_* CSV, or None when the file is missing."""
    if not path.exists():
        notes.append(f"{path.name} is missing: {_FALLBACK[path.name]}")
        return None
    return _typed(_read_csv(path, columns, notes)[columns])


NO_HARNESS_FILES = (
    "No harness_* files (a run of plain Locust, or metrics were not written): latencies are Locust's bucketed "
    "approximations; HTTP attempts, SDK retries, throttles over time, ThrottlingReasons and consumed capacity are unknown"
)
_FALLBACK = {
    files.HARNESS_LATENCY: "latencies are Locust's bucketed approximations",
    files.HARNESS_HISTOGRAMS: "the all-requests latency row is the collector's or Locust's Aggregated row",
    files.HARNESS_ATTEMPTS: "HTTP attempts (retries included) are unknown",
    files.HARNESS_REQUESTS: "throttled requests are counted from locust_failures.csv, SDK retries are unknown",
    files.HARNESS_THROTTLES: "throttles over time and ThrottlingReasons are unknown",
    files.HARNESS_CAPACITY: "consumed capacity is unknown, so is the on-demand cost",
    files.HARNESS_READS: "items returned and read per Query/Scan step are unknown",
    files.HARNESS_AGGREGATES: "the sums and counts steps computed are unknown",
    files.HARNESS_KEYS: "hot keys are unknown",
    files.HARNESS_KEY_THROTTLES: "throttles per partition key are unknown",
}


def _read_csv(path: Path, columns: list[str], notes: list[str]) -> pd.DataFrame:
    """Every cell as text (Locust writes "N/A" and "" types); missing required columns are an error."""
    if not path.exists() or path.stat().st_size == 0:
        if path.name.startswith(files.LOCUST_PREFIX):
            notes.append(f"{path.name} is missing or empty: read as a run without requests")
        return pd.DataFrame({column: pd.Series(dtype=str) for column in columns})
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not a readable CSV file: {str(exc).splitlines()[0]}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReportError(f"{path}: expected columns {', '.join(missing)}, found {', '.join(frame.columns)}")
    return frame


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as numbers ("N/A" and "" become NaN), text as text."""
    frame = frame.copy()
    for column in frame.columns:
        if column not in TEXT_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _with_outcome(failures: pd.DataFrame) -> pd.DataFrame:
    failures = failures.copy()
    failures["outcome"] = failures["error"].map(outcome_of) if len(failures) else pd.Series(dtype=str)
    return failures

