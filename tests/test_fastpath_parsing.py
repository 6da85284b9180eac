"""The fast path returns what boto3 returns and raises what boto3 raises, for the same HTTP answers.

Both clients talk to the same scripted endpoint, which gives each the same bytes; their return
values (ResponseMetadata included) and exceptions (class, response dict, message) must be equal,
and the attempt listeners must see the same attempts.
"""

from __future__ import annotations

import base64
import json
import socket

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from scripted_endpoint import ScriptedEndpoint, answer, error

from harness.errors import classify
from harness.fastpath.attempts import observe_attempts
from harness.fastpath.parsing import parse_response
from harness.fastpath.transport import RawResponse
from harness.scenario import ClientSettings, RetrySettings
from harness.target.client import Connection, make_client

B64 = base64.b64encode(b"\x00\x01\xfe").decode()
ITEM = {
    "pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": B64}, "bs": {"BS": [B64, "eA=="]}, "ss": {"SS": ["x"]},
    "ns": {"NS": ["1"]}, "m": {"M": {"inner": {"B": "eA=="}, "l": {"L": [{"NULL": True}, {"BOOL": False}]}}},
}  # fmt: skip
TEXT_ITEM = {"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"l": {"L": [{"S": "x"}, {"BOOL": True}]}}}}
CAPACITY = {"TableName": "t", "CapacityUnits": 1.5, "Table": {"CapacityUnits": 0.5}, "GlobalSecondaryIndexes": {"GSI_1": {"CapacityUnits": 1.0}}}

SUCCESSES = [
    ("get_item", {"Item": TEXT_ITEM, "ConsumedCapacity": CAPACITY}),
    ("get_item", {"Item": ITEM}),
    ("get_item", {}),
    ("put_item", {"ConsumedCapacity": CAPACITY, "Attributes": ITEM}),
    ("update_item", {"Attributes": TEXT_ITEM, "ItemCollectionMetrics": {"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": [0.0, 1.0]}}),
    ("delete_item", {"Attributes": ITEM}),
    ("query", {"Count": 2, "ScannedCount": 3, "Items": [TEXT_ITEM, TEXT_ITEM], "LastEvaluatedKey": {"pk": {"S": "a"}}, "ConsumedCapacity": CAPACITY}),
    ("query", {"Count": 0, "ScannedCount": 0}),
    ("scan", {"Count": 1, "ScannedCount": 1, "Items": [ITEM]}),
    ("execute_statement", {"Items": [TEXT_ITEM], "NextToken": "tok", "LastEvaluatedKey": {"pk": {"S": "a"}}, "ConsumedCapacity": CAPACITY}),
    ("execute_statement", {"Items": []}),
    ("batch_write_item", {"UnprocessedItems": {"t": [{"PutRequest": {"Item": TEXT_ITEM}}]}, "ConsumedCapacity": [CAPACITY]}),
    ("batch_get_item", {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {"t": {"Keys": [{"pk": {"S": "b"}}]}}, "ConsumedCapacity": [CAPACITY]}),
    ("transact_write_items", {"ConsumedCapacity": [CAPACITY], "ItemCollectionMetrics": {}}),
    ("get_item", {"Item": TEXT_ITEM, "Unmodeled": {"x": 1}, "ConsumedCapacity": None}),  # unknown and null members are dropped
]

PARAMS = {"TableName": "t", "Key": {"pk": {"S": "a"}}}
PARAMS_OF = {
    "put_item": {"TableName": "t", "Item": {"pk": {"S": "a"}}},
    "query": {"TableName": "t", "KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": {"S": "a"}}},
    "scan": {"TableName": "t"},
    "execute_statement": {"Statement": "SELECT * FROM t"},
    "batch_write_item": {"RequestItems": {"t": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}}]}},
    "batch_get_item": {"RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}]}}},
    "transact_write_items": {"TransactItems": [{"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}}]},
}
ERRORS = [
    error("ConditionalCheckFailedException", "The conditional request failed", Item=TEXT_ITEM),
    error("ValidationException", "One or more parameter values were invalid", message_key="Message"),
    error("ProvisionedThroughputExceededException", "Rate exceeded", ThrottlingReasons=[{"reason": "TableReadProvisionedThroughputExceeded", "resource": "arn:aws:dynamodb:us-east-1:1:table/t"}]),
    error("TransactionCanceledException", "Transaction cancelled", CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "failed", "Item": TEXT_ITEM}]),
    error("ResourceNotFoundException", "Requested resource not found"),
    error("DuplicateItem", "Duplicate primary key exists in table"),  # DynamoDB Local's unmodeled PartiQL code
    answer(b"<html><body>Service Unavailable</body></html>", 503),
    answer(b"", 500),
    answer(b"not json at all", 400),
]


@pytest.fixture
def endpoint():
    with ScriptedEndpoint() as server:
        yield server


def clients(url: str, max_attempts: int = 3):
    settings = ClientSettings(kind="boto3", retries=RetrySettings(mode="standard", max_attempts=max_attempts))
    return make_client(Connection("us-east-1", url), settings), make_client(Connection("us-east-1", url), settings.model_copy(update={"kind": "fast"}))


def call_both(endpoint, scripted: list, method: str, params: dict, max_attempts: int = 3) -> tuple:
    """(boto3 outcome, fast outcome): each a returned dict or a raised exception, for the same scripted answers."""
    boto_client, fast_client = clients(endpoint.url, max_attempts)
    outcomes = []
    for client in (boto_client, fast_client):
        endpoint.script = list(scripted)
        try:
            outcomes.append(getattr(client, method)(**params))
        except Exception as exc:
            outcomes.append(exc)
    return tuple(outcomes)


@pytest.mark.parametrize("method, body", SUCCESSES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(SUCCESSES)])
def test_success_responses_parse_like_boto3(method, body, endpoint):
    from_boto3, from_fast = call_both(endpoint, [answer(body)], method, PARAMS_OF.get(method, PARAMS))
    assert not isinstance(from_boto3, Exception), from_boto3
    assert from_fast == from_boto3
    assert list(from_fast) == list(from_boto3)  # same top-level order too


