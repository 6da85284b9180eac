"""Charts of the web UI: consumed vs provisioned capacity per table and GSI, and throttles per second, live.

Locust's extra tabs only show tables, so the charts are a page of their own on Locust's web server:
`/dynamodb/charts` draws (plain canvas, no library) what `/dynamodb/series` answers, polled every
2 s. The series come from the process's metrics recorder, as the DynamoDB tab's rows do: on a
master, the workers' merged deltas.
"""

from __future__ import annotations

import time
from importlib import resources as package_files

from harness.metrics.capacity import TABLE
from harness.metrics.tally import Tally
from harness.scenario import Scenario

CHARTS_PATH = "/dynamodb/charts"
SERIES_PATH = "/dynamodb/series"
WINDOW_SECONDS = 600
"""The charts show the latest ten minutes, second by second."""


def provisioned_levels(scenario: Scenario) -> dict[str, dict]:
    """'table' or 'table / index' -> {"read": RCU, "write": WCU} as declared (None on demand)."""
    levels = {}
    for table in scenario.tables:
        provisioned = table.billing_mode == "PROVISIONED"
        for index, capacity in [(TABLE, table.capacity), *((gsi.name, gsi.capacity) for gsi in table.gsis)]:
            name = f"{table.name} / {index}" if index else table.name
            levels[name] = {"read": capacity.read, "write": capacity.write} if provisioned and capacity else {"read": None, "write": None}
    return levels


def series(tally: Tally, levels: dict[str, dict], now: float, lag_seconds: int, window_seconds: int = WINDOW_SECONDS) -> dict:
    """Per table and index: seconds, consumed RCU/s, WCU/s and throttled attempts/s over the window, and the provisioned levels.

    The seconds run from the window's start to `now - lag_seconds` (the latest complete second);
    seconds without counts are zeros, so the lines drop when traffic stops.
    """
    last = int(now) - lag_seconds
    counted = [second for second in (tally.capacity.first_second(), tally.throttles.first_second()) if second is not None]
    first = max(last - window_seconds + 1, min(counted)) if counted else last + 1
    seconds = list(range(first, last + 1))
    position = {second: offset for offset, second in enumerate(seconds)}
    resources: dict[str, dict] = {name: _empty(len(seconds), level) for name, level in levels.items()}

    def entry(table: str, index: str) -> dict:
        name = f"{table} / {index}" if index else table
        return resources.setdefault(name, _empty(len(seconds), {"read": None, "write": None}))

    for second, table, index, read_units, write_units in tally.capacity.rows_since(first):
        if second in position:
            found = entry(table, index)
            found["rcu"][position[second]] += read_units
            found["wcu"][position[second]] += write_units
    for second, _operation, table, index, _reason, count in tally.throttles.rows_since(first):
        if second in position:
            entry(table, index)["throttles"][position[second]] += count
    return {"seconds": seconds, "resources": resources}


def _empty(length: int, level: dict) -> dict:
    return {"rcu": [0.0] * length, "wcu": [0.0] * length, "throttles": [0] * length, "provisioned": level}


def install(environment, recorder, scenario: Scenario, lag_seconds: int, clock=time.time) -> str:
    """Serve the charts page and its series on the web UI; returns the page's path."""
    from flask import jsonify  # Flask comes with Locust's web UI; only a process with one imports it

    app = environment.web_ui.app
    levels = provisioned_levels(scenario)
    page = package_files.files("harness.run").joinpath("web_charts.html").read_text(encoding="utf-8")

    @app.route(CHARTS_PATH)
    def dynamodb_charts():
        return page

    @app.route(SERIES_PATH)
    def dynamodb_series():
        return jsonify(series(recorder.tally, levels, clock(), lag_seconds))

    return CHARTS_PATH
