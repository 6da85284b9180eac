"""The "DynamoDB" and "Hot keys" tabs of Locust's web UI: throttles and consumed capacity per table and index, and the most used partition keys, live.

Locust's web UI (the React one, Locust >= 2.22) shows one extra tab per entry of the template
arguments `extended_tabs`, a table whose columns come from `extended_tables`, and fills it from the
`extended_stats` list it finds in the JSON of `/stats/requests`, which it polls every ~2 s while a
test runs. The UI camel-cases every key (`extended_tabs` -> `extendedTabs`, `rcu_per_s` ->
`rcuPerS`), column keys and row keys alike, so they stay consistent.

The numbers come from the process's metrics recorder (harness.metrics): in a master/worker run the
master's recorder holds the merged deltas the workers ship with every stats report.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from harness.metrics.capacity import TABLE
from harness.metrics.results_files import COMPOSITE_TYPES
from harness.metrics.tally import Tally
from harness.scenario import Capacity, CapacityChange, Scenario, TableSpec, stats_rows

TAB_KEY = "dynamodb"
TAB_TITLE = "DynamoDB"
KEYS_TAB_KEY = "dynamodb_hot_keys"
KEYS_TAB_TITLE = "Hot keys"
HOT_KEYS_PER_RESOURCE = 10
STATS_ENDPOINT = "locust.request_stats"
"""Flask endpoint of Locust's /stats/requests (blueprint "locust", view request_stats), whatever --web-base-path is."""

RATE_WINDOW_SECONDS = 10
"""Per-second rates are averages over this many of the latest complete seconds."""
STANDALONE_LAG_SECONDS = 1
"""A standalone process knows every second but the current one, which is still filling."""
MASTER_LAG_SECONDS = 5
"""On a master the latest seconds are still on the workers: they report every 3 s (Locust's WORKER_REPORT_INTERVAL)."""

ON_DEMAND = "on demand"

COLUMNS = [
    ("table", "Table"),
    ("index", "Index"),
    ("throttled_attempts", "Throttled attempts"),
    ("throttled_attempts_per_s", "Throttled attempts/s"),
    ("throttled_requests", "Throttled requests"),
    ("rcu", "RCU consumed"),
    ("rcu_per_s", "RCU/s"),
    ("provisioned_rcu", "Provisioned RCU"),
    ("wcu", "WCU consumed"),
    ("wcu_per_s", "WCU/s"),
    ("provisioned_wcu", "Provisioned WCU"),
]
"""The tab's columns: (row key, title)."""

KEY_COLUMNS = [
    ("table", "Table"),
    ("index", "Index"),
    ("key", "Partition key"),
    ("attempts", "Attempts"),
    ("share", "Share of its table/index %"),
    ("rcu", "RCU consumed"),
    ("wcu", "WCU consumed"),
    ("throttled_attempts", "Throttled attempts"),
    ("reasons", "ThrottlingReasons"),
]
"""The hot keys tab's columns: (row key, title)."""


@dataclass(frozen=True)
class Resource:
    """A table or one of its GSIs (index "" for the table itself) and its provisioned capacity as text."""

    table: str
    index: str
    provisioned_rcu: str
    provisioned_wcu: str


def resources_of(scenario: Scenario) -> list[Resource]:
    """Every table of the scenario, each followed by its GSIs, with their provisioned capacity."""
    resources = []
    for table in scenario.tables:
        resources.append(Resource(table.name, TABLE, *_provisioned(table, table.capacity, None)))
        resources += [Resource(table.name, gsi.name, *_provisioned(table, gsi.capacity, gsi.name)) for gsi in table.gsis]
    return resources


def step_targets(scenario: Scenario) -> dict[str, tuple[str, str]]:
    """Step name -> (table, index) it addresses: a step's throttled requests count on that resource."""
    targets: dict[str, tuple[str, str]] = {}
    for name, _, table, index in stats_rows(scenario):
        targets.setdefault(name, (table, index or TABLE))
    return targets


