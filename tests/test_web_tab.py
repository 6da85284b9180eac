"""Unit tests of harness.run.web_tab: recorder counts -> the "DynamoDB" tab's rows, and the hook on Locust's real web UI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, SCENARIOS, scenario_data, write_scenario

from harness.metrics.tally import Tally
from harness.run import web_tab
from harness.run.web_tab import Resource, resources_of, step_targets, table_rows
from harness.scenario import load_scenario

QUICKSTART = load_scenario(SCENARIOS / "quickstart.yaml")
COLUMN_KEYS = [key for key, _title in web_tab.COLUMNS]


def rows_by_resource(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(row["table"], row["index"]): row for row in rows}


def test_declared_tables_and_indexes_have_rows_before_any_request():
    rows = table_rows(Tally(), resources_of(QUICKSTART), step_targets(QUICKSTART), now=1000.0)
    assert [(row["table"], row["index"]) for row in rows] == [("orders", ""), ("round-trip", ""), ("tlog_scan", ""), ("tlog_scan", "GSI_1")]
    assert all(list(row) == COLUMN_KEYS for row in rows)
    by_resource = rows_by_resource(rows)
    assert by_resource[("orders", "")]["provisioned_rcu"] == "on demand"
    assert (by_resource[("tlog_scan", "")]["provisioned_rcu"], by_resource[("tlog_scan", "")]["provisioned_wcu"]) == ("5000", "5000")
    assert (by_resource[("tlog_scan", "GSI_1")]["provisioned_rcu"], by_resource[("tlog_scan", "GSI_1")]["provisioned_wcu"]) == ("3000", "5000")
    assert all(row[key] == 0 for row in rows for key in ("throttled_attempts", "throttled_requests", "rcu", "wcu", "rcu_per_s", "wcu_per_s"))


def test_totals_add_up_attempts_requests_and_capacity_per_resource():
    tally = Tally()
    tally.attempts.add(("Query", "tlog_scan", "GSI_1"), 40, 7, 0)
    tally.attempts.add(("Scan", "tlog_scan", ""), 10, 2, 1)
    tally.attempts.add(("GetItem", "tlog_scan", ""), 5, 1, 0)
    tally.requests.add(("Query", "sharded_gsi_query"), 30, 0, 3, 7)
    tally.requests.add(("Scan", "parallel_scan"), 8, 1, 1, 2)
    tally.requests.add(("Lap", "walk_ring"), 2, 0, 5, 0)  # a lap is N GetItems already counted: never a throttled request
    tally.capacity.add((100, "tlog_scan", "GSI_1"), 1.5, 0.0)
    tally.capacity.add((101, "tlog_scan", "GSI_1"), 2.0, 0.0)
    tally.capacity.add((101, "orders", ""), 0.0, 3.0)
    rows = rows_by_resource(table_rows(tally, resources_of(QUICKSTART), step_targets(QUICKSTART), now=200.0))
    gsi, table, orders, ring = rows[("tlog_scan", "GSI_1")], rows[("tlog_scan", "")], rows[("orders", "")], rows[("round-trip", "")]
    assert (gsi["throttled_attempts"], gsi["throttled_requests"], gsi["rcu"], gsi["wcu"]) == (7, 3, 3.5, 0.0)
    assert (table["throttled_attempts"], table["throttled_requests"]) == (3, 1)  # over both operations on the table
    assert (orders["rcu"], orders["wcu"]) == (0.0, 3.0)
    assert ring["throttled_requests"] == 0


def test_rates_average_the_latest_complete_seconds():
    tally = Tally()
    for second in range(100, 120):  # 20 seconds of 4 RCU/s and 2 WCU/s, one throttle every second
        tally.capacity.add((second, "orders", ""), 4.0, 2.0)
        tally.throttles.add((second, "ExecuteStatement", "orders", "", "ProvisionedThroughputExceededException"), 1)
    tally.capacity.add((120, "orders", ""), 400.0, 0.0)  # the current second: still filling, left out
    resources = [Resource("orders", "", "on demand", "on demand")]
    row = table_rows(tally, resources, {}, now=120.7, window_seconds=10, lag_seconds=1)[0]
    assert (row["rcu_per_s"], row["wcu_per_s"], row["throttled_attempts_per_s"]) == (4.0, 2.0, 1.0)
    assert row["rcu"] == 20 * 4.0 + 400.0  # totals count everything


def test_rates_leave_out_seconds_the_workers_have_not_reported_yet():
    tally = Tally()
    for second in range(100, 110):
        tally.capacity.add((second, "orders", ""), 10.0, 0.0)
    tally.capacity.add((110, "orders", ""), 1.0, 0.0)  # one worker's partial report of a recent second
    row = table_rows(tally, [Resource("orders", "", "", "")], {}, now=114.2, window_seconds=5, lag_seconds=5)[0]
    assert row["rcu_per_s"] == 10.0  # seconds 105..109 only


def test_rates_over_a_run_younger_than_the_window_use_the_seconds_it_has():
    tally = Tally()
    tally.capacity.add((100, "orders", ""), 3.0, 0.0)
    tally.capacity.add((101, "orders", ""), 5.0, 0.0)
    row = table_rows(tally, [Resource("orders", "", "", "")], {}, now=102.5, window_seconds=10, lag_seconds=1)[0]
    assert row["rcu_per_s"] == 4.0  # two seconds of data, not ten


def test_resources_the_scenario_does_not_declare_are_listed_after_it():
    tally = Tally()
    tally.attempts.add(("BatchWriteItem", "a+b", ""), 2, 1, 0)
    tally.capacity.add((100, "other", "by_date"), 1.0, 0.0)
    tally.attempts.add(("ListTables", "", ""), 1, 0, 0)  # names no table: no row
    rows = table_rows(tally, resources_of(QUICKSTART), step_targets(QUICKSTART), now=101.0)
    assert [(row["table"], row["index"]) for row in rows][-2:] == [("a+b", ""), ("other", "by_date")]
    assert rows[-2]["throttled_attempts"] == 1 and rows[-2]["provisioned_rcu"] == ""


def test_provisioned_capacity_names_the_schedule(tmp_path):
    data = scenario_data("quickstart.yaml")
    data["tables"][2]["capacity_schedule"] = [{"after": "60s", "read": 100, "write": 200, "gsis": {"GSI_1": {"read": 50, "write": 60}}}]
    scenario = load_scenario(write_scenario(tmp_path, data))
    rows = rows_by_resource(table_rows(Tally(), resources_of(scenario), step_targets(scenario), now=0.0))
    assert rows[("tlog_scan", "")]["provisioned_rcu"] == "5000, then 100 after 60s"
    assert rows[("tlog_scan", "")]["provisioned_wcu"] == "5000, then 200 after 60s"
    assert rows[("tlog_scan", "GSI_1")]["provisioned_wcu"] == "5000, then 60 after 60s"


def test_step_targets_follow_the_step_names_and_indexes():
    assert step_targets(QUICKSTART) == {
        "partiql_insert_order": ("orders", ""),
        "walk_ring": ("round-trip", ""),
        "parallel_scan": ("tlog_scan", ""),
        "sharded_gsi_query": ("tlog_scan", "GSI_1"),
    }


# ---- the hook on Locust's real web UI (in a child process: importing locust monkey-patches the interpreter) -----

HOOK_CHECK = """
import json, re, sys
from locust.env import Environment
from harness.workload import tasks
from harness.run import web_charts, web_tab
from harness.metrics.keys import key_schemas
from harness.metrics.recorder import Recorder
from harness.scenario import load_scenario

