"""What each Query and Scan step read to answer: items returned (Count) vs items read (ScannedCount), and the numbers steps computed.

A filtered scan reads every item and returns the few that match; a sparse index holds only those
few. Both return the same items: what differs is what DynamoDB read (and bills), which this table
puts side by side.
"""

from __future__ import annotations

import pandas as pd

from harness.report.load import COMPOSITE_TYPES, RunData

READ_TABLE_COLUMNS = [
    "type", "name", "requests", "items_returned", "items_read", "returned_per_request", "read_per_request", "returned_share",
    "aggregate_requests", "aggregate_min", "aggregate_max",
]  # fmt: skip


def read_table(data: RunData) -> pd.DataFrame:
    """One row per step that read Query/Scan pages or computed an aggregate (Lap and Chain rows left out).

    returned_share = items returned / items read (1.0: nothing was read only to be filtered away).
    """
    reads = data.reads if data.reads is not None else pd.DataFrame(columns=["type", "name", "requests", "items_returned", "items_read"])
    aggregates = data.aggregates if data.aggregates is not None else pd.DataFrame(columns=["type", "name", "requests", "min", "max"])
    aggregates = aggregates.rename(columns={"requests": "aggregate_requests", "min": "aggregate_min", "max": "aggregate_max"})
    frame = reads.merge(aggregates, on=["type", "name"], how="outer")
    frame = frame[~frame["type"].isin(COMPOSITE_TYPES)]
    if frame.empty:
        return pd.DataFrame(columns=READ_TABLE_COLUMNS)
    frame = frame.copy()
    requests = frame["requests"].where(frame["requests"] > 0)
    frame["returned_per_request"] = frame["items_returned"] / requests
    frame["read_per_request"] = frame["items_read"] / requests
    frame["returned_share"] = frame["items_returned"] / frame["items_read"].where(frame["items_read"] > 0)
    return frame[READ_TABLE_COLUMNS].sort_values(["type", "name"]).reset_index(drop=True)
