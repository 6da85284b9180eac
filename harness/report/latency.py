"""Latency per step: exact percentiles (harness_latency.csv, HDR histograms) beside Locust's bucketed ones.

Locust rounds every response time before its percentiles (whole ms below 100 ms, then two
significant digits), so its p99 of 0.7 ms reads 1 and of 147 ms reads 150. Where the harness's
file exists its numbers are the report's; Locust's are kept beside them and shown where they
differ from the exact value rounded Locust's way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.load import AGGREGATED, COMPOSITE_TYPES, RunData

PERCENTILES = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99_9_ms", "max_ms")
LABELS = {"p50_ms": "p50", "p90_ms": "p90", "p95_ms": "p95", "p99_ms": "p99", "p99_9_ms": "p99.9", "max_ms": "max"}
HARNESS, LOCUST = "harness", "locust"
ALL_REQUESTS = "All requests"


def latency_table(data: RunData) -> pd.DataFrame:
    """One row per (type, name) plus an all-requests row (type "", name ALL_REQUESTS).

    Columns: type, name, composite, source (harness | locust), count, mean_ms, the PERCENTILES,
    and locust_<percentile> for each (NaN where Locust has no row).
    """
    exact = data.latency.set_index(["type", "name"]) if data.latency is not None else None
    stats = data.stats.set_index(["type", "name"])
    keys = list(stats.index)
    if exact is not None:
        keys += [key for key in exact.index if key not in stats.index and key != ("", AGGREGATED)]
    rows = [_row(key, exact, stats) for key in sorted(keys, key=lambda key: (key[1], key[0]))]
    overall = _overall(data, exact)
    if overall is not None:
        rows.append(overall)
    columns = ["type", "name", "composite", "source", "count", "mean_ms", *PERCENTILES, *(f"locust_{p}" for p in PERCENTILES)]
    return pd.DataFrame(rows, columns=columns).astype({"composite": bool})


def _row(key: tuple[str, str], exact: pd.DataFrame | None, stats: pd.DataFrame) -> dict:
    locust = _locust_values(stats.loc[key]) if key in stats.index else dict.fromkeys(PERCENTILES, np.nan)
    row = {"type": key[0], "name": key[1], "composite": key[0] in COMPOSITE_TYPES}
    if exact is not None and key in exact.index:
        found = exact.loc[key]
        row.update(source=HARNESS, count=int(found["count"]), mean_ms=found["mean_ms"], **{p: found[p] for p in PERCENTILES})
    else:
        found = stats.loc[key]
        row.update(source=LOCUST, count=int(found["requests"]), mean_ms=found["mean_ms"], **locust)
    return row | {f"locust_{p}": value for p, value in locust.items()}


def _locust_values(stats_row: pd.Series) -> dict:
    """Locust's percentiles of one stats row; its max is the exact Max Response Time column."""
    return {p: (stats_row["max_ms"] if p == "max_ms" else stats_row[p]) for p in PERCENTILES}


def _overall(data: RunData, exact: pd.DataFrame | None) -> dict | None:
    """All non-composite requests: the collector's Aggregated row, or its histograms merged without composite rows.

    Locust's Aggregated row (and the collector's) include composite rows: when the run has some,
    such a row is named for what it is, and Locust's is shown beside only a row that includes them too.
    """
    composites = bool(data.stats["type"].isin(COMPOSITE_TYPES).any()) or (exact is not None and any(key[0] in COMPOSITE_TYPES for key in exact.index))
    aggregated = exact.loc[("", AGGREGATED)] if exact is not None and ("", AGGREGATED) in exact.index else None
    locust_total = data.stats_total if data.stats_total is not None and data.stats_total["requests"] > 0 else None
    merged = _merged_histograms(data.histograms) if composites or aggregated is None else None  # else the collector's row is the same
    if merged is not None:
        row, includes_composites = {"source": HARNESS, **merged}, False
    elif aggregated is not None:
        row = {"source": HARNESS, "count": int(aggregated["count"]), "mean_ms": aggregated["mean_ms"], **{p: aggregated[p] for p in PERCENTILES}}
        includes_composites = composites
    elif locust_total is not None:
        row = {"source": LOCUST, "count": int(locust_total["requests"]), "mean_ms": locust_total["mean_ms"], **_locust_values(locust_total)}
        includes_composites = composites
    else:
        return None
    beside = locust_total is not None and (includes_composites or not composites)
    locust = _locust_values(locust_total) if beside else dict.fromkeys(PERCENTILES, np.nan)
    name = f"{AGGREGATED} (Lap and Chain rows included)" if includes_composites else ALL_REQUESTS
    return {"type": "", "name": name, "composite": False, **row} | {f"locust_{p}": value for p, value in locust.items()}


def _merged_histograms(histograms: pd.DataFrame | None) -> dict | None:
    """count, mean and PERCENTILES of every non-composite histogram merged, or None without histograms."""
    if histograms is None:
        return None
    rows = histograms[~histograms["type"].isin(COMPOSITE_TYPES) & (histograms["name"] != AGGREGATED)]
    if rows.empty:
        return None
    from harness.metrics.latency import new_histogram, summary_of  # the collector's own histogram settings

    merged = new_histogram()
    for encoded in rows["encoded"]:
        merged.decode_and_add(encoded)
    count, _min, mean, *percentiles = summary_of(merged)
    return {"count": int(count), "mean_ms": mean, **dict(zip(PERCENTILES, percentiles, strict=False))}


def locust_bucket(response_time_ms: float) -> float:
    """A response time rounded the way Locust stores it (locust.stats.bucket_response_time)."""
    if response_time_ms < 100:
        return round(response_time_ms)
    if response_time_ms < 1000:
        return round(response_time_ms, -1)
    if response_time_ms < 10000:
        return round(response_time_ms, -2)
    return round(response_time_ms, -3)


def locust_differs(percentile: str, exact: float, locust: float) -> bool:
    """True when Locust's value is not the exact one as Locust would round it (max: off by over 1%)."""
    if exact != exact or locust != locust:
        return False
    if percentile == "max_ms":
        return abs(exact - locust) > max(0.01 * abs(exact), 0.01)
    return locust_bucket(exact) != locust


def latency_over_time(data: RunData, start: float) -> pd.DataFrame:
    """Locust's p50/p95/p99 per step per second (its rolling window of the last 10 s); 0 means no data."""
    history = data.history[(data.history["type"] != "")].dropna(subset=["timestamp"])
    frame = history[["timestamp", "type", "name", "p50_ms", "p95_ms", "p99_ms"]].copy()
    frame["second"] = frame.pop("timestamp") - start
    for column in ("p50_ms", "p95_ms", "p99_ms"):
        frame[column] = frame[column].where(frame[column] > 0)
    return frame