def test_binary_values_come_back_as_bytes(endpoint):
    _, from_fast = call_both(endpoint, [answer({"Item": ITEM})], "get_item", PARAMS)
    assert from_fast["Item"]["b"]["B"] == b"\x00\x01\xfe"
    assert from_fast["Item"]["m"]["M"]["inner"]["B"] == b"x"


@pytest.mark.parametrize("scripted", ERRORS, ids=lambda a: json.loads(a[2] or b"{}").get("__type", str(a[0])).rpartition("#")[2] if a[2].startswith(b"{") else str(a[0]))
def test_errors_raise_the_same_client_error(scripted, endpoint):
    from_boto3, from_fast = call_both(endpoint, [scripted], "get_item", PARAMS, max_attempts=1)
    assert isinstance(from_boto3, ClientError), from_boto3
    # Each client has its own modeled exception classes (botocore's error factory): same name and bases.
    assert [cls.__name__ for cls in type(from_fast).__mro__] == [cls.__name__ for cls in type(from_boto3).__mro__]
    assert from_fast.response == from_boto3.response
    assert str(from_fast) == str(from_boto3)
    assert from_fast.operation_name == "GetItem"
    assert type(classify(from_fast)) is type(classify(from_boto3))


def test_modeled_error_fields_reach_the_top_level(endpoint):
    _, from_fast = call_both(endpoint, [ERRORS[2]], "get_item", PARAMS, max_attempts=1)
    assert from_fast.response["Error"] == {"Message": "Rate exceeded", "Code": "ProvisionedThroughputExceededException"}
    assert from_fast.response["ThrottlingReasons"][0]["reason"] == "TableReadProvisionedThroughputExceeded"


