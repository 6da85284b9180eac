"""Unit tests of harness.metrics: exact percentiles, merging, attempt facts, the recorder and its files."""

from __future__ import annotations

import csv
import json
import math
import random
from functools import partial

import msgpack
import pytest
from conftest import SCENARIOS

from harness.errors import ConditionalCheckError, ThrottledError
from harness.gate.estimates import catalog_of, estimated_units
from harness.metrics import results_files
from harness.metrics.capacity import capacity_parts, is_read
from harness.metrics.files import write_metrics_files
from harness.metrics.latency import HIGHEST_US, RAW_WIRE_LIMIT, LatencyHistograms, to_microseconds
from harness.metrics.recorder import Recorder
from harness.metrics.run_info import run_info, target_used
from harness.metrics.tally import Tally
from harness.metrics.targets import statement_target, target_of
from harness.metrics.throttling import throttle_reason
from harness.scenario import load_scenario
from harness.target.client import Connection

THROTTLE = {
    "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
    "ThrottlingReasons": [{"reason": "TableReadProvisionedThroughputExceeded", "resource": "arn:aws:dynamodb:us-east-1:1:table/t"}],
}


def nearest_rank(values, percentile):
    ordered = sorted(values)
    return ordered[max(math.ceil(percentile * len(ordered) / 100 - 1e-9), 1) - 1]


def latency_row(histograms: LatencyHistograms, key=("GetItem", "get")) -> dict:
    rows = [dict(zip(results_files.LATENCY_COLUMNS, row, strict=False)) for row in histograms.percentile_rows()]
    return next(row for row in rows if (row["type"], row["name"]) == key)


# ---- latency ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 7, 130, 160, 1000])
def test_percentiles_are_exact_to_three_significant_digits(count):
    rng = random.Random(count)
    times = [rng.lognormvariate(2.5, 0.8) for _ in range(count)]
    histograms = LatencyHistograms()
    for value in times:
        histograms.record(("GetItem", "get"), value)
    row = latency_row(histograms)
    assert row["count"] == count
    for column, percentile in (("p50_ms", 50), ("p90_ms", 90), ("p95_ms", 95), ("p99_ms", 99), ("p99_9_ms", 99.9), ("max_ms", 100)):
        exact = nearest_rank(times, percentile)
        assert exact - 0.001 <= row[column] <= exact * (1 + 1 / 1024) + 0.001, (column, exact, row[column])
    assert row["min_ms"] == pytest.approx(min(times), rel=1 / 1024, abs=0.001)
    assert row["mean_ms"] == pytest.approx(sum(times) / count, rel=1 / 1024, abs=0.001)


def test_sub_millisecond_differences_survive(tmp_path):
    """Locust's CSV would print 25 for all of these; the HDR rows keep them apart."""
    histograms = LatencyHistograms()
    for value in (25.1, 25.2, 25.3, 25.4, 25.9):
        histograms.record(("GetItem", "get"), value)
    row = latency_row(histograms)
    assert row["p50_ms"] == pytest.approx(25.3, abs=0.03)
    assert row["max_ms"] == pytest.approx(25.9, abs=0.03)


def test_merged_encodings_equal_one_histogram():
    rng = random.Random(3)
    whole, parts = LatencyHistograms(), [LatencyHistograms() for _ in range(3)]
    for position in range(3000):
        value = rng.uniform(0.5, 500)
        key = ("Query", "q") if position % 3 else ("GetItem", "get")
        whole.record(key, value)
        parts[position % 3].record(key, value)
    merged = LatencyHistograms()
    for part in parts:
        merged.add_encoded_rows(part.encoded_rows())
    assert merged.percentile_rows() == whole.percentile_rows()
    aggregated = merged.percentile_rows()[-1]
    assert aggregated[:3] == ["", "Aggregated", 3000]


def test_response_times_are_clamped_into_the_histogram_range():
    assert to_microseconds(-1.0) == 0
    assert to_microseconds(12.3456) == 12346
    assert to_microseconds(10 * HIGHEST_US) == HIGHEST_US


