"""The most a run can cost on real DynamoDB: an upper bound from the scenario alone, before any request.

- **Provisioned** tables and GSIs: their highest provisioned capacity (capacity_schedule included) x
  price per unit-hour x the hours they may be billed (the dataset loads at that capacity, then the run
  and its stop timeout), rounded up to whole hours, because DynamoDB bills provisioned capacity by the hour.
- **On demand** tables and each GSI: the request units DynamoDB lets them serve in the run time plus
  the stop timeout, at most. A new on-demand table serves up to 4,000 write and 12,000 read request
  units per second (double its initial 2,000/6,000 peak); it may double again every 30 minutes (a new
  peak counts once it is 30 minutes old), never above the default per-table quota of 40,000 each. A
  table that already exists may have peaked higher before, so it is bounded by that quota from the
  start, or by its own OnDemandThroughput maximum when one is set. An account with a raised quota can
  go beyond. Each GSI is bounded like a table.
- **Dataset load** writes (on-demand tables): items x write units per item on the table and each GSI
  its items reach; the units per item are those of the largest of the first 1,000 items.

Not counted: storage, streams, backups, data transfer, the free tier. Prices: harness/report/pricing.yaml.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from harness.datasets.sizes import item_size
from harness.scenario import Capacity, Scenario, TableSpec

NEW_TABLE_READS_PER_S = 12_000  # DynamoDB's initial on-demand throughput: double the 6,000 RRU initial peak
NEW_TABLE_WRITES_PER_S = 4_000  # and double the 2,000 WRU initial peak
TABLE_QUOTA_PER_S = 40_000  # default per-table (and per-GSI) quota of read and of write request units
PEAK_WINDOW_S = 30 * 60  # a new peak counts after 30 minutes: the allowance may double once per window
SAMPLED_ITEMS = 1_000
MILLION = 1_000_000
HOUR_S = 3600
WRITE_UNIT_BYTES = 1024

# Where the numbers come from, printed under the plan.
ON_DEMAND_BASIS = (
    "on-demand bound: DynamoDB's throughput for a new on-demand table, per table and GSI "
    f"({NEW_TABLE_WRITES_PER_S:,} WRU/s, {NEW_TABLE_READS_PER_S:,} RRU/s, doubling every 30 min at most, "
    f"capped at the default {TABLE_QUOTA_PER_S:,}/s per-table quota; an existing table: that quota or its "
    "OnDemandThroughput maximum) x (run time + stop timeout), plus the dataset load's writes"
)
PROVISIONED_BASIS = "provisioned: RCU x price + WCU x price per hour x (load + run + stop timeout), rounded up to whole hours"


@dataclass(frozen=True)
class UnitPrices:
    """The four prices the ceiling uses (USD)."""

    read_per_million: float
    write_per_million: float
    rcu_hour: float
    wcu_hour: float


@dataclass(frozen=True)
class ResourceCost:
    """The ceiling of one table ("" index) or GSI."""

    table: str
    index: str
    billing: str
    """"provisioned" or "on-demand"."""
    read_units: float
    """Provisioned: RCU. On demand: read request units over the run, at most."""
    write_units: float
    """Provisioned: WCU. On demand: write request units over the run (load included), at most."""
    usd: float
    basis: str


@dataclass(frozen=True)
class Ceiling:
    """The cost ceiling of a run: every table and GSI, and what provisioned capacity costs per hour after it."""

    resources: tuple[ResourceCost, ...]
    seconds: float
    """Run time + stop timeout (0 for `setup` alone)."""
    billed_hours: int
    """Hours of provisioned capacity counted (0 without provisioned tables)."""
    provisioned_per_hour_usd: float

    @property
    def usd(self) -> float:
        """The total ceiling in USD."""
        return sum(resource.usd for resource in self.resources)


def on_demand_units(seconds: float, first_rate: float, quota: float = TABLE_QUOTA_PER_S, grows: bool = True) -> float:
    """Request units a resource can serve in `seconds`: `first_rate` per second, doubling every 30 minutes (if `grows`), at most `quota`."""
    units, start = 0.0, 0.0
    for window in itertools.count():
        if start >= seconds:
            return units
        rate = min(first_rate * (2**window if grows else 1), quota)
        end = min(seconds, start + PEAK_WINDOW_S)
        units += rate * (end - start)
        start = end


def load_writes(spec: TableSpec) -> tuple[int, int, tuple[str, ...]]:
    """(items, write units per item, GSIs the items reach) of a table's dataset load; (0, 0, ()) without one."""
    from harness.datasets import dataset_items  # the same items the loader sends

    dataset = spec.dataset
    if dataset is None or dataset.load == "never":
        return 0, 0, ()
    items, total = dataset_items(spec)
    sample = list(itertools.islice(items, SAMPLED_ITEMS))
    if not total or not sample:
        return 0, 0, ()
    units = max(math.ceil(item_size(item) / WRITE_UNIT_BYTES) for item in sample)
    reached = tuple(index.name for index in spec.gsis if any(all(name in item for name in index.key.names()) for item in sample))
    return total, units, reached


