"""The scenario's thresholds checked against the report's numbers; a broken one fails CI (exit code 3).

A threshold on a step checks that step's DynamoDB operation row (composite Lap rows are not
checked); "*" checks every step on its own. Latency limits use the exact percentiles where
harness_latency.csv exists, Locust's otherwise. A step without requests breaks its thresholds:
a run that did nothing has not met them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.scenario import Threshold

RATIOS = ("error_ratio", "throttle_ratio")


@dataclass(frozen=True)
class ThresholdResult:
    """One limit of one threshold on one row."""

    step: str
    """The threshold's step as written ("*" or a step name)."""
    type: str
    name: str
    metric: str
    limit: float
    value: float | None
    ok: bool

    def describe(self) -> str:
        """'walk_ring (GetItem): p99_ms 124.7 > 0.001' style line."""
        where = f"{self.name} ({self.type})" if self.type else self.name
        if self.value is None:
            return f"{where}: {self.metric}: no requests recorded (limit {_show(self.metric, self.limit)})"
        relation = "<=" if self.ok else ">"
        return f"{where}: {self.metric} {_show(self.metric, self.value)} {relation} {_show(self.metric, self.limit)}"


def check(thresholds: tuple[Threshold, ...], ops: pd.DataFrame, latency: pd.DataFrame) -> list[ThresholdResult]:
    """Every (threshold, limit, matching row) result, in the scenario's order."""
    steps = ops[~ops["composite"]]
    results = []
    for threshold in thresholds:
        rows = steps if threshold.step == "*" else steps[steps["name"] == threshold.step]
        if rows.empty:
            name = "every step" if threshold.step == "*" else threshold.step
            results += [ThresholdResult(threshold.step, "", name, metric, limit, None, False) for metric, limit in threshold.limits().items()]
            continue
        for row in rows.itertuples(index=False):
            for metric, limit in threshold.limits().items():
                value = _value(metric, row, latency)
                ok = value is not None and value <= limit
                results.append(ThresholdResult(threshold.step, row.type, row.name, metric, limit, value, ok))
    return results


def _value(metric: str, row, latency: pd.DataFrame) -> float | None:
    if row.requests == 0:
        return None
    if metric in RATIOS:
        return float(getattr(row, metric))
    found = latency[(latency["type"] == row.type) & (latency["name"] == row.name)]
    value = found.iloc[0][metric] if len(found) else float("nan")
    return None if value != value else float(value)


def _show(metric: str, value: float) -> str:
    return f"{value:.4g}" if metric in RATIOS else f"{value:.4g} ms"