# ---- facts from one request ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"TableName": "t", "Key": {}}, ("t", "")),
        ({"TableName": "t", "IndexName": "GSI_1"}, ("t", "GSI_1")),
        ({"Statement": "INSERT INTO \"orders\" VALUE {'pk': ?}"}, ("orders", "")),
        ({"Statement": 'SELECT * FROM "logs"."GSI_1" WHERE GSI_1_PK = ?'}, ("logs", "GSI_1")),
        ({"Statement": "select * from logs where a = 'x FROM y'"}, ("logs", "")),
        ({"Statement": "UPDATE \"round-trip\" SET a = 1 WHERE pk = 'k'"}, ("round-trip", "")),
        ({"Statement": 'DELETE FROM "a""b" WHERE pk = 1'}, ('a"b', "")),
        ({"RequestItems": {"b": [], "a": []}}, ("a+b", "")),
        ({"TransactItems": [{"Put": {"TableName": "x"}}, {"Update": {"TableName": "y"}}]}, ("x+y", "")),
        ({}, ("", "")),
    ],
)
def test_target_of_a_request_body(body, expected):
    assert target_of(body) == expected


def test_statement_without_a_table():
    assert statement_target("EXISTS(?)") == ("", "")


def test_throttle_reason_names_the_index_resource_or_falls_back_to_the_code():
    assert throttle_reason(THROTTLE, "ProvisionedThroughputExceededException") == "TableReadProvisionedThroughputExceeded"
    on_index = {"ThrottlingReasons": [{"reason": "IndexWriteProvisionedThroughputExceeded", "resource": "arn:aws:dynamodb:r:1:table/t/index/GSI_1"}]}
    assert throttle_reason(on_index, "ProvisionedThroughputExceededException") == "IndexWriteProvisionedThroughputExceeded(GSI_1)"
    assert throttle_reason({"Error": {"Code": "ThrottlingException"}}, "ThrottlingException") == "ThrottlingException"


def test_capacity_split_by_table_index_and_side():
    consumed = {"TableName": "t", "CapacityUnits": 3.0, "Table": {"CapacityUnits": 1.0}, "GlobalSecondaryIndexes": {"G": {"CapacityUnits": 2.0}}}
    assert list(capacity_parts("PutItem", {}, consumed)) == [("t", "", 0.0, 1.0), ("t", "G", 0.0, 2.0)]
    query = {"TableName": "t", "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0}, "GlobalSecondaryIndexes": {"G": {"CapacityUnits": 0.5}}}
    assert list(capacity_parts("Query", {}, query)) == [("t", "G", 0.5, 0.0)]  # nothing consumed on the table: no part
    batch = [{"TableName": "a", "CapacityUnits": 1.0}, {"TableName": "b", "CapacityUnits": 2.0}]
    assert list(capacity_parts("BatchGetItem", {}, batch)) == [("a", "", 1.0, 0.0), ("b", "", 2.0, 0.0)]
    both = {"TableName": "t", "CapacityUnits": 3.0, "Table": {"CapacityUnits": 3.0, "ReadCapacityUnits": 1.0, "WriteCapacityUnits": 2.0}}
    assert list(capacity_parts("TransactWriteItems", {}, both)) == [("t", "", 1.0, 2.0)]
    assert list(capacity_parts("GetItem", {}, None)) == []


def test_partiql_reads_are_selects():
    assert is_read("ExecuteStatement", {"Statement": "  select * from t"})
    assert not is_read("ExecuteStatement", {"Statement": 'INSERT INTO "t" VALUE {}'})
    assert is_read("Scan", {}) and not is_read("UpdateItem", {})


# ---- recorder, wire, files ----------------------------------------------------------------


def recorder_at(second: float) -> Recorder:
    return Recorder(clock=lambda: second)


def test_attempts_throttles_and_capacity_are_counted_per_attempt():
    recorder = recorder_at(100.7)
    body = {"TableName": "t", "Key": {}}
    ok = {"Item": {}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}}
    recorder.on_attempt("GetItem", body, THROTTLE, 400)
    recorder.on_attempt("GetItem", body, THROTTLE, 400)
    recorder.on_attempt("GetItem", body, ok, 200)
    recorder.on_attempt("GetItem", body, {"Error": {"Code": "ReadTimeoutError", "Message": ""}}, None)
    recorder.on_attempt("GetItem", body, {"Error": {"Code": "InternalServerError"}}, 500)
    tally = recorder.tally
    assert tally.attempts.rows() == [["GetItem", "t", "", 5, 2, 2]]
    assert tally.throttles.rows() == [[100, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded", 2]]
    assert tally.capacity.rows() == [[100, "t", "", 0.5, 0.0]]


def test_requests_count_throttled_apart_from_other_failures():
    recorder = Recorder()
    recorder.on_request("GetItem", "get", 3.0, exception=None, context={"retry_attempts": 2})
    recorder.on_request("GetItem", "get", 9.0, exception=ThrottledError("ProvisionedThroughputExceededException", ""), context={"retry_attempts": 2})
    recorder.on_request("GetItem", "get", 1.0, exception=ConditionalCheckError("ConditionalCheckFailedException", ""), context={})
    recorder.on_request("GetItem", "get", 1.0, response_length=0, response=None, exception=None, context=None)
    assert recorder.tally.requests.rows() == [["GetItem", "get", 4, 1, 1, 4]]
    assert latency_row(recorder.tally.latency)["count"] == 4


def test_workers_send_deltas_that_survive_msgpack_and_merge_without_double_counting():
    """What locust_hooks.attach_delta does on each worker report (that module imports Locust, which
    monkey-patches the test process, so the end-to-end master test covers the hook itself)."""
    worker, master = Recorder(clock=lambda: 5.0), Recorder()
    for round_number in range(3):
        worker.on_request("GetItem", "get", 10.0 + round_number)
        worker.on_attempt("GetItem", {"TableName": "t"}, THROTTLE, 400)
        master.add_wire(msgpack.unpackb(msgpack.packb(worker.take().to_wire()), raw=False))
    assert not worker.take()  # nothing new: nothing to send
    assert master.tally.requests.rows() == [["GetItem", "get", 3, 0, 0, 0]]
    assert master.tally.attempts.rows() == [["GetItem", "t", "", 3, 3, 0]]
    assert master.tally.throttles.rows()[0][-1] == 3
    assert latency_row(master.tally.latency)["count"] == 3


def test_clear_forgets_everything():
    recorder = Recorder()
    recorder.on_request("GetItem", "get", 1.0)
    recorder.clear()
    assert not recorder.tally


def test_every_file_is_written_with_the_contract_columns(tmp_path):
    recorder = Recorder(clock=lambda: 7.0)
    recorder.on_request("GetItem", "get", 1.0)
    recorder.on_attempt("GetItem", {"TableName": "t"}, {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.1}}, 200)
    recorder.on_attempt("GetItem", {"TableName": "t"}, {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.2}}, 200)
    write_metrics_files(tmp_path, recorder.tally, {"scenario": "s"})
    expected = {
        results_files.HARNESS_LATENCY: results_files.LATENCY_COLUMNS,
        results_files.HARNESS_HISTOGRAMS: results_files.HISTOGRAM_COLUMNS,
        results_files.HARNESS_ATTEMPTS: results_files.ATTEMPT_COLUMNS,
        results_files.HARNESS_REQUESTS: results_files.REQUEST_COLUMNS,
        results_files.HARNESS_THROTTLES: results_files.THROTTLE_COLUMNS,
        results_files.HARNESS_CAPACITY: results_files.CAPACITY_COLUMNS,
    }
    for name, columns in expected.items():
        with open(tmp_path / name, newline="") as handle:
            assert next(csv.reader(handle)) == columns, name
    with open(tmp_path / results_files.HARNESS_CAPACITY, newline="") as handle:
        assert list(csv.DictReader(handle))[0]["read_units"] == "0.3"  # not 0.30000000000000004
    assert json.loads((tmp_path / results_files.HARNESS_RUN).read_text()) == {"scenario": "s", "estimated_capacity": []}