def table_rows(
    tally: Tally,
    resources: list[Resource],
    targets: dict[str, tuple[str, str]],
    now: float,
    window_seconds: int = RATE_WINDOW_SECONDS,
    lag_seconds: int = STANDALONE_LAG_SECONDS,
) -> list[dict]:
    """One row per table and index (COLUMNS' keys): the declared ones first, then any other the counts name.

    Totals cover everything counted since the test started. Rates average the `window_seconds`
    seconds up to `now - lag_seconds` (fewer when the counts start later than that).
    """
    attempts = _throttled_attempts(tally)
    requests = _throttled_requests(tally, targets)
    capacity = _capacity_totals(tally)
    rates = _rates(tally, int(now) - lag_seconds, window_seconds)
    known = {(resource.table, resource.index) for resource in resources}
    seen = sorted(({*attempts, *requests, *capacity} - known) - {("", TABLE)})
    everything = resources + [Resource(table, index, "", "") for table, index in seen]
    rows = []
    for resource in everything:
        key = (resource.table, resource.index)
        read_units, write_units = capacity.get(key, (0.0, 0.0))
        throttles_per_s, rcu_per_s, wcu_per_s = rates.get(key, (0.0, 0.0, 0.0))
        rows.append({
            "table": resource.table,
            "index": resource.index,
            "throttled_attempts": attempts.get(key, 0),
            "throttled_attempts_per_s": round(throttles_per_s, 2),
            "throttled_requests": requests.get(key, 0),
            "rcu": round(read_units, 2),
            "rcu_per_s": round(rcu_per_s, 2),
            "provisioned_rcu": resource.provisioned_rcu,
            "wcu": round(write_units, 2),
            "wcu_per_s": round(wcu_per_s, 2),
            "provisioned_wcu": resource.provisioned_wcu,
        })  # fmt: skip
    return rows


def hot_key_rows(tally: Tally, limit: int = HOT_KEYS_PER_RESOURCE) -> list[dict]:
    """The `limit` keys with the most attempts on each table and index since the test started (KEY_COLUMNS' keys)."""
    by_resource: dict[tuple[str, str], list[list]] = {}
    for row in tally.keys.rows():
        by_resource.setdefault((row[0], row[1]), []).append(row)
    reasons: dict[tuple[str, str, str], list[str]] = {}
    for table, index, key, reason, count in tally.keys.reason_rows():
        reasons.setdefault((table, index, key), []).append(f"{reason}: {count}")
    rows = []
    for (table, index), keys in sorted(by_resource.items()):
        total = sum(row[3] for row in keys) or 1
        for _table, _index, key, attempts, read_units, write_units, throttled in sorted(keys, key=lambda row: (-row[3], row[2]))[:limit]:
            rows.append({
                "table": table, "index": index, "key": key, "attempts": attempts, "share": round(100 * attempts / total, 2),
                "rcu": round(read_units, 2), "wcu": round(write_units, 2), "throttled_attempts": throttled,
                "reasons": "; ".join(reasons.get((table, index, key), [])),
            })  # fmt: skip
    return rows


def install(environment, recorder, scenario: Scenario, distributed: bool) -> None:
    """Add the tabs to environment.web_ui and their rows to every /stats/requests answer."""
    from flask import request  # Flask comes with Locust's web UI; only a process with one imports it

    web_ui = environment.web_ui
    web_ui.template_args.setdefault("extended_tabs", []).extend([{"key": TAB_KEY, "title": TAB_TITLE}, {"key": KEYS_TAB_KEY, "title": KEYS_TAB_TITLE}])
    web_ui.template_args.setdefault("extended_tables", []).extend([
        {"key": TAB_KEY, "structure": [{"key": key, "title": title} for key, title in COLUMNS]},
        {"key": KEYS_TAB_KEY, "structure": [{"key": key, "title": title} for key, title in KEY_COLUMNS]},
    ])
    resources, targets = resources_of(scenario), step_targets(scenario)
    lag = MASTER_LAG_SECONDS if distributed else STANDALONE_LAG_SECONDS

    @web_ui.app.after_request
    def add_dynamodb_stats(response):
        if request.endpoint != STATS_ENDPOINT or response.status_code != 200 or not response.is_json:
            return response
        rows = table_rows(recorder.tally, resources, targets, time.time(), lag_seconds=lag)
        # Locust memoizes this response for ~2 s, so the same object may come back: replace our entry, keep others'.
        report = response.get_json()
        others = [entry for entry in report.get("extended_stats") or [] if entry.get("key") not in (TAB_KEY, KEYS_TAB_KEY)]
        report["extended_stats"] = others + [{"key": TAB_KEY, "data": rows}, {"key": KEYS_TAB_KEY, "data": hot_key_rows(recorder.tally)}]
        response.set_data(json.dumps(report))
        return response


