"""Per-key tallies and what reads read (harness.metrics.keys, sums.Spans): single functions, no server."""

from __future__ import annotations

from types import SimpleNamespace

from harness.metrics import keys
from harness.metrics.recorder import Recorder
from harness.metrics.sums import Spans
from harness.ops.result import OpResult

SCHEMAS = {"t": {"": "pk", "by_state": "state"}, "u": {"": "id"}}


def touched(operation, body):
    return keys.touched_keys(operation, body, SCHEMAS)


def test_item_calls_touch_their_key_and_a_put_touches_each_gsi_its_item_carries():
    assert touched("GetItem", {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}) == [("t", "", "a")]
    assert touched("UpdateItem", {"TableName": "u", "Key": {"id": {"N": "7.0"}}}) == [("u", "", "7")]
    assert touched("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "state": {"S": "WA"}}}) == [("t", "", "a"), ("t", "by_state", "WA")]
    assert touched("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}}}) == [("t", "", "a")]  # a sparse GSI skips it
    assert touched("Scan", {"TableName": "t"}) == []
    assert touched("GetItem", {"TableName": "unknown", "Key": {"pk": {"S": "a"}}}) == []


def test_a_query_touches_the_partition_of_its_key_condition_on_its_index():
    body = {
        "TableName": "t", "IndexName": "by_state", "KeyConditionExpression": "#s = :s AND begins_with(city, :c)",
        "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":s": {"S": "TX"}, ":c": {"S": "Aus"}},
    }  # fmt: skip
    assert touched("Query", body) == [("t", "by_state", "TX")]
    assert touched("Query", {"TableName": "t", "KeyConditionExpression": ":v = pk", "ExpressionAttributeValues": {":v": {"S": "x"}}}) == [("t", "", "x")]


def test_batches_transactions_and_partiql_touch_every_key_they_name():
    batch = {"RequestItems": {"t": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}], "u": [{"PutRequest": {"Item": {"id": {"S": "c"}}}}]}}
    assert touched("BatchWriteItem", batch) == [("t", "", "a"), ("t", "", "b"), ("u", "", "c")]
    assert touched("BatchGetItem", {"RequestItems": {"u": {"Keys": [{"id": {"S": "1"}}, {"id": {"S": "2"}}]}}}) == [("u", "", "1"), ("u", "", "2")]
    transaction = {"TransactItems": [{"Update": {"TableName": "u", "Key": {"id": {"S": "1"}}}}, {"Put": {"TableName": "t", "Item": {"pk": {"S": "p"}, "state": {"S": "OR"}}}}]}
    assert touched("TransactWriteItems", transaction) == [("u", "", "1"), ("t", "", "p"), ("t", "by_state", "OR")]
    insert = {"Statement": "INSERT INTO \"t\" VALUE {'pk': ?, 'state': 'CA'}", "Parameters": [{"S": "k"}]}
    assert touched("ExecuteStatement", insert) == [("t", "", "k"), ("t", "by_state", "CA")]
    select = {"Statement": 'SELECT * FROM "t"."by_state" WHERE state = ?', "Parameters": [{"S": "NV"}]}
    assert touched("ExecuteStatement", select) == [("t", "by_state", "NV")]


def test_past_the_bound_new_keys_count_as_other_keys(monkeypatch):
    monkeypatch.setattr(keys, "MAX_KEYS", 2)
    tally = keys.KeyTally()
    for key in ("a", "b", "c", "d", "a"):
        tally.add("t", "", key, 1, 0.5, 0.0, 0)
    tally.add_reason("t", "", "e", "KeyRangeThroughputExceeded", 1)
    assert tally.rows() == [["t", "", "(other keys)", 2, 1.0, 0.0, 0], ["t", "", "a", 2, 1.0, 0.0, 0], ["t", "", "b", 1, 0.5, 0.0, 0]]
    assert tally.reason_rows() == [["t", "", "(other keys)", "KeyRangeThroughputExceeded", 1]]
    merged = keys.KeyTally()
    merged.add_rows(tally.rows(), tally.reason_rows())
    assert merged.rows() == tally.rows() and merged.reason_rows() == tally.reason_rows()


def test_spans_merge_exactly():
    first, second = Spans(key_width=1), Spans(key_width=1)
    for value in (5, 3):
        first.add(("scan",), value)
    second.add(("scan",), 9)
    first.add_rows(second.rows())
    assert first.rows() == [["scan", 3, 3, 9]]


def test_the_recorder_shares_units_among_the_keys_and_counts_throttles_with_their_reason():
    recorder = Recorder(clock=lambda: 100.0, schemas=SCHEMAS)
    body = {"RequestItems": {"u": {"Keys": [{"id": {"S": "1"}}, {"id": {"S": "2"}}]}}}
    recorder.on_attempt("BatchGetItem", body, {"ConsumedCapacity": [{"TableName": "u", "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}]}, 200)
    throttled = {"Error": {"Code": "ProvisionedThroughputExceededException"}, "ThrottlingReasons": [{"reason": "TableReadKeyRangeThroughputExceeded", "resource": "arn:aws:dynamodb:r:1:table/u"}]}
    recorder.on_attempt("GetItem", {"TableName": "u", "Key": {"id": {"S": "1"}}}, throttled, 400)
    tally = recorder.take()
    assert tally.keys.rows() == [["u", "", "1", 2, 0.5, 0.0, 1], ["u", "", "2", 1, 0.5, 0.0, 0]]
    assert tally.keys.reason_rows() == [["u", "", "1", "TableReadKeyRangeThroughputExceeded", 1]]


def test_the_recorder_counts_items_returned_and_read_and_the_aggregate():
    recorder = Recorder()
    result = OpResult()
    result.absorb({"Count": 2, "ScannedCount": 50, "Items": []})
    result.absorb({"Count": 1, "ScannedCount": 25, "Items": []})
    result.aggregate = 12.5
    recorder.on_request("Scan", "filtered", 3.0, response=result)
    recorder.on_request("GetItem", "get", 1.0, response=SimpleNamespace())  # no pages: no row
    recorder.on_request("Scan", "filtered", 3.0, exception=RuntimeError("x"), response=None)
    tally = recorder.take()
    assert tally.reads.rows() == [["Scan", "filtered", 1, 3, 75]]
    assert tally.aggregates.rows() == [["Scan", "filtered", 1, 12.5, 12.5]]