def test_empty_tally_is_falsy():
    assert not Tally()


def test_run_info_describes_the_run_without_credentials():
    scenario = load_scenario(SCENARIOS / "quickstart.yaml")
    info = run_info(scenario, Connection("us-east-1", "http://user:secret@127.0.0.1:8000"), 10.0, 20.5, workers=2)
    assert "secret" not in json.dumps(info)
    assert info["target"] == {
        "kind": "endpoint", "scenario_kind": "local", "region": "us-east-1", "endpoint_url": "http://127.0.0.1:8000",
        "host": "127.0.0.1", "port": 8000, "capacity_gate": False,
    }  # fmt: skip
    assert (info["scenario"], info["start_time"], info["end_time"], info["workers"]) == ("quickstart", 10.0, 20.5, 2)
    assert info["retries"] == {"mode": "standard", "max_attempts": 3}
    tlog = next(table for table in info["tables"] if table["name"] == "tlog_scan")
    assert tlog == {"name": "tlog_scan", "billing_mode": "PROVISIONED", "capacity": {"read": 5000, "write": 5000}, "gsis": [{"name": "GSI_1", "capacity": {"read": 3000, "write": 5000}}]}
    assert info["versions"]["harness"] and info["versions"]["locust"]


def test_the_target_is_recorded_as_used():
    scenario = load_scenario(SCENARIOS / "quickstart.yaml")
    embedded = target_used(scenario, Connection("us-east-1", "http://127.0.0.1:41000", capacity_gate=True), embedded=True)
    assert (embedded["kind"], embedded["host"], embedded["port"], embedded["capacity_gate"]) == ("embedded", "127.0.0.1", 41000, True)
    aws = target_used(scenario, Connection("eu-west-1", None, local_credentials=False, profile="prod"))
    assert (aws["kind"], aws["host"], aws["port"], aws["endpoint_url"]) == ("aws", "dynamodb.eu-west-1.amazonaws.com", 443, None)
    assert "prod" not in json.dumps(aws)  # not even the profile's name
    https = target_used(scenario, Connection("us-east-1", "https://dynamodb.example.internal"))
    assert (https["kind"], https["host"], https["port"]) == ("endpoint", "dynamodb.example.internal", 443)