def test_throttles_are_retried_and_counted_like_boto3(endpoint):
    """Two throttled attempts then success: same result, same RetryAttempts, same listener calls."""
    scripted = [error("ThrottlingException", "slow down")] * 2 + [answer({"Item": TEXT_ITEM})]
    boto_client, fast_client = clients(endpoint.url, max_attempts=3)
    seen = {"boto3": [], "fast": []}
    observe_attempts(boto_client, lambda *attempt: seen["boto3"].append(attempt))
    observe_attempts(fast_client, lambda *attempt: seen["fast"].append(attempt))
    results = {}
    for name, client in (("boto3", boto_client), ("fast", fast_client)):
        endpoint.script = list(scripted)
        results[name] = client.get_item(**PARAMS)
    assert results["fast"] == results["boto3"]
    assert results["fast"]["ResponseMetadata"]["RetryAttempts"] == 2
    assert [(op, body, status) for op, body, _, status in seen["fast"]] == [(op, body, status) for op, body, _, status in seen["boto3"]]
    assert [parsed.get("Error", {}).get("Code") for _, _, parsed, _ in seen["fast"]] == ["ThrottlingException", "ThrottlingException", None]


def test_throttles_exhausting_attempts_raise_with_retry_metadata(endpoint):
    from_boto3, from_fast = call_both(endpoint, [error("ProvisionedThroughputExceededException", "x")] * 2, "get_item", PARAMS, max_attempts=2)
    assert from_fast.response == from_boto3.response
    assert from_fast.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert from_fast.response["ResponseMetadata"]["MaxAttemptsReached"] is True


def test_crc32_mismatch_is_retried(endpoint):
    corrupt = answer({"Item": TEXT_ITEM}, x_amz_crc32="12345")
    from_boto3, from_fast = call_both(endpoint, [corrupt, answer({"Item": TEXT_ITEM})], "get_item", PARAMS)
    assert from_fast == from_boto3
    assert from_fast["ResponseMetadata"]["RetryAttempts"] == 1


def test_unreachable_endpoint_raises_botocore_connection_error():
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{reserved.getsockname()[1]}"  # bound, not listening: connection refused
        boto_client, fast_client = clients(url, max_attempts=1)
        outcomes = []
        for client in (boto_client, fast_client):
            with pytest.raises(EndpointConnectionError) as raised:
                client.get_item(**PARAMS)
            outcomes.append(raised.value)
    assert str(outcomes[1]) == str(outcomes[0])
    assert type(classify(outcomes[1])) is type(classify(outcomes[0]))


def test_control_plane_goes_through_boto3(endpoint):
    _, fast_client = clients(endpoint.url)
    endpoint.script = [answer({"TableNames": ["a", "b"]})]
    assert fast_client.list_tables()["TableNames"] == ["a", "b"]
    assert fast_client.meta.service_model.service_name == "dynamodb"
    assert fast_client.exceptions.ResourceNotFoundException.__name__ == "ResourceNotFoundException"


def test_parse_response_directly_matches_botocore_parser():
    """The fast parse on a raw response, without any network: same as botocore's parser."""
    import botocore.session
    from botocore.parsers import create_parser

    model = botocore.session.get_session().get_service_model("dynamodb").operation_model("Query")
    body = json.dumps({"Items": [TEXT_ITEM], "Count": 1, "ScannedCount": 1}).encode()
    raw = RawResponse(200, {"x-amzn-requestid": "R", "content-length": str(len(body))}, body)
    expected = create_parser("json").parse({"headers": raw.headers, "status_code": 200, "body": body}, model.output_shape)
    assert parse_response(model, tuple(model.output_shape.members), raw) == expected


def test_listeners_get_the_same_request_body_with_binary_values(endpoint):
    """Blobs travel base64-encoded: both paths hand listeners the decoded wire body, not the bytes."""
    params = {"TableName": "t", "Item": {"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}}}
    boto_client, fast_client = clients(endpoint.url)
    seen = {"boto3": [], "fast": []}
    observe_attempts(boto_client, lambda *attempt: seen["boto3"].append(attempt[1]))
    observe_attempts(fast_client, lambda *attempt: seen["fast"].append(attempt[1]))
    for client in (boto_client, fast_client):
        endpoint.script = [answer({})]
        client.put_item(**params)
    assert seen["fast"] == seen["boto3"] == [{"TableName": "t", "Item": {"pk": {"S": "a"}, "blob": {"B": "AP8="}}}]