environment = Environment(user_classes=[])
environment.create_local_runner()
ui = environment.create_web_ui("127.0.0.1", 0, delayed_start=True)
scenario = load_scenario(sys.argv[1])
recorder = Recorder(clock=lambda: 1000.0, schemas=key_schemas(scenario.tables))
consumed = {"TableName": "tlog_scan", "CapacityUnits": 4.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"GSI_1": {"CapacityUnits": 2.0}}}
query = {"TableName": "tlog_scan", "IndexName": "GSI_1", "KeyConditionExpression": "GSI_1_PK = :s", "ExpressionAttributeValues": {":s": {"S": "shard#3"}}}
recorder.on_attempt("Query", query, {"ConsumedCapacity": consumed}, 200)
throttled = {"Error": {"Code": "ProvisionedThroughputExceededException"}, "ThrottlingReasons": [{"reason": "IndexReadProvisionedThroughputExceeded", "resource": "arn:aws:dynamodb:r:1:table/tlog_scan/index/GSI_1"}]}
recorder.on_attempt("Query", query, throttled, 400)
web_tab.install(environment, recorder, scenario, distributed=False)
charts_path = web_charts.install(environment, recorder, scenario, lag_seconds=0, clock=lambda: 1000.0)
client = ui.app.test_client()
page = client.get("/").get_data(as_text=True)
template_args = json.loads(re.search(r"window\\.templateArgs = (.*)", page).group(1))
answers = [client.get("/stats/requests").get_json() for _ in range(2)]
json.dump({
    "lap": tasks.LAP,
    "template_args": {key: template_args[key] for key in ("extended_tabs", "extended_tables", "num_users")},
    "answers": answers,
    "exceptions": client.get("/exceptions").get_json(),
    "charts_page": client.get(charts_path).get_data(as_text=True),
    "series": client.get("/dynamodb/series").get_json(),
}, sys.stdout)
environment.runner.quit()
"""


@pytest.fixture(scope="module")
def hooked_web_ui() -> dict:
    done = subprocess.run([sys.executable, "-c", HOOK_CHECK, str(SCENARIOS / "quickstart.yaml")], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_tab_is_declared_in_the_template_args(hooked_web_ui):
    template_args = hooked_web_ui["template_args"]
    assert template_args["extended_tabs"] == [{"key": "dynamodb", "title": "DynamoDB"}, {"key": "dynamodb_hot_keys", "title": "Hot keys"}]
    assert [table["key"] for table in template_args["extended_tables"]] == ["dynamodb", "dynamodb_hot_keys"]
    assert [column["key"] for column in template_args["extended_tables"][0]["structure"]] == COLUMN_KEYS
    assert [column["key"] for column in template_args["extended_tables"][1]["structure"]] == [key for key, _ in web_tab.KEY_COLUMNS]


def test_every_stats_answer_carries_the_rows_once(hooked_web_ui):
    for stats in hooked_web_ui["answers"]:  # Locust memoizes /stats/requests: the second answer is the same object
        assert [entry["key"] for entry in stats["extended_stats"]] == ["dynamodb", "dynamodb_hot_keys"]
        assert "stats" in stats and "errors" in stats  # Locust's own keys untouched
        rows = rows_by_resource(stats["extended_stats"][0]["data"])
        assert (rows[("tlog_scan", "GSI_1")]["rcu"], rows[("tlog_scan", "")]["rcu"]) == (2.0, 2.0)
        (hot,) = stats["extended_stats"][1]["data"]
        assert hot == {"table": "tlog_scan", "index": "GSI_1", "key": "shard#3", "attempts": 2, "share": 100.0, "rcu": 2.0, "wcu": 0.0,
                       "throttled_attempts": 1, "reasons": "IndexReadProvisionedThroughputExceeded(GSI_1): 1"}
    assert "extended_stats" not in hooked_web_ui["exceptions"]  # other routes are left alone


def test_the_charts_page_draws_the_series_of_every_table_and_index(hooked_web_ui):
    assert "<canvas" in hooked_web_ui["charts_page"] and 'fetch("series"' in hooked_web_ui["charts_page"]
    series = hooked_web_ui["series"]
    assert series["seconds"] == [1000]  # the one second counted (lag 0), nothing before it
    gsi = series["resources"]["tlog_scan / GSI_1"]
    assert (gsi["rcu"], gsi["wcu"], gsi["throttles"]) == ([2.0], [0.0], [1])
    assert set(series["resources"]) >= {"orders", "round-trip", "tlog_scan", "tlog_scan / GSI_1"}  # declared ones, with or without counts


def test_the_tab_leaves_out_the_users_composite_rows(hooked_web_ui):
    """The request_type a ring lap is reported under is one the tab never attributes to a table."""
    assert hooked_web_ui["lap"] in web_tab.COMPOSITE_TYPES
