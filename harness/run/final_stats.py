"""Locust's stats CSVs rewritten from the final in-memory stats when the Locust process exits.

Locust's CSV writer rewrites the files once a second and is stopped at shutdown, so the files
it leaves can miss the last second of requests. The harness writes them once more at exit,
after Locust has closed its own handles, so their totals equal what Locust counted.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from harness.metrics.files import whole_file

log = logging.getLogger(__name__)


def write_final_stats(environment, prefix: str) -> None:
    """Rewrite <prefix>_stats.csv, _failures.csv and _exceptions.csv from environment.stats."""
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (("stats", writer.requests_csv), ("failures", writer.failures_csv), ("exceptions", writer.exceptions_csv)):
        try:
            with whole_file(Path(f"{prefix}_{suffix}.csv")) as handle:  # a full disk keeps Locust's last version
                write(csv.writer(handle))
        except OSError as exc:
            log.error("%s_%s.csv not rewritten from the final stats (%s): Locust's last version is kept", prefix, suffix, exc.strerror or exc)
