"""Locust's stats CSVs rewritten from the final in-memory stats when the Locust process exits.

Locust's CSV writer rewrites the files once a second and is stopped at shutdown, so the files
it leaves can miss the last second of requests. The harness writes them once more at exit,
after Locust has closed its own handles, so their totals equal what Locust counted.
"""

from __future__ import annotations

import csv

from locust.stats import PERCENTILES_TO_REPORT, StatsCSV


def write_final_stats(environment, prefix: str) -> None:
    """Rewrite <prefix>_stats.csv, _failures.csv and _exceptions.csv from environment.stats."""
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (("stats", writer.requests_csv), ("failures", writer.failures_csv), ("exceptions", writer.exceptions_csv)):
        with open(f"{prefix}_{suffix}.csv", "w", newline="", encoding="utf-8") as handle:
            write(csv.writer(handle))