def _throttled_attempts(tally: Tally) -> dict[tuple[str, str], int]:
    """(table, index) -> throttled HTTP attempts, SDK retries included, over every operation."""
    totals: dict[tuple[str, str], int] = {}
    for _operation, table, index, _attempts, throttled, _errors in tally.attempts.rows():
        totals[(table, index)] = totals.get((table, index), 0) + int(throttled)
    return totals


def _throttled_requests(tally: Tally, targets: dict[str, tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(table, index) -> requests that failed throttled after the SDK's retries, by the step that sent them."""
    totals: dict[tuple[str, str], int] = {}
    for request_type, name, _requests, _failures, throttled, _retries in tally.requests.rows():
        target = targets.get(name)
        if request_type not in COMPOSITE_TYPES and target is not None:
            totals[target] = totals.get(target, 0) + int(throttled)
    return totals


def _capacity_totals(tally: Tally) -> dict[tuple[str, str], tuple[float, float]]:
    """(table, index) -> (read units, write units) consumed since the test started."""
    return {(table, index): (read_units, write_units) for (table, index), (read_units, write_units) in tally.capacity.totals().items()}


def _rates(tally: Tally, last_second: int, window_seconds: int) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(table, index) -> (throttled attempts, read units, write units) per second over the window ending at last_second."""
    counted = [second for second in (tally.throttles.first_second(), tally.capacity.first_second()) if second is not None]
    if not counted:
        return {}
    first = max(last_second - window_seconds + 1, min(counted))
    throttles = [(row[0], row[2], row[3], row[5]) for row in tally.throttles.rows_since(first)]  # second, table, index, count
    capacity = tally.capacity.rows_since(first)
    span = last_second - first + 1
    if span <= 0:
        return {}
    sums: dict[tuple[str, str], list[float]] = {}
    for second, table, index, count in throttles:
        if first <= second <= last_second:
            sums.setdefault((table, index), [0.0, 0.0, 0.0])[0] += count
    for second, table, index, read_units, write_units in capacity:
        if first <= second <= last_second:
            entry = sums.setdefault((table, index), [0.0, 0.0, 0.0])
            entry[1] += read_units
            entry[2] += write_units
    return {key: (throttled / span, read / span, write / span) for key, (throttled, read, write) in sums.items()}


def _provisioned(table: TableSpec, capacity: Capacity | None, index: str | None) -> tuple[str, str]:
    """Provisioned (RCU, WCU) as text: "on demand", the units, and any capacity_schedule changes after them."""
    if table.billing_mode != "PROVISIONED":
        return ON_DEMAND, ON_DEMAND
    if capacity is None:
        return "", ""
    read, write = [str(capacity.read)], [str(capacity.write)]
    for change in table.capacity_schedule:
        units = _scheduled_units(change, index)
        if units is not None:
            read.append(f"{units.read} after {change.after}")
            write.append(f"{units.write} after {change.after}")
    return ", then ".join(read), ", then ".join(write)


def _scheduled_units(change: CapacityChange, index: str | None) -> Capacity | None:
    """The units one schedule step sets on the table (index None) or on one GSI (None if it leaves it alone)."""
    return change if index is None else change.gsis.get(index)