def highest_capacity(spec: TableSpec, index: str = "") -> Capacity:
    """The most capacity a table (or one of its GSIs) is given in the run: its own, or a capacity_schedule step's."""
    base = spec.capacity if not index else spec.gsi(index).capacity
    changes = [change if not index else change.gsis.get(index) for change in spec.capacity_schedule]
    read = max([base.read] + [change.read for change in changes if change])
    write = max([base.write] + [change.write for change in changes if change])
    return Capacity(read=read, write=write)


def estimate(
    scenario: Scenario,
    run_seconds: float,
    prices: UnitPrices,
    loaded: set[str] | None = None,
    existing: dict[str, dict] | None = None,
) -> Ceiling:
    """The run's cost ceiling. `loaded`: tables whose dataset will be loaded (default: every table with a
    dataset to load, as if the run creates them all). `existing`: DescribeTable answers of tables that
    already exist (their on-demand bound starts at the quota)."""
    existing = existing or {}
    loads = {spec.name: load_writes(spec) for spec in scenario.tables}
    if loaded is not None:
        loads = {name: load if name in loaded else (0, 0, ()) for name, load in loads.items()}
    load_seconds = sum(_load_seconds(spec, loads[spec.name]) for spec in scenario.tables if spec.billing_mode == "PROVISIONED")
    provisioned = any(spec.billing_mode == "PROVISIONED" for spec in scenario.tables)
    hours = max(1, math.ceil((load_seconds + run_seconds) / HOUR_S)) if provisioned else 0
    resources: list[ResourceCost] = []
    for spec in scenario.tables:
        for index in ("",) + tuple(gsi.name for gsi in spec.gsis):
            if spec.billing_mode == "PROVISIONED":
                resources.append(_provisioned(spec, index, hours, prices))
            else:
                resources.append(_on_demand(spec, index, run_seconds, loads[spec.name], existing.get(spec.name), prices))
    per_hour = sum(resource.usd for resource in resources if resource.billing == "provisioned") / hours if hours else 0.0
    return Ceiling(tuple(resources), run_seconds, hours, per_hour)


def _load_seconds(spec: TableSpec, load: tuple[int, int, tuple[str, ...]]) -> float:
    """How long a load takes at most at the table's (or its slowest reached GSI's) provisioned write capacity."""
    items, units, reached = load
    if not items:
        return 0.0
    slowest = min([spec.capacity.write] + [spec.gsi(name).capacity.write for name in reached])
    return items * units / slowest


def _provisioned(spec: TableSpec, index: str, hours: int, prices: UnitPrices) -> ResourceCost:
    capacity = highest_capacity(spec, index)
    usd = (capacity.read * prices.rcu_hour + capacity.write * prices.wcu_hour) * hours
    basis = f"{capacity.read:,} RCU x ${prices.rcu_hour:g} + {capacity.write:,} WCU x ${prices.wcu_hour:g} per hour, x {hours} h"
    return ResourceCost(spec.name, index, "provisioned", capacity.read, capacity.write, usd, basis)


def _on_demand(spec: TableSpec, index: str, seconds: float, load: tuple[int, int, tuple[str, ...]], described: dict | None, prices: UnitPrices) -> ResourceCost:
    read_max, write_max = _on_demand_maxima(described, index)
    if described is None:
        reads, writes = on_demand_units(seconds, NEW_TABLE_READS_PER_S, read_max), on_demand_units(seconds, NEW_TABLE_WRITES_PER_S, write_max)
        rate = "new table"
    else:
        reads, writes = on_demand_units(seconds, read_max, read_max, grows=False), on_demand_units(seconds, write_max, write_max, grows=False)
        rate = f"existing table, at most {read_max:,.0f} RRU/s and {write_max:,.0f} WRU/s"
    items, units, reached = load
    load_units = items * units if (not index or index in reached) else 0
    usd = reads / MILLION * prices.read_per_million + (writes + load_units) / MILLION * prices.write_per_million
    basis = f"{reads:,.0f} RRU + {writes:,.0f} WRU in {seconds:g} s ({rate})" + (f" + {load_units:,} WRU of load" if load_units else "")
    return ResourceCost(spec.name, index, "on-demand", reads, writes + load_units, usd, basis)


def _on_demand_maxima(described: dict | None, index: str) -> tuple[float, float]:
    """The per-second read and write maxima of an on-demand resource: its OnDemandThroughput when set (> 0), else the quota."""
    if described is None:
        return TABLE_QUOTA_PER_S, TABLE_QUOTA_PER_S
    source = described
    if index:
        source = next((gsi for gsi in described.get("GlobalSecondaryIndexes", []) if gsi["IndexName"] == index), {})
    limits = source.get("OnDemandThroughput", {})

    def capped(key: str) -> float:
        value = limits.get(key, -1)
        return min(value, TABLE_QUOTA_PER_S) if value and value > 0 else TABLE_QUOTA_PER_S

    return capped("MaxReadRequestUnits"), capped("MaxWriteRequestUnits")
