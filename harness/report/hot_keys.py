"""Hot keys, as CloudWatch Contributor Insights shows them: the most used partition keys per table and GSI.

From harness_keys.csv (attempts, consumed units and throttles per partition key) and
harness_key_throttles.csv (the reasons). A key's share is its part of the attempts on its table or
index; the spread says how much of the traffic the hottest keys took.
"""

from __future__ import annotations

import pandas as pd

from harness.report.load import RunData

TOP_KEYS = 10
"""Keys listed per table and index."""
OTHER_KEYS = "(other keys)"
KEY_COLUMNS = ["table", "index", "key", "attempts", "share", "read_units", "write_units", "throttled_attempts", "reasons"]
SPREAD_COLUMNS = ["table", "index", "keys", "attempts", "hottest_key", "hottest_share", "top_1pct_share", "throttled_attempts", "throttled_keys"]


def top_keys(data: RunData, limit: int = TOP_KEYS) -> pd.DataFrame:
    """The `limit` keys with the most attempts on each table and index, with their share, units, throttles and reasons."""
    keys = _keys(data)
    if keys.empty:
        return pd.DataFrame(columns=KEY_COLUMNS)
    totals = keys.groupby(["table", "index"])["attempts"].transform("sum")
    keys = keys.assign(share=keys["attempts"] / totals.where(totals > 0))
    ranked = keys.sort_values(["table", "index", "attempts", "key"], ascending=[True, True, False, True])
    top = ranked.groupby(["table", "index"], sort=False).head(limit).copy()
    top["reasons"] = [_reasons(data, row.table, row.index, row.key) for row in top.itertuples(index=False)]
    return top[KEY_COLUMNS].reset_index(drop=True)


def spread(data: RunData) -> pd.DataFrame:
    """Per table and index: distinct keys, attempts, the hottest key and its share, the hottest 1% of keys' share, throttles."""
    keys = _keys(data)
    rows = []
    for (table, index), group in keys.groupby(["table", "index"], sort=True):
        ranked = group.sort_values(["attempts", "key"], ascending=[False, True])
        named = ranked[ranked["key"] != OTHER_KEYS]
        attempts = ranked["attempts"].sum()
        hottest = named.iloc[0] if len(named) else None
        top_count = max(1, -(-len(named) // 100))
        rows.append({
            "table": table, "index": index, "keys": len(named), "attempts": attempts,
            "hottest_key": hottest["key"] if hottest is not None else "",
            "hottest_share": hottest["attempts"] / attempts if hottest is not None and attempts else float("nan"),
            "top_1pct_share": named["attempts"].head(top_count).sum() / attempts if attempts else float("nan"),
            "throttled_attempts": ranked["throttled_attempts"].sum(),
            "throttled_keys": int((named["throttled_attempts"] > 0).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=SPREAD_COLUMNS)


def rank_series(data: RunData) -> pd.DataFrame:
    """Attempts by key rank (1 = hottest) per table and index: the log-log plot's points."""
    keys = _keys(data)
    keys = keys[keys["key"] != OTHER_KEYS]
    if keys.empty:
        return pd.DataFrame(columns=["resource", "rank", "attempts"])
    ranked = keys.sort_values(["table", "index", "attempts"], ascending=[True, True, False]).copy()
    ranked["rank"] = ranked.groupby(["table", "index"]).cumcount() + 1
    ranked["resource"] = [f"{table} / {index}" if index else table for table, index in zip(ranked["table"], ranked["index"], strict=True)]
    return ranked[ranked["attempts"] > 0][["resource", "rank", "attempts"]].reset_index(drop=True)


def _keys(data: RunData) -> pd.DataFrame:
    if data.keys is None or data.keys.empty:
        return pd.DataFrame(columns=["table", "index", "key", "attempts", "read_units", "write_units", "throttled_attempts"])
    return data.keys


def _reasons(data: RunData, table: str, index: str, key: str) -> str:
    """'reason: n; reason: n' for a key's throttled attempts, most frequent first."""
    throttles = data.key_throttles
    if throttles is None or throttles.empty:
        return ""
    found = throttles[(throttles["table"] == table) & (throttles["index"] == index) & (throttles["key"] == key)]
    found = found.sort_values("throttled_attempts", ascending=False)
    return "; ".join(f"{row.reason}: {int(row.throttled_attempts)}" for row in found.itertuples(index=False))
