"""The files of a run folder: names and columns shared by the writers (metrics, runner) and the readers (report).

Locust writes `locust_*.csv` and `locust_report.html`; the harness writes the `harness_*` files.
Times are UNIX seconds (UTC), latencies milliseconds, capacity in capacity units.
"""

from __future__ import annotations

LOCUST_PREFIX = "locust"
LOCUST_STATS = "locust_stats.csv"
LOCUST_HISTORY = "locust_stats_history.csv"
LOCUST_FAILURES = "locust_failures.csv"
LOCUST_HTML = "locust_report.html"
SCENARIO_COPY = "scenario.yaml"

# Rows of Locust's stats whose requests are already counted one by one in other rows: a ring lap
# (N GetItem calls) and a chain of operations. Reports show them and never add them to totals.
LAP = "Lap"
CHAIN = "Chain"
COMPOSITE_TYPES = frozenset({LAP, CHAIN})

# Exact latency percentiles from HDR histograms, one row per (type, name) plus an "Aggregated" row.
HARNESS_LATENCY = "harness_latency.csv"
LATENCY_COLUMNS = ["type", "name", "count", "min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99_9_ms", "max_ms"]

# The HDR histograms themselves (base64 of HdrHistogram's compressed encoding, microseconds).
HARNESS_HISTOGRAMS = "harness_histograms.csv"
HISTOGRAM_COLUMNS = ["type", "name", "encoded"]

# Every HTTP attempt botocore made, per operation/table/index: attempts, throttled attempts, other errors.
HARNESS_ATTEMPTS = "harness_attempts.csv"
ATTEMPT_COLUMNS = ["operation", "table", "index", "attempts", "throttled_attempts", "error_attempts"]

# Per logical request (Locust row): requests, throttled requests (failed after retries), SDK retries.
# `failures` are the other failures: Locust's Failure Count = failures + throttled_requests.
HARNESS_REQUESTS = "harness_requests.csv"
REQUEST_COLUMNS = ["type", "name", "requests", "failures", "throttled_requests", "retries"]

# Throttled attempts per second, with the reason DynamoDB gave (ThrottlingReasons) or the error code.
HARNESS_THROTTLES = "harness_throttles.csv"
THROTTLE_COLUMNS = ["timestamp", "operation", "table", "index", "reason", "throttled_attempts"]

# Consumed capacity per second, per table and per GSI ("" index = the table itself).
HARNESS_CAPACITY = "harness_capacity.csv"
CAPACITY_COLUMNS = ["timestamp", "table", "index", "read_units", "write_units"]

# What Query and Scan steps read: requests with pages, items returned (Count), items read (ScannedCount).
HARNESS_READS = "harness_reads.csv"
READ_COLUMNS = ["type", "name", "requests", "items_returned", "items_read"]

# Numbers a step computed per request (a scan's sum, a sharded query's count): how many, smallest, largest.
HARNESS_AGGREGATES = "harness_aggregates.csv"
AGGREGATE_COLUMNS = ["type", "name", "requests", "min", "max"]

# Per partition key of each table and GSI ("" index = the table): attempts, consumed units, throttled attempts.
# Keys past a bound per table or index count as "(other keys)" (harness.metrics.keys.MAX_KEYS).
HARNESS_KEYS = "harness_keys.csv"
KEY_COLUMNS = ["table", "index", "key", "attempts", "read_units", "write_units", "throttled_attempts"]

# Throttled attempts per partition key and the reason given (ThrottlingReasons, or the error code).
HARNESS_KEY_THROTTLES = "harness_key_throttles.csv"
KEY_THROTTLE_COLUMNS = ["table", "index", "key", "reason", "throttled_attempts"]

# Run metadata: scenario name, start/end, retry settings, tables (billing, provisioned capacity), workers.
# Keys: scenario, description, target {kind (as used: embedded | endpoint | aws), scenario_kind, region,
# endpoint_url, host, port, capacity_gate}, start_time, end_time (UNIX s), retries {mode, max_attempts},
# tables [{name, billing_mode, capacity {read, write} | null, gsis [{name, capacity}]}], workers
# (0: standalone), versions {harness, locust, boto3, botocore}, estimated_capacity [{ESTIMATED_KEYS}]:
# units the target did not report (PartiQL on DynamoDB Local), estimated and included in harness_capacity.csv.
HARNESS_RUN = "harness_run.json"
ESTIMATED_KEYS = ("table", "index", "read_units", "write_units")

# Distributed runs: every worker the master saw, its final state, and how many were lost.
HARNESS_WORKERS = "harness_workers.json"

# Open model (a target rate): latency from each task's intended start ("corrected"), as harness_latency.csv
# and harness_histograms.csv; scheduled starts per second; the run's late-start totals and stage changes.
HARNESS_CORRECTED_LATENCY = "harness_corrected_latency.csv"
HARNESS_CORRECTED_HISTOGRAMS = "harness_corrected_histograms.csv"
HARNESS_SCHEDULE = "harness_schedule.csv"
SCHEDULE_COLUMNS = ["timestamp", "intended_starts", "starts", "late_starts", "worst_lag_ms"]
# Keys: arrivals, rate, late_after_ms, intended_starts, starts, late_starts, worst_lag_ms, unstarted_at_end,
# unstarted_worst_lag_ms, start_lag_ms {count, mean, p50, p90, p99, p99_9, max}, stage_changes [{time, users, rate}].
HARNESS_OPEN_MODEL = "harness_open_model.json"

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
SUMMARY_JSON = "summary.json"

# A run that ended before its time: what stopped it (a signal, a process of the run that ended, a full disk).
# Keys: at (UNIX s), cause (signal | process | disk), signal (SIGINT... or null), process (who received it
# or which process ended), message (one line), exit_code (what `ddb-harness run` exits with). The first writer wins.
HARNESS_INTERRUPTION = "harness_interruption.json"