ORDERS = {"TableName": "orders", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
          "GlobalSecondaryIndexes": [{"IndexName": "by_status", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}]}  # fmt: skip


def test_partiql_answers_without_consumed_capacity_get_the_gates_estimate():
    """An INSERT costs its item's size in WCU (table, and a GSI it reaches: keys only there), a SELECT the items it returned."""
    estimate = partial(estimated_units, catalog=catalog_of([ORDERS]))
    recorder = Recorder(clock=lambda: 50.0, estimate=estimate)
    big = "x" * 1500  # with the names and keys: 2 KB and a bit, 3 WCU
    insert = {"Statement": 'INSERT INTO "orders" VALUE {\'pk\': ?, \'sk\': ?, \'status\': ?, \'body\': ?}', "Parameters": [{"S": "p1"}, {"S": "s1"}, {"S": "new"}, {"S": big * 2}]}
    recorder.on_attempt("ExecuteStatement", insert, {}, 200)
    select = {"Statement": 'SELECT * FROM "orders" WHERE pk = ?', "Parameters": [{"S": "p1"}]}
    recorder.on_attempt("ExecuteStatement", select, {"Items": [{"pk": {"S": "p1"}, "body": {"S": big * 4}}]}, 200)  # 6 KB: 2 units, halved
    recorder.on_attempt("ExecuteStatement", insert, {"Error": {"Code": "ValidationException"}}, 400)  # failed: costs nothing
    reported = {"ConsumedCapacity": {"TableName": "orders", "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}}
    recorder.on_attempt("ExecuteStatement", insert, reported, 200)  # a target that reports: its number, not an estimate
    assert recorder.tally.capacity.rows() == [[50, "orders", "", 1.0, 4.0], [50, "orders", "by_status", 0.0, 1.0]]
    assert recorder.tally.estimated.rows() == [["orders", "", 1.0, 3.0], ["orders", "by_status", 0.0, 1.0]]
    assert estimated_units("GetItem", {"TableName": "orders"}, {}, {}) == []
    batch = {"Statements": [{"Statement": 'DELETE FROM "orders" WHERE pk = ? AND sk = ?', "Parameters": [{"S": "a"}, {"S": "b"}]}] * 2}
    answer = {"Responses": [{}, {"Error": {"Code": "ConditionalCheckFailed"}}]}
    assert estimated_units("BatchExecuteStatement", batch, answer, catalog_of([ORDERS])) == [("orders", "", 0.0, 1.0), ("orders", "by_status", 0.0, 1.0)]


def test_a_histogram_of_few_values_travels_as_its_values_and_merges_to_the_same_histogram():
    """Workers at a modest rate send a few microsecond values per key (cheap for the master); busy keys go compressed."""
    worker = LatencyHistograms()
    quiet = [0.4, 1.25, 1.25, 37.0]
    busy = [random.uniform(0.1, 900.0) for _ in range(RAW_WIRE_LIMIT + 1)]
    for value in quiet:
        worker.record(("GetItem", "quiet"), value)
    for value in busy:
        worker.record(("Query", "busy"), value)
    rows = msgpack.unpackb(msgpack.packb(worker.wire_rows()), raw=False)
    assert rows[0][:2] == ["GetItem", "quiet"] and rows[0][2] == [400, 1250, 1250, 37000]
    assert isinstance(rows[1][2], str)  # compressed HDR
    master = LatencyHistograms()
    master.add_encoded_rows(rows)
    master.add_encoded_rows(rows)  # a second worker's identical report
    expected = LatencyHistograms()
    for value in (quiet + quiet):
        expected.record(("GetItem", "quiet"), value)
    for value in (busy + busy):
        expected.record(("Query", "busy"), value)
    assert master.percentile_rows() == expected.percentile_rows()
    assert all(isinstance(row[2], str) for row in master.wire_rows())  # merged histograms travel compressed
