"""The open model's numbers: latency from the intended start beside the service time, late starts, the schedule over time.

Read from harness_open_model.json, harness_corrected_latency.csv and harness_schedule.csv (written
only by runs with a target rate or stages); a run without them has no open-model view (None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.metrics import results_files as files
from harness.metrics.latency import new_histogram, summary_of
from harness.report.latency import ALL_REQUESTS, PERCENTILES
from harness.report.load import AGGREGATED, ReportError


@dataclass(frozen=True)
class OpenModelView:
    """What the report shows of an open-model (or staged) run."""

    info: dict
    """harness_open_model.json as written (totals, start lag percentiles, stage changes)."""
    corrected: pd.DataFrame
    """harness_corrected_latency.csv: one row per (type, name) plus the all-requests row (name ALL_REQUESTS)."""
    schedule: pd.DataFrame
    """Per second since the run's start: second, intended_starts, starts, late_starts, worst_lag_ms."""
    stage_seconds: tuple[tuple[float, float | None, int | None], ...]
    """Each stage's start (seconds since the run's start), its total rate and pool size."""

    @property
    def fell_behind(self) -> bool:
        """True when a scheduled start was late or never began: the generator could not keep the schedule."""
        return bool(self.info.get("late_starts") or self.info.get("unstarted_at_end"))

    def all_requests(self) -> dict | None:
        """The corrected all-requests row as a dict, None when nothing was recorded."""
        rows = self.corrected[self.corrected["name"] == ALL_REQUESTS]
        return rows.iloc[0].to_dict() if len(rows) else None


def open_model_view(run_dir: Path, origin: float) -> OpenModelView | None:
    """The open-model view of a run folder, None when the run had no schedule (no harness_open_model.json)."""
    path = run_dir / files.HARNESS_OPEN_MODEL
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not readable JSON: {exc}") from None
    stages = tuple((change["time"] - origin, change.get("rate"), change.get("users")) for change in info.get("stage_changes", []))
    corrected = _corrected(run_dir / files.HARNESS_CORRECTED_LATENCY, run_dir / files.HARNESS_CORRECTED_HISTOGRAMS)
    return OpenModelView(info, corrected, _schedule(run_dir / files.HARNESS_SCHEDULE, origin), stages)


def _corrected(path: Path, histograms: Path) -> pd.DataFrame:
    """Per-step corrected rows, and the all-requests row from the histograms without composite rows (as the Latency section)."""
    columns = files.LATENCY_COLUMNS
    if not path.exists():
        return pd.DataFrame(columns=columns)
    frame = pd.read_csv(path, dtype={"type": str, "name": str}, keep_default_na=False)
    for column in ["count", "min_ms", "mean_ms", *PERCENTILES]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    overall = _all_requests(histograms)
    if overall is not None:
        frame = pd.concat([frame[frame["type"] != ""], pd.DataFrame([overall], columns=columns)], ignore_index=True)
    frame.loc[(frame["type"] == "") & (frame["name"] == AGGREGATED), "name"] = ALL_REQUESTS
    return frame


def _all_requests(histograms: Path) -> list | None:
    """The all-requests row (harness_latency.csv's columns) of every non-composite corrected histogram merged."""
    if not histograms.exists():
        return None
    rows = pd.read_csv(histograms, dtype=str, keep_default_na=False)
    rows = rows[~rows["type"].isin(files.COMPOSITE_TYPES)]
    if rows.empty:
        return None
    merged = new_histogram()
    for encoded in rows["encoded"]:
        merged.decode_and_add(encoded)
    return ["", ALL_REQUESTS, *summary_of(merged)]


def _schedule(path: Path, origin: float) -> pd.DataFrame:
    columns = ["second", *files.SCHEDULE_COLUMNS[1:]]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    frame = pd.read_csv(path).apply(pd.to_numeric, errors="coerce")
    frame["second"] = frame["timestamp"] - origin
    return frame[columns]
