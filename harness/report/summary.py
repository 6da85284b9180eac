"""summary.json: the report's numbers for machines, with stable keys (null where a number is unknown).

Top-level keys: schema, run, totals, operations, latency_all_requests, throttling, capacity,
reads, hot_keys, cost, thresholds, plots, notes, open_model (null for a closed-model run).
Latencies are milliseconds, ratios 0..1, money USD.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.report.analysis import Analysis
from harness.report.latency import HARNESS, PERCENTILES

SCHEMA = "ddb-harness-summary/1"
LATENCY_KEYS = {"p50_ms": "p50", "p90_ms": "p90", "p95_ms": "p95", "p99_ms": "p99", "p99_9_ms": "p99_9", "max_ms": "max"}


def summary(analysis: Analysis, plot_files: list[str]) -> dict:
    """The summary as a JSON-ready dict (keys in a fixed order)."""
    return {
        "schema": SCHEMA,
        "run": _run(analysis),
        "totals": _numbers(analysis.totals),
        "operations": [_operation(row, analysis.latency) for row in analysis.operations.to_dict("records")],
        "latency_all_requests": _overall(analysis.latency),
        "throttling": _throttling(analysis),
        "capacity": [_numbers(row) for row in analysis.capacity.to_dict("records")],
        "reads": [_numbers(row) for row in analysis.reads.to_dict("records")],
        "hot_keys": _hot_keys(analysis),
        "cost": _cost(analysis),
        "thresholds": _thresholds(analysis),
        "plots": sorted(plot_files),
        "notes": list(analysis.notes),
        "open_model": _open_model(analysis),
    }


def _run(analysis: Analysis) -> dict:
    info = analysis.data.info
    return {
        "run_id": analysis.data.run_id,
        "scenario": info.scenario,
        "target_kind": info.target_kind,
        "target": {"kind": info.target_kind, "host": info.target_host, "port": info.target_port, "region": info.region, "capacity_gate": info.capacity_gate},
        "region": info.region,
        "start_time": _number(info.start_time),
        "end_time": _number(info.end_time),
        "duration_s": _number(analysis.seconds),
        "workers": info.workers,
        "lost_workers": info.lost_workers,
        "interruption": info.interruption,
        "retries": {"mode": info.retry_mode, "max_attempts": info.max_attempts},
        "latency_source": HARNESS if (analysis.latency["source"] == HARNESS).any() else "locust",
        "has_harness_files": {name: getattr(analysis.data, name) is not None for name in ("latency", "histograms", "attempts", "requests", "throttles", "capacity", "reads", "aggregates", "keys", "key_throttles")},
    }


def _hot_keys(analysis: Analysis) -> list[dict]:
    """Per table and index: the spread numbers and its top keys."""
    top = analysis.hot_keys
    out = []
    for row in analysis.key_spread.to_dict("records"):
        keys = top[(top["table"] == row["table"]) & (top["index"] == row["index"])]
        out.append({**_numbers(row), "top_keys": [_numbers(key) for key in keys.drop(columns=["table", "index"]).to_dict("records")]})
    return out


def _operation(row: dict, latency: pd.DataFrame) -> dict:
    found = latency[(latency["type"] == row["type"]) & (latency["name"] == row["name"])]
    out = _numbers(row)
    out["latency_ms"] = _latency(found.iloc[0]) if len(found) else None
    return out


def _latency(row: pd.Series) -> dict:
    return {
        "source": row["source"],
        "count": int(row["count"]),
        "mean": _number(row["mean_ms"]),
        **{LATENCY_KEYS[p]: _number(row[p]) for p in PERCENTILES},
        "locust": {LATENCY_KEYS[p]: _number(row[f"locust_{p}"]) for p in PERCENTILES},
    }


def _overall(latency: pd.DataFrame) -> dict | None:
    overall = latency[latency["type"] == ""]
    if overall.empty:
        return None
    return {"name": overall.iloc[0]["name"], **_latency(overall.iloc[0])}


def _throttling(analysis: Analysis) -> dict:
    frame = analysis.throttles
    series = analysis.throttle_series
    per_second = series.groupby("second")["throttled_attempts"].sum() if len(series) else pd.Series(dtype=float)
    return {
        "retries": {"mode": analysis.data.info.retry_mode, "max_attempts": analysis.data.info.max_attempts},
        "attempts": _number(frame["attempts"].sum(min_count=1)) if len(frame) else None,
        "throttled_attempts": _number(frame["throttled_attempts"].sum(min_count=1)) if len(frame) else None,
        "throttled_requests": analysis.totals["throttled_requests"],
        "peak_throttled_attempts_per_s": _number(per_second.max()) if len(per_second) else None,
        "by_resource": [_numbers(row) for row in frame.to_dict("records")],
    }


COST_TOTALS = (
    "run_usd", "per_hour_usd", "per_month_usd", "on_demand_run_usd", "on_demand_per_hour_usd", "on_demand_per_month_usd",
    "provisioned_run_usd", "provisioned_per_hour_usd", "provisioned_per_month_usd",
)  # fmt: skip


def _cost(analysis: Analysis) -> dict:
    cost = analysis.cost
    if cost is None:
        return {"estimate": True, "available": False, "note": analysis.cost_note, "pricing": None, **dict.fromkeys(COST_TOTALS), "resources": []}
    prices = cost.prices
    return {
        "estimate": True,
        "available": True,
        "note": None,
        "pricing": {
            "region": prices.region, "source": prices.source, "date": prices.date, "file": prices.file, "currency": prices.currency,
            "on_demand_read_per_million": prices.read_per_million, "on_demand_write_per_million": prices.write_per_million,
            "provisioned_rcu_hour": prices.rcu_hour, "provisioned_wcu_hour": prices.wcu_hour, "hours_per_month": prices.hours_per_month,
        },
        **{key: _number(getattr(cost, key)) for key in COST_TOTALS},
        "resources": [_numbers(row) for row in cost.resources.to_dict("records")],
    }  # fmt: skip


def _thresholds(analysis: Analysis) -> dict:
    results = [
        {"step": result.step, "type": result.type, "name": result.name, "metric": result.metric, "limit": result.limit, "value": _number(result.value), "ok": result.ok}
        for result in analysis.thresholds
    ]
    return {"checked": len(results), "broken": sum(not result["ok"] for result in results), "passed": not analysis.broken, "results": results}


def _numbers(row: dict) -> dict:
    return {key: _number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _plain(value) for key, value in row.items()}


def _plain(value):
    """numpy scalars and booleans as Python values."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value) -> float | int | None:
    """JSON numbers: NaN -> null; floats kept to 9 significant digits so the file is stable across platforms."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return float(f"{value:.9g}")


OPEN_MODEL_LATENCY = ("p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms")


def _open_model(analysis: Analysis) -> dict | None:
    """A run at a target rate or in stages: both latencies of all requests, late starts, start lag, stages."""
    view = analysis.open_model
    if view is None:
        return None
    info = view.info
    service = analysis.latency[analysis.latency["type"] == ""]
    corrected = view.all_requests()
    keys = ("arrivals", "rate", "late_after_ms", "intended_starts", "starts", "late_starts", "worst_lag_ms", "unstarted_at_end", "unstarted_worst_lag_ms")
    return {
        **{key: _plain(info.get(key)) for key in keys},
        "fell_behind": view.fell_behind,
        "start_lag_ms": {key: _number(value) for key, value in (info.get("start_lag_ms") or {}).items()},
        "service_latency_ms": _open_latency(service.iloc[0].to_dict()) if len(service) else None,
        "corrected_latency_ms": _open_latency(corrected) if corrected else None,
        "corrected_by_step": [
            {"type": row["type"], "name": row["name"], **_open_latency(row)} for row in view.corrected.to_dict("records") if row["type"] != ""
        ],
        "stages": [{"start_s": _number(start), "rate": _number(rate), "users": users} for start, rate, users in view.stage_seconds],
    }


def _open_latency(row: dict) -> dict:
    return {"count": _number(row["count"]), **{LATENCY_KEYS[p]: _number(row[p]) for p in OPEN_MODEL_LATENCY}}
