"""Every number of a report, computed from a run folder's files alone (nothing written here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.report import capacity, hot_keys, latency, operations, reads, throttling
from harness.report.cost import CostEstimate, NoPricesForRegion, estimate, load_prices
from harness.report.load import RunData, load_run
from harness.report.open_model import OpenModelView, open_model_view
from harness.report.thresholds import ThresholdResult, check
from harness.report.window import run_seconds, run_start


@dataclass(frozen=True)
class Analysis:
    """The tables, time series and verdicts of one run."""

    data: RunData
    seconds: float | None
    start: float | None
    operations: pd.DataFrame
    totals: dict
    latency: pd.DataFrame
    failures: pd.DataFrame
    throttles: pd.DataFrame
    capacity: pd.DataFrame
    cost: CostEstimate | None
    cost_note: str | None
    thresholds: tuple[ThresholdResult, ...]
    notes: tuple[str, ...]
    latency_series: pd.DataFrame
    throughput_series: pd.DataFrame
    throughput_window: int
    throttle_series: pd.DataFrame
    capacity_series: pd.DataFrame
    reads: pd.DataFrame
    """Items returned vs read per Query/Scan step, and the aggregates steps computed (report.reads)."""
    hot_keys: pd.DataFrame
    """The most used partition keys per table and index (report.hot_keys.top_keys)."""
    key_spread: pd.DataFrame
    """Per table and index: keys, the hottest key's share, the hottest 1%'s share, throttles (report.hot_keys.spread)."""
    key_ranks: pd.DataFrame
    open_model: OpenModelView | None = None
    """Runs at a target rate or in stages: corrected latency, late starts, the schedule over time."""

    @property
    def broken(self) -> tuple[ThresholdResult, ...]:
        """The threshold results that failed."""
        return tuple(result for result in self.thresholds if not result.ok)


def analyse(run_dir: str | Path, pricing: Path | None = None, pricing_region: str | None = None) -> Analysis:
    """Read a run folder and compute everything the report shows.

    `pricing` overrides the shipped pricing.yaml; `pricing_region` the run's region for prices.
    """
    data = load_run(run_dir)
    seconds, start = run_seconds(data), run_start(data)
    ops = operations.operations(data)
    table = latency.latency_table(data)
    capacity_summary = capacity.summary(data, seconds)
    cost, cost_note = _cost(data, capacity_summary, seconds, pricing, pricing_region)
    origin = start if start is not None else 0.0
    end_second = origin + seconds if seconds else None
    return Analysis(
        data=data,
        seconds=seconds,
        start=start,
        operations=ops,
        totals=operations.totals(ops),
        latency=table,
        failures=operations.failure_table(data),
        throttles=throttling.by_resource(data, ops),
        capacity=capacity_summary,
        cost=cost,
        cost_note=cost_note,
        thresholds=tuple(check(data.info.thresholds, ops, table)),
        notes=data.notes + _partiql_capacity_note(data, ops, capacity_summary),
        latency_series=latency.latency_over_time(data, origin),
        throughput_series=operations.throughput_over_time(data, origin),
        throughput_window=operations.update_interval(data),
        throttle_series=throttling.over_time(data, origin, end_second),
        capacity_series=capacity.over_time(data, origin, end_second),
        reads=reads.read_table(data),
        hot_keys=hot_keys.top_keys(data),
        key_spread=hot_keys.spread(data),
        key_ranks=hot_keys.rank_series(data),
        open_model=open_model_view(data.run_dir, origin),
    )


def _partiql_capacity_note(data: RunData, ops: pd.DataFrame, capacity_summary: pd.DataFrame) -> tuple[str, ...]:
    """Tables PartiQL requests reached that recorded no units: DynamoDB Local answers PartiQL without ConsumedCapacity."""
    if data.capacity is None:
        return ()
    tables = sorted(set(ops.loc[(ops["type"] == "ExecuteStatement") & (ops["requests"] > 0), "table"]) - {""})
    consumed = capacity_summary.groupby("table")[["read_units", "write_units"]].sum().sum(axis=1)
    silent = [table for table in tables if consumed.get(table, 0) == 0]
    estimated = sorted({row.table for row in capacity_summary.itertuples() if row.units_source != "reported"})
    if estimated:
        return (f"Consumed capacity on {', '.join(estimated)} is estimated: DynamoDB Local answers PartiQL without ConsumedCapacity (see Capacity).",) + _silent_note(silent)
    return _silent_note(silent)


def _silent_note(silent: list[str]) -> tuple[str, ...]:
    if not silent:
        return ()
    return (
        f"No consumed capacity was recorded on {', '.join(silent)}, which PartiQL (ExecuteStatement) requests reached: "
        "DynamoDB Local answers PartiQL without ConsumedCapacity, so units and cost read zero there.",
    )


def _cost(data: RunData, capacity_summary: pd.DataFrame, seconds, pricing, pricing_region) -> tuple[CostEstimate | None, str | None]:
    """The estimate, or None and why not."""
    if capacity_summary.empty:
        return None, "No cost estimate: the run folder names no table (no harness_run.json, scenario.yaml or harness_capacity.csv)"
    region = pricing_region or data.info.region
    if region is None:
        return None, "No cost estimate: the run's region is unknown (pass --pricing-region)"
    try:
        prices = load_prices(region, pricing)
    except NoPricesForRegion as exc:
        return None, f"No cost estimate: {exc}"
    return estimate(capacity_summary, seconds, prices), None
