"""Throttling: every HTTP attempt DynamoDB throttled (retried or not), by operation, table and index, and over time.

botocore retries a throttled request inside one call, so a request that succeeded can hide
throttled attempts; only the harness's attempt counts (harness_attempts.csv, harness_throttles.csv)
see them. Throttled *requests* (failed after the retries) are per step, in operations.py.
"""

from __future__ import annotations

import pandas as pd

from harness.report.load import RunData
from harness.report.run_info import RunInfo

RESOURCE_COLUMNS = [
    "operation", "table", "index", "steps", "attempts", "throttled_attempts", "throttled_share", "error_attempts",
    "requests", "throttled_requests", "retries", "retries_per_request", "reasons",
]  # fmt: skip
KEYS = ["operation", "table", "index"]


def by_resource(data: RunData, ops: pd.DataFrame) -> pd.DataFrame:
    """One row per (operation, table, index): HTTP attempts and throttled attempts (harness_attempts.csv)
    beside the requests of the steps that use it (throttled after retries, SDK retries), and the reasons.

    Attempt columns are NaN without harness_attempts.csv; step columns are NaN for a target no step names.
    """
    steps = ops[~ops["composite"]].rename(columns={"type": "operation"})
    steps = steps.groupby(KEYS, as_index=False).agg(
        steps=("name", ", ".join), requests=("requests", "sum"), throttled_requests=("throttled_requests", "sum"), retries=("retries", lambda v: v.sum(min_count=1))
    )
    if data.attempts is not None:
        attempts = data.attempts.groupby(KEYS, as_index=False)[["attempts", "throttled_attempts", "error_attempts"]].sum()
    elif data.throttles is not None and len(data.throttles):
        attempts = data.throttles.groupby(KEYS, as_index=False)["throttled_attempts"].sum()
        attempts["attempts"] = attempts["error_attempts"] = float("nan")
    else:
        attempts = pd.DataFrame(columns=[*KEYS, "attempts", "throttled_attempts", "error_attempts"])
    frame = steps.merge(attempts, on=KEYS, how="outer") if len(attempts) else steps.assign(attempts=float("nan"), throttled_attempts=float("nan"), error_attempts=float("nan"))
    if frame.empty:
        return pd.DataFrame(columns=RESOURCE_COLUMNS)
    frame["steps"] = frame["steps"].fillna("")
    frame["throttled_share"] = frame["throttled_attempts"] / frame["attempts"].where(frame["attempts"] > 0)
    frame["retries_per_request"] = frame["retries"] / frame["requests"].where(frame["requests"] > 0)
    reasons = reason_counts(data)
    frame["reasons"] = [_reasons_text(reasons, tuple(row)) for row in frame[KEYS].itertuples(index=False)]
    return frame[RESOURCE_COLUMNS].sort_values(KEYS, ignore_index=True)


def reason_counts(data: RunData) -> pd.DataFrame:
    """(operation, table, index, reason) -> throttled attempts, most frequent first."""
    if data.throttles is None or data.throttles.empty:
        return pd.DataFrame(columns=["operation", "table", "index", "reason", "throttled_attempts"])
    counts = data.throttles.groupby(["operation", "table", "index", "reason"], as_index=False)["throttled_attempts"].sum()
    return counts.sort_values(["throttled_attempts", "reason"], ascending=[False, True], ignore_index=True)


def _reasons_text(reasons: pd.DataFrame, key: tuple) -> str:
    mine = reasons[(reasons["operation"] == key[0]) & (reasons["table"] == key[1]) & (reasons["index"] == key[2])]
    return ", ".join(f"{row.reason} ×{int(row.throttled_attempts)}" for row in mine.itertuples())


def over_time(data: RunData, start: float, end_second: float | None = None) -> pd.DataFrame:
    """Throttled attempts per second per table/index: second (since start), resource ("table" or "table / index"), throttled_attempts.

    Seconds without throttles are zero, from the start to the last second any file recorded.
    """
    if data.throttles is None or data.throttles.empty:
        return pd.DataFrame(columns=["second", "resource", "throttled_attempts"])
    frame = data.throttles.copy()
    frame["resource"] = [f"{table} / {index}" if index else table for table, index in zip(frame["table"], frame["index"], strict=False)]
    per_second = frame.pivot_table(index="timestamp", columns="resource", values="throttled_attempts", aggfunc="sum", fill_value=0)
    last = max(per_second.index.max(), end_second or 0)
    per_second = per_second.reindex(range(int(start), int(last) + 1), fill_value=0)
    per_second.index = per_second.index - int(start)
    return per_second.rename_axis("second").reset_index().melt(id_vars="second", var_name="resource", value_name="throttled_attempts")


def retry_policy(info: RunInfo) -> str:
    """The SDK retry settings in one sentence."""
    if info.max_attempts is None:
        return "SDK retry settings: unknown (no harness_run.json and no readable scenario.yaml)."
    retries = info.max_attempts - 1
    hidden = f"one request can hide up to {retries} throttled attempt{'s' if retries != 1 else ''}" if retries else "no retries: every throttled attempt fails its request"
    return f"SDK retries: botocore `{info.retry_mode}` mode, max_attempts {info.max_attempts} ({hidden})."
