"""Every data-plane operation of harness.ops against a real DynamoDB Local, through boto3 and the fast client.

One table (pk/sk, GSI gsi1 on gsi1pk/gsi1sk) serves the module; each test writes under its own
partition key. DynamoDB Local returns ConsumedCapacity for item operations but none for PartiQL,
and never throttles, so re-sends of unprocessed batch requests are tested with a scripted client.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from harness.errors import (
    CONDITIONAL,
    TRANSACTION_CONFLICT,
    ConditionalCheckError,
    ThrottledError,
    TransactionCanceledError,
    TransactionConflictError,
    classify,
)
from harness.ops.batches import batch_get_item, batch_write_item
from harness.ops.items import delete_item, get_item, put_item, update_item
from harness.ops.reads import query, scan
from harness.ops.statements import batch_execute_statement, execute_statement
from harness.ops.transactions import transact_get_items, transact_write_items
from harness.report.load import outcome_of
from harness.scenario import ClientSettings
from harness.target.client import Connection, make_client


@pytest.fixture(scope="module")
def table(endpoint):
    """A PAY_PER_REQUEST table with a GSI, created with boto3 itself (not the harness's table code)."""
    client = make_client(Connection("us-east-1", endpoint), ClientSettings(kind="boto3"))
    name = f"test-{uuid.uuid4().hex[:12]}"
    attributes = [{"AttributeName": attribute, "AttributeType": "S"} for attribute in ("pk", "sk", "gsi1pk", "gsi1sk")]
    client.create_table(
        TableName=name,
        AttributeDefinitions=attributes,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    client.delete_table(TableName=name)


@pytest.fixture(scope="module", params=["boto3", "fast"])
def any_client(request, endpoint):
    """Each test runs once with a plain boto3 client and once with the harness's fast client."""
    return make_client(Connection("us-east-1", endpoint), ClientSettings(kind=request.param))


@pytest.fixture
def pk() -> str:
    """A partition key no other test writes."""
    return f"p-{uuid.uuid4().hex[:8]}"


def key(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def put_items(client, table: str, pk: str, count: int) -> list[dict]:
    """`count` items under `pk` (sk 0..count-1, all in gsi1 under gsi1pk = pk), written with PutItem."""
    items = [{**key(pk, str(n)), "gsi1pk": {"S": pk}, "gsi1sk": {"S": f"{n:03d}"}, "n": {"N": str(n)}} for n in range(count)]
    for item in items:
        client.put_item(TableName=table, Item=item)
    return items


def failure(call, *args) -> Exception:
    """What harness.errors.classify makes of the ClientError `call(*args)` raises."""
    with pytest.raises(ClientError) as raised:
        call(*args)
    return classify(raised.value)


def table_units(result) -> float:
    return sum(entry.get("Table", {}).get("CapacityUnits", 0.0) for entry in result.consumed)


# ---- single items -----------------------------------------------------------------------


def test_put_get_update_delete(any_client, table, pk):
    item = {**key(pk, "1"), "n": {"N": "1"}}
    put = put_item(any_client, {"TableName": table, "Item": item})
    assert (put.calls, put.value.attributes) == (1, None)
    assert put.consumed == [{"TableName": table, "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}]

    got = get_item(any_client, {"TableName": table, "Key": key(pk, "1"), "ConsistentRead": True})
    assert (got.value.items, got.value.count) == ([item], 1)
    assert table_units(got) == 1.0

    updated = update_item(
        any_client,
        {
            "TableName": table,
            "Key": key(pk, "1"),
            "UpdateExpression": "SET #a = #a + :one",
            "ExpressionAttributeNames": {"#a": "n"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert updated.value.attributes == {"n": {"N": "2"}}
    assert table_units(updated) == 1.0

    deleted = delete_item(any_client, {"TableName": table, "Key": key(pk, "1"), "ReturnValues": "ALL_OLD"})
    assert deleted.value.attributes == {**item, "n": {"N": "2"}}
    missing = get_item(any_client, {"TableName": table, "Key": key(pk, "1")})
    assert (missing.value.items, missing.value.count) == ([], 0)


def test_put_item_returns_the_old_item(any_client, table, pk):
    put_item(any_client, {"TableName": table, "Item": {**key(pk, "1"), "v": {"S": "old"}}})
    replaced = put_item(any_client, {"TableName": table, "Item": {**key(pk, "1"), "v": {"S": "new"}}, "ReturnValues": "ALL_OLD"})
    assert replaced.value.attributes == {**key(pk, "1"), "v": {"S": "old"}}


def test_failed_conditions_are_conditional_check_errors(any_client, table, pk):
    put_item(any_client, {"TableName": table, "Item": key(pk, "1")})
    exists_already = {"TableName": table, "Item": key(pk, "1"), "ConditionExpression": "attribute_not_exists(pk)"}
    error = failure(put_item, any_client, exists_already)
    assert type(error) is ConditionalCheckError and error.outcome == CONDITIONAL
    locked = {
        "TableName": table,
        "Key": key(pk, "1"),
        "UpdateExpression": "SET #lock = :me",
        "ConditionExpression": "attribute_exists(#lock)",
        "ExpressionAttributeNames": {"#lock": "lock"},
        "ExpressionAttributeValues": {":me": {"S": "me"}},
    }
    error = failure(update_item, any_client, locked)
    assert type(error) is ConditionalCheckError and str(error).startswith("ConditionalCheckFailedException")


# ---- query and scan ---------------------------------------------------------------------


def test_query_reads_the_pages_asked_for(any_client, table, pk):
    put_items(any_client, table, pk, 5)
    request = {"TableName": table, "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}, "Limit": 2}

    two = query(any_client, request, pages=2)
    assert (two.value.pages, two.calls, two.value.count) == (2, 2, 4)
    assert [item["sk"]["S"] for item in two.value.items] == ["0", "1", "2", "3"]
    assert table_units(two) > 0

    every = query(any_client, request)
    assert (every.value.pages, every.value.count, every.value.scanned_count) == (3, 5, 5)
    assert [item["sk"]["S"] for item in every.value.items] == ["0", "1", "2", "3", "4"]


def test_query_on_an_index_backwards_with_a_filter(any_client, table, pk):
    put_items(any_client, table, pk, 5)
    request = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :p)",
        "FilterExpression": "#n >= :two",
        "ProjectionExpression": "sk, #n",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": "00"}, ":two": {"N": "2"}},
        "ScanIndexForward": False,
    }
    result = query(any_client, request)
    assert [item["sk"]["S"] for item in result.value.items] == ["4", "3", "2"]
    assert (result.value.count, result.value.scanned_count) == (3, 5)
    assert set(result.value.items[0]) == {"sk", "n"}
    assert result.consumed[0]["GlobalSecondaryIndexes"]["gsi1"]["CapacityUnits"] > 0

    counting = {name: value for name, value in request.items() if name != "ProjectionExpression"}
    counted = query(any_client, {**counting, "Select": "COUNT"})
    assert (counted.value.count, counted.value.items) == (3, [])


def test_parallel_scan_returns_every_item_once(any_client, table, pk):
    put_items(any_client, table, pk, 7)
    request = {"TableName": table, "FilterExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}, "Limit": 2}
    result = scan(any_client, request, segments=3)
    keys = [item["sk"]["S"] for item in result.value.items]
    assert sorted(keys) == [str(n) for n in range(7)]
    assert result.value.count == 7 and result.value.scanned_count >= 7
    assert result.calls == result.value.pages >= 3
    assert table_units(result) > 0


def test_scan_pages_and_default_limit(any_client, table, pk):
    put_items(any_client, table, pk, 3)
    one_page = scan(any_client, {"TableName": table, "Limit": 1}, pages=1)
    assert (one_page.calls, one_page.value.pages, one_page.value.scanned_count) == (1, 1, 1)
    calls = []
    recording = type("Recording", (), {"scan": lambda self, **request: calls.append(request) or any_client.scan(**request)})()
    scan(recording, {"TableName": table}, pages=1)
    assert calls[0]["Limit"] == 1000 and calls[0]["ReturnConsumedCapacity"] == "INDEXES"


# ---- batches ----------------------------------------------------------------------------


def test_batch_write_then_batch_get(any_client, table, pk):
    items = [{**key(pk, f"{n:02d}"), "n": {"N": str(n)}} for n in range(60)]
    for start in range(0, 60, 25):  # BatchWriteItem takes at most 25 writes
        writes = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        written = batch_write_item(any_client, {"RequestItems": {table: writes}})
        assert (written.calls, written.value.unprocessed) == (1, 0)
        assert table_units(written) == len(writes)
    keys = [key(pk, f"{n:02d}") for n in range(0, 60, 2)]
    got = batch_get_item(any_client, {"RequestItems": {table: {"Keys": keys, "ConsistentRead": True}}})
    assert (got.value.count, got.value.unprocessed) == (30, 0)
    assert sorted(item["sk"]["S"] for item in got.value.items) == [f"{n:02d}" for n in range(0, 60, 2)]
    assert table_units(got) == 30.0


class Unprocessing:
    """A scripted client whose batch calls leave requests unprocessed `times` times."""

    def __init__(self, times: int):
        self.times, self.requests = times, []

    def batch_write_item(self, **request):
        self.requests.append(request)
        left = request["RequestItems"] if len(self.requests) <= self.times else {}
        return {"UnprocessedItems": left, "ResponseMetadata": {"RetryAttempts": 0}}

    def batch_get_item(self, **request):
        self.requests.append(request)
        table, wanted = next(iter(request["RequestItems"].items()))
        first, rest = wanted["Keys"][:1], wanted["Keys"][1:]
        left = {table: {**wanted, "Keys": rest}} if rest and len(self.requests) <= self.times else {}
        served = first if left else wanted["Keys"]
        return {"Responses": {table: served}, "UnprocessedKeys": left, "ConsumedCapacity": [{"TableName": table, "CapacityUnits": 1.0}]}


def test_unprocessed_writes_are_resent_then_counted():
    writes = {"t": [{"PutRequest": {"Item": {"pk": {"S": str(n)}}}} for n in range(3)]}
    resent = Unprocessing(times=2)
    result = batch_write_item(resent, {"RequestItems": writes}, first_wait=0)
    assert (result.calls, result.value.unprocessed) == (3, 0)
    assert all(request["RequestItems"] == writes and request["ReturnConsumedCapacity"] == "INDEXES" for request in resent.requests)

    stuck = batch_write_item(Unprocessing(times=99), {"RequestItems": writes}, resends=4, first_wait=0)
    assert (stuck.calls, stuck.value.unprocessed) == (5, 3)


def test_unprocessed_keys_are_resent_and_items_gathered():
    keys = [{"pk": {"S": str(n)}} for n in range(4)]
    result = batch_get_item(Unprocessing(times=2), {"RequestItems": {"t": {"Keys": keys}}}, first_wait=0)
    assert (result.calls, result.value.count, result.value.unprocessed) == (3, 4, 0)
    assert result.value.items == keys and result.capacity_units == 3.0

    stuck = batch_get_item(Unprocessing(times=99), {"RequestItems": {"t": {"Keys": keys}}}, resends=1, first_wait=0)
    assert (stuck.calls, stuck.value.count, stuck.value.unprocessed) == (2, 2, 2)


# ---- transactions -----------------------------------------------------------------------


def test_transact_write_with_a_condition_check(any_client, table, pk):
    put_items(any_client, table, pk, 2)
    request = {
        "TransactItems": [
            {"ConditionCheck": {"TableName": table, "Key": key(pk, "0"), "ConditionExpression": "attribute_exists(pk)"}},
            {"Put": {"TableName": table, "Item": key(pk, "new")}},
            {"Update": {"TableName": table, "Key": key(pk, "1"), "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}},
        ],
        "ClientRequestToken": uuid.uuid4().hex,
    }
    result = transact_write_items(any_client, request)
    assert result.calls == 1 and table_units(result) > 0
    assert get_item(any_client, {"TableName": table, "Key": key(pk, "new")}).value.count == 1
    assert get_item(any_client, {"TableName": table, "Key": key(pk, "1")}).value.items[0]["v"] == {"S": "x"}


def test_transact_write_with_a_failing_condition_check(any_client, table, pk):
    put_items(any_client, table, pk, 1)
    request = {
        "TransactItems": [
            {"Put": {"TableName": table, "Item": key(pk, "new")}},
            {"ConditionCheck": {"TableName": table, "Key": key(pk, "0"), "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    }
    error = failure(transact_write_items, any_client, request)
    assert type(error) is TransactionCanceledError and isinstance(error, ConditionalCheckError)
    assert error.outcome == CONDITIONAL
    assert error.reasons == ("None", "ConditionalCheckFailed")
    assert str(error) == "TransactionCanceledException: [None, ConditionalCheckFailed]"
    assert get_item(any_client, {"TableName": table, "Key": key(pk, "new")}).value.count == 0


def test_transact_get_items(any_client, table, pk):
    items = put_items(any_client, table, pk, 2)
    gets = [{"Get": {"TableName": table, "Key": key(pk, sk)}} for sk in ("1", "missing", "0")]
    result = transact_get_items(any_client, {"TransactItems": gets})
    assert (result.value.items, result.value.count) == ([items[1], items[0]], 2)
    assert table_units(result) > 0


def cancelled(*reasons: str) -> ClientError:
    """A TransactionCanceledException as botocore parses it (CancellationReasons at the top level)."""
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(reasons)}]"
    response = {"Error": {"Code": "TransactionCanceledException", "Message": message}, "CancellationReasons": [{"Code": code} for code in reasons]}
    return ClientError(response, "TransactWriteItems")


def test_cancellation_reasons_name_the_outcome():
    # DynamoDB Local serialises transactions: overlapping ones from several threads never conflict there.
    conflict = classify(cancelled("None", "ConditionalCheckFailed", "TransactionConflict"))
    assert type(conflict) is TransactionConflictError and conflict.outcome == TRANSACTION_CONFLICT
    assert str(conflict) == "TransactionCanceledException: [None, ConditionalCheckFailed, TransactionConflict]"
    assert classify(cancelled("ConditionalCheckFailed", "None")).outcome == CONDITIONAL
    assert type(classify(cancelled("TransactionConflict", "ThrottlingError"))) is ThrottledError
    assert outcome_of(repr(conflict)) == TRANSACTION_CONFLICT
    assert outcome_of(repr(classify(cancelled("ConditionalCheckFailed")))) == CONDITIONAL


# ---- PartiQL ----------------------------------------------------------------------------


def test_execute_statement_with_parameters_and_pages(any_client, table, pk):
    insert = f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': ?, 'n': ?}}"
    for n in range(5):
        inserted = execute_statement(any_client, {"Statement": insert, "Parameters": [{"S": pk}, {"S": str(n)}, {"N": str(n)}]})
        assert (inserted.calls, inserted.value.items) == (1, [])
    select = {"Statement": f'SELECT sk FROM "{table}" WHERE pk = ?', "Parameters": [{"S": pk}], "Limit": 2}
    first = execute_statement(any_client, select, pages=1)
    assert (first.calls, first.value.pages, first.value.count) == (1, 1, 2)
    every = execute_statement(any_client, select)
    assert sorted(item["sk"]["S"] for item in every.value.items) == ["0", "1", "2", "3", "4"]
    assert every.value.count == 5 and every.calls == every.value.pages >= 3
    filtered = execute_statement(any_client, {"Statement": f'SELECT sk FROM "{table}" WHERE pk = ? AND n >= ?', "Parameters": [{"S": pk}, {"N": "3"}]})
    assert sorted(item["sk"]["S"] for item in filtered.value.items) == ["3", "4"]
    assert every.consumed == []  # DynamoDB Local reports no capacity for PartiQL


def test_batch_execute_statement_counts_statement_errors(any_client, table, pk):
    put_items(any_client, table, pk, 1)
    insert = f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': ?}}"
    statements = [{"Statement": insert, "Parameters": [{"S": pk}, {"S": sk}]} for sk in ("a", "0", "b")]
    result = batch_execute_statement(any_client, {"Statements": statements})
    assert result.calls == 1 and result.value.items == []
    # The API model names the code DuplicateItemException; DynamoDB Local answers DuplicateItem.
    assert result.value.statement_errors in ({"DuplicateItem": 1}, {"DuplicateItemException": 1})

    select = f'SELECT * FROM "{table}" WHERE pk = ? AND sk = ?'
    reads = [{"Statement": select, "Parameters": [{"S": pk}, {"S": sk}]} for sk in ("a", "missing", "b")]
    found = batch_execute_statement(any_client, {"Statements": reads})
    assert sorted(item["sk"]["S"] for item in found.value.items) == ["a", "b"]
    assert (found.value.count, found.value.statement_errors) == (2, {})
