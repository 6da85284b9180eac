"""An estimate of what the run's capacity costs on DynamoDB, on demand and provisioned, from a pricing file.

On demand bills the request units consumed (ConsumedCapacity of an on-demand table is in request
units); provisioned bills capacity units per hour whether used or not. Projections assume the
measured rate holds. Storage, data transfer, backups, streams and the free tier are not included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from harness.errors import BadInput

SHIPPED_PRICING = Path(__file__).with_name("pricing.yaml")
MILLION = 1_000_000
PROVISIONED = "PROVISIONED"
COST_COLUMNS = [
    "table", "index", "billed_as", "read_units", "write_units",
    "on_demand_run_usd", "on_demand_per_hour_usd", "on_demand_per_month_usd",
    "provisioned_basis", "provisioned_rcu", "provisioned_wcu",
    "provisioned_run_usd", "provisioned_per_hour_usd", "provisioned_per_month_usd", "units_source",
]  # fmt: skip


class NoPricesForRegion(BadInput):
    """The pricing file has no entry for the region asked."""


@dataclass(frozen=True)
class Prices:
    """One region's prices and where they come from."""

    region: str
    source: str
    date: str
    file: str
    currency: str
    read_per_million: float
    write_per_million: float
    rcu_hour: float
    wcu_hour: float
    hours_per_month: float


@dataclass(frozen=True)
class CostEstimate:
    """Per resource rows (COST_COLUMNS) and totals; run_usd is each resource at its own billing mode."""

    prices: Prices
    resources: pd.DataFrame
    run_usd: float
    per_hour_usd: float
    per_month_usd: float
    on_demand_run_usd: float
    on_demand_per_hour_usd: float
    on_demand_per_month_usd: float
    provisioned_run_usd: float
    provisioned_per_hour_usd: float
    provisioned_per_month_usd: float


def load_prices(region: str | None, path: Path | None = None) -> Prices:
    """The prices for `region` from `path` (default: the shipped pricing.yaml).

    BadInput when the file is unreadable or malformed; NoPricesForRegion when the region has no entry.
    """
    path = Path(path) if path else SHIPPED_PRICING
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: cannot read pricing file: {str(exc).splitlines()[0]}") from None
    regions = data.get("regions") if isinstance(data, dict) else None
    if not isinstance(regions, dict):
        raise BadInput(f"{path}: expected a mapping with 'regions', found {type(data).__name__}")
    if region not in regions:
        raise NoPricesForRegion(f"{path.name} has no prices for region {region!r} (it has: {', '.join(regions)}); pick one with --pricing-region or pass --pricing FILE")
    entry = regions[region]
    try:
        return Prices(
            region=region,
            source=str(data.get("source", "unknown")),
            date=str(data.get("date", "unknown")),
            file="shipped pricing.yaml" if path == SHIPPED_PRICING else str(path),
            currency=str(data.get("currency", "USD")),
            read_per_million=float(entry["on_demand"]["read_per_million"]),
            write_per_million=float(entry["on_demand"]["write_per_million"]),
            rcu_hour=float(entry["provisioned"]["rcu_hour"]),
            wcu_hour=float(entry["provisioned"]["wcu_hour"]),
            hours_per_month=float(data.get("hours_per_month", 730)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"{path}: regions.{region}: expected on_demand.read_per_million/write_per_million and provisioned.rcu_hour/wcu_hour numbers ({exc!r})") from None


def estimate(capacity: pd.DataFrame, seconds: float | None, prices: Prices) -> CostEstimate:
    """Cost of each table and GSI of a capacity summary (harness.report.capacity.summary) over `seconds`."""
    rows = pd.DataFrame([_resource_cost(row, seconds, prices) for row in capacity.itertuples(index=False)], columns=COST_COLUMNS)
    provisioned = rows["billed_as"] == "provisioned"

    def billed(suffix: str) -> float:
        return _sum(pd.concat([rows.loc[provisioned, f"provisioned_{suffix}"], rows.loc[~provisioned, f"on_demand_{suffix}"]]))

    return CostEstimate(
        prices=prices,
        resources=rows,
        run_usd=billed("run_usd"),
        per_hour_usd=billed("per_hour_usd"),
        per_month_usd=billed("per_month_usd"),
        **{f"{mode}_{suffix}": _sum(rows[f"{mode}_{suffix}"]) for mode in ("on_demand", "provisioned") for suffix in ("run_usd", "per_hour_usd", "per_month_usd")},
    )


def _resource_cost(row, seconds: float | None, prices: Prices) -> dict:
    hours = seconds / 3600 if seconds else float("nan")
    on_demand = row.read_units / MILLION * prices.read_per_million + row.write_units / MILLION * prices.write_per_million
    on_demand_hour = on_demand / hours if hours == hours and hours > 0 else float("nan")
    if row.billing_mode == PROVISIONED and row.provisioned_rcu == row.provisioned_rcu:
        basis, rcu, wcu = "as provisioned", row.provisioned_rcu, row.provisioned_wcu
    else:
        basis, rcu, wcu = "measured peak", _units_for(row.peak_rcu_per_s), _units_for(row.peak_wcu_per_s)
    hour = rcu * prices.rcu_hour + wcu * prices.wcu_hour
    return {
        "table": row.table,
        "index": row.index,
        "billed_as": "provisioned" if row.billing_mode == PROVISIONED else "on-demand",
        "read_units": row.read_units,
        "write_units": row.write_units,
        "on_demand_run_usd": on_demand,
        "on_demand_per_hour_usd": on_demand_hour,
        "on_demand_per_month_usd": on_demand_hour * prices.hours_per_month,
        "provisioned_basis": basis,
        "provisioned_rcu": rcu,
        "provisioned_wcu": wcu,
        "provisioned_run_usd": hour * hours,
        "provisioned_per_hour_usd": hour,
        "provisioned_per_month_usd": hour * prices.hours_per_month,
        "units_source": getattr(row, "units_source", "reported"),
    }


def _units_for(peak: float) -> float:
    """Provisioned units that serve a measured per-second peak: rounded up, at least 1 (DynamoDB's minimum)."""
    return float(max(1, math.ceil(peak - 1e-9))) if peak == peak else float("nan")


def _sum(values: pd.Series) -> float:
    """A total that is unknown (NaN) when any part is unknown."""
    return float(values.sum()) if not values.isna().any() else float("nan")
