"""Consumed capacity per table and GSI: per second over time, totals, peak and mean, against provisioned capacity.

harness_capacity.csv has one row per second per table and index that consumed units ("" index:
the table's own units, as DynamoDB's ConsumedCapacity.Table reports them; a GSI's row is its own).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.load import RunData
from harness.report.run_info import Resource

SUMMARY_COLUMNS = [
    "table", "index", "billing_mode", "read_units", "write_units",
    "mean_rcu_per_s", "peak_rcu_per_s", "provisioned_rcu", "mean_read_utilisation", "peak_read_utilisation",
    "mean_wcu_per_s", "peak_wcu_per_s", "provisioned_wcu", "mean_write_utilisation", "peak_write_utilisation",
    "estimated_read_units", "estimated_write_units", "units_source",
]  # fmt: skip
REPORTED, ESTIMATED, PARTLY_ESTIMATED = "reported", "estimated", "partly estimated"
"""units_source: DynamoDB reported every unit, the harness estimated all of them (PartiQL on DynamoDB Local), or some."""
ESTIMATED_NOTE = (
    "Rows marked (estimated) hold units the target did not report: DynamoDB Local answers PartiQL without ConsumedCapacity, "
    "so the harness counts what the capacity gate charges (an INSERT its item's size in write units, a SELECT the items it returned "
    "in read units, an UPDATE or DELETE one write unit). Their cost is estimated the same way."
)


def per_second(data: RunData) -> pd.DataFrame:
    """Read and write units per (timestamp, table, index), summed over any duplicate rows."""
    if data.capacity is None:
        return pd.DataFrame(columns=["timestamp", "table", "index", "read_units", "write_units"])
    return data.capacity.groupby(["timestamp", "table", "index"], as_index=False)[["read_units", "write_units"]].sum()


def summary(data: RunData, seconds: float | None) -> pd.DataFrame:
    """One row per table and GSI the run declared or consumed on (SUMMARY_COLUMNS); NaN where unknown.

    Mean per second is total units / run duration; peak is the busiest second; utilisation is
    against the provisioned units of a PROVISIONED table or GSI.
    """
    consumed = per_second(data)
    keys = [(item.table, item.index) for item in data.info.resources]
    keys += sorted({key for key in zip(consumed["table"], consumed["index"], strict=False) if key not in keys})
    return pd.DataFrame([_row(data, key, consumed, seconds) for key in keys], columns=SUMMARY_COLUMNS)


def _row(data: RunData, key: tuple[str, str], consumed: pd.DataFrame, seconds: float | None) -> dict:
    resource = data.info.resource(*key) or Resource(key[0], key[1], None)
    mine = consumed[(consumed["table"] == key[0]) & (consumed["index"] == key[1])]
    known = data.capacity is not None
    row = {"table": key[0], "index": key[1], "billing_mode": resource.billing_mode or "unknown"}
    for side, units, provisioned in (("read", "rcu", resource.read), ("write", "wcu", resource.write)):
        total = float(mine[f"{side}_units"].sum()) if known else np.nan
        mean = total / seconds if seconds else np.nan
        peak = float(mine[f"{side}_units"].max()) if len(mine) else (0.0 if known else np.nan)
        limit = provisioned if resource.provisioned and provisioned else np.nan
        row |= {
            f"{side}_units": total,
            f"mean_{units}_per_s": mean,
            f"peak_{units}_per_s": peak,
            f"provisioned_{units}": limit,
            f"mean_{side}_utilisation": mean / limit,
            f"peak_{side}_utilisation": peak / limit,
        }
    return row | _estimated(data, key, row)


def _estimated(data: RunData, key: tuple[str, str], row: dict) -> dict:
    """How many of a row's units the harness estimated, and whether its units are reported, estimated or partly so."""
    found = [item for item in data.info.estimated if (item.table, item.index) == key]
    read = sum((item.read_units for item in found), 0.0)
    write = sum((item.write_units for item in found), 0.0)
    total = (row["read_units"] or 0.0) + (row["write_units"] or 0.0)
    if not read + write:
        source = REPORTED
    elif read + write >= total - 1e-6:
        source = ESTIMATED
    else:
        source = PARTLY_ESTIMATED
    return {"estimated_read_units": read, "estimated_write_units": write, "units_source": source}


def over_time(data: RunData, start: float, end_second: float | None = None) -> pd.DataFrame:
    """Per second since start, per resource label: read_units, write_units (0 where nothing was consumed)."""
    consumed = per_second(data)
    if consumed.empty:
        return pd.DataFrame(columns=["second", "resource", "read_units", "write_units"])
    consumed["resource"] = [f"{table} / {index}" if index else table for table, index in zip(consumed["table"], consumed["index"], strict=False)]
    last = max(consumed["timestamp"].max(), end_second or 0)
    seconds = range(int(start), int(last) + 1)
    frames = []
    for resource, rows in consumed.groupby("resource", sort=True):
        filled = rows.set_index("timestamp")[["read_units", "write_units"]].reindex(seconds, fill_value=0.0)
        frames.append(filled.assign(resource=resource, second=np.asarray(seconds) - int(start)))
    return pd.concat(frames, ignore_index=True)[["second", "resource", "read_units", "write_units"]]
