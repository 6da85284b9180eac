"""The fast path sends what botocore sends: same request line, headers, body and SigV4 signature.

Each operation the harness uses is sent once through a real boto3 client and once through the
fast client, at the same pinned time and invocation id, to a raw-socket endpoint that keeps the
bytes. The two requests must be byte-identical on the wire, and the fast path's request must
carry exactly the method, path, headers and body of botocore's own AWSPreparedRequest.
"""

from __future__ import annotations

import datetime
import uuid
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.session
import pytest
from botocore.credentials import Credentials
from scripted_endpoint import ScriptedEndpoint, error

from harness.fastpath import FAST_OPERATIONS, FastDynamoDBClient
from harness.scenario import ClientSettings, RetrySettings
from harness.target.client import Connection, client_config, make_client

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)
NOW_EPOCH = NOW.replace(tzinfo=datetime.timezone.utc).timestamp()
INVOCATION = uuid.UUID("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")

ITEM = {
    "pk": {"S": "ACCOUNT#1#CUSTOMER#7"},
    "sk": {"S": "STATUS#NEW#ORDER#ü-ñ"},  # non-ASCII: json.dumps escapes it as botocore does
    "amount": {"N": "125.50"},
    "tags": {"SS": ["a", "b"]},
    "scores": {"NS": ["1", "2.5"]},
    "active": {"BOOL": True},
    "gone": {"NULL": True},
    "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}]}}},
}
BINARY_ITEM = {"pk": {"S": "bin"}, "blob": {"B": b"\x00\x01\xfe\xff"}, "text_blob": {"B": "as text"}, "set": {"BS": [b"a", b"bc"]}, "deep": {"M": {"b": {"B": b"x"}}}}

CALLS = {
    "GetItem": ("get_item", {"TableName": "orders", "Key": {"pk": ITEM["pk"], "sk": ITEM["sk"]}, "ConsistentRead": True, "ProjectionExpression": "#a, amount", "ExpressionAttributeNames": {"#a": "active"}, "ReturnConsumedCapacity": "INDEXES"}),
    "PutItem": ("put_item", {"TableName": "orders", "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)", "ReturnValues": "NONE", "ReturnConsumedCapacity": "TOTAL"}),
    "UpdateItem": ("update_item", {"TableName": "orders", "Key": {"pk": ITEM["pk"], "sk": ITEM["sk"]}, "UpdateExpression": "SET amount = :a ADD visits :one", "ExpressionAttributeValues": {":a": {"N": "3"}, ":one": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"}),
    "DeleteItem": ("delete_item", {"TableName": "orders", "Key": {"pk": ITEM["pk"], "sk": ITEM["sk"]}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    "Query": ("query", {"TableName": "logs", "IndexName": "GSI_1", "Select": "COUNT", "KeyConditionExpression": "#shard = :shard AND begins_with(#sort, :prefix)", "ExpressionAttributeNames": {"#shard": "GSI_1_PK", "#sort": "GSI_1_SK"}, "ExpressionAttributeValues": {":shard": {"S": "shard#3"}, ":prefix": {"S": "404#"}}, "Limit": 100, "ExclusiveStartKey": {"requestid": {"N": "17"}}, "ReturnConsumedCapacity": "INDEXES"}),
    "Scan": ("scan", {"TableName": "logs", "TotalSegments": 8, "Segment": 3, "Limit": 1000, "FilterExpression": "responsecode <> :code", "ExpressionAttributeValues": {":code": {"N": "200"}}, "ReturnConsumedCapacity": "INDEXES"}),
    "ExecuteStatement": ("execute_statement", {"Statement": "INSERT INTO \"orders\" VALUE {'pk': ?, 'sk': ?, 'amount': ?}", "Parameters": [ITEM["pk"], ITEM["sk"], ITEM["amount"]], "ReturnConsumedCapacity": "INDEXES"}),
    "BatchWriteItem": ("batch_write_item", {"RequestItems": {"orders": [{"PutRequest": {"Item": ITEM}}, {"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}]}, "ReturnConsumedCapacity": "TOTAL"}),
    "BatchGetItem": ("batch_get_item", {"RequestItems": {"orders": {"Keys": [{"pk": {"S": "a"}, "sk": {"S": "b"}}], "ConsistentRead": False}}, "ReturnConsumedCapacity": "TOTAL"}),
    "TransactWriteItems": ("transact_write_items", {"TransactItems": [{"Put": {"TableName": "orders", "Item": ITEM}}, {"Update": {"TableName": "orders", "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}, "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "1"}}}}, {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "c"}, "sk": {"S": "d"}}}}, {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "e"}, "sk": {"S": "f"}}, "ConditionExpression": "attribute_exists(pk)"}}], "ClientRequestToken": "token-1", "ReturnConsumedCapacity": "INDEXES"}),
}
BINARY_CALLS = {
    "PutItem": ("put_item", {"TableName": "orders", "Item": BINARY_ITEM}),
    "GetItem": ("get_item", {"TableName": "orders", "Key": {"pk": {"B": b"\x00key"}}}),
    "ExecuteStatement": ("execute_statement", {"Statement": "SELECT * FROM orders WHERE pk = ?", "Parameters": [{"B": b"\x10"}]}),
}


@pytest.fixture
def endpoint():
    with ScriptedEndpoint() as server:
        yield server


class PreparedRequests:
    """botocore's before-send hook: keeps every AWSPreparedRequest and lets it go to the wire."""

    def __init__(self, client):
        self.requests = []
        client.meta.events.register("before-send.dynamodb", lambda request, **_: self.requests.append(request))


def pinned_boto3():
    """botocore's clock and invocation id, pinned."""
    return (
        mock.patch("botocore.auth.get_current_datetime", return_value=NOW),
        mock.patch("botocore.endpoint.get_current_datetime", return_value=NOW),
        mock.patch("botocore.endpoint.uuid.uuid4", return_value=INVOCATION),
    )


def pin_fast(client: FastDynamoDBClient) -> FastDynamoDBClient:
    client._clock = lambda: NOW_EPOCH
    client._new_invocation_id = lambda: str(INVOCATION)
    return client


def send_both(boto_client, fast_client, method: str, params: dict, server: ScriptedEndpoint) -> tuple[list[bytes], list[bytes]]:
    """The wire bytes of one call through each client (all attempts), botocore first."""
    first = len(server.requests)
    patches = pinned_boto3()
    with patches[0], patches[1], patches[2]:
        _call_ignoring_errors(getattr(boto_client, method), params)
        middle = len(server.requests)
        with mock.patch("harness.fastpath.client.get_current_datetime", return_value=NOW):
            _call_ignoring_errors(getattr(pin_fast(fast_client), method), params)
    return server.requests[first:middle], server.requests[middle:]


def _call_ignoring_errors(function, params):
    try:
        function(**params)
    except Exception as exc:  # scripted errors: the requests are what this test compares
        return exc
    return None


def split_request(raw: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, path, [(header, value)...] in wire order, body) of raw HTTP/1.1 request bytes."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ")
    return method, path, [tuple(line.split(": ", 1)) for line in lines[1:]], body


def assert_matches_prepared(raw: bytes, prepared, host: str) -> None:
    method, path, headers, body = split_request(raw)
    assert method == prepared.method
    assert path == (urlsplit(prepared.url).path or "/")
    assert body == prepared.body
    expected = [(name, value.decode() if isinstance(value, bytes) else value) for name, value in prepared.headers.items()]
    # http.client writes Host and Accept-Encoding itself, before botocore's headers.
    assert headers == [("Host", host), ("Accept-Encoding", "identity")] + expected


def both_clients(url: str, settings: ClientSettings):
    boto_client = make_client(Connection("us-east-1", url), settings.model_copy(update={"kind": "boto3"}))
    fast_client = make_client(Connection("us-east-1", url), settings.model_copy(update={"kind": "fast"}))
    return boto_client, fast_client


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_request_is_byte_identical(operation, endpoint):
    boto_client, fast_client = both_clients(endpoint.url, ClientSettings())
    prepared = PreparedRequests(boto_client)
    method, params = CALLS[operation]
    from_botocore, from_fast = send_both(boto_client, fast_client, method, params, endpoint)
    assert len(from_botocore) == len(from_fast) == 1
    assert from_fast == from_botocore
    assert_matches_prepared(from_fast[0], prepared.requests[-1], urlsplit(endpoint.url).netloc)
    assert f"X-Amz-Target: DynamoDB_20120810.{operation}\r\n".encode() in from_fast[0]


def test_every_operation_the_harness_uses_is_covered():
    assert sorted(CALLS) == sorted(FAST_OPERATIONS)


@pytest.mark.parametrize("operation", sorted(BINARY_CALLS))
def test_binary_values_are_base64_like_botocore(operation, endpoint):
    boto_client, fast_client = both_clients(endpoint.url, ClientSettings())
    method, params = BINARY_CALLS[operation]
    from_botocore, from_fast = send_both(boto_client, fast_client, method, params, endpoint)
    assert from_fast == from_botocore
    assert b'"B": "' in from_fast[0]


def test_session_token_is_sent_and_signed_like_botocore(endpoint):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session/token+with=chars")
    boto_client = boto3.session.Session().client(
        "dynamodb", region_name="eu-west-1", endpoint_url=endpoint.url, config=client_config(ClientSettings()),
        aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key, aws_session_token=credentials.token,
    )  # fmt: skip
    fast_client = FastDynamoDBClient(boto_client, credentials, "eu-west-1", endpoint.url, pool_size=2, connect_timeout=2, read_timeout=10)
    prepared = PreparedRequests(boto_client)
    from_botocore, from_fast = send_both(boto_client, fast_client, *CALLS["GetItem"], endpoint)
    assert from_fast == from_botocore
    assert b"X-Amz-Security-Token: session/token+with=chars\r\n" in from_fast[0]
    assert b"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target" in from_fast[0]
    assert_matches_prepared(from_fast[0], prepared.requests[-1], urlsplit(endpoint.url).netloc)


@pytest.mark.parametrize("mode", ["standard", "legacy", "adaptive"])
def test_retried_attempts_are_identical_too(mode, endpoint):
    """Each attempt is re-signed with its own amz-sdk-request (attempt, max, ttl from the server's Date)."""
    settings = ClientSettings(retries=RetrySettings(mode=mode, max_attempts=3))
    boto_client, fast_client = both_clients(endpoint.url, settings)
    endpoint.script = [error("InternalServerError", "try again", status=500)] * 6  # three attempts each
    from_botocore, from_fast = send_both(boto_client, fast_client, *CALLS["GetItem"], endpoint)
    assert len(from_botocore) == 3
    assert from_fast == from_botocore
    headers = [dict(split_request(raw)[2])["amz-sdk-request"] for raw in from_fast]
    assert headers[1].startswith("ttl=") and headers[1].endswith("; attempt=2; max=3")


def test_signature_matches_botocore_sigv4auth_directly():
    """The signer alone against botocore.auth.SigV4Auth on a hand-built request."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    from harness.fastpath.request import endpoint_for
    from harness.fastpath.signing import SigV4Signer

    credentials = Credentials("AKID", "SECRET", None).get_frozen_credentials()
    body = b'{"TableName": "t"}'
    request = AWSRequest(method="POST", url="https://dynamodb.us-west-2.amazonaws.com/", data=body, headers={"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"})
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        SigV4Auth(credentials, "dynamodb", "us-west-2").add_auth(request)
    endpoint = endpoint_for("https://dynamodb.us-west-2.amazonaws.com")
    ours = SigV4Signer("us-west-2").authorization(credentials, endpoint.host, endpoint.canonical_path, "DynamoDB_20120810.Scan", "20260102T030405Z", body)
    assert ours == request.headers["Authorization"]


def test_signing_key_is_derived_once_per_day():
    from harness.fastpath.signing import SigV4Signer

    signer = SigV4Signer("us-east-1")
    with mock.patch("harness.fastpath.signing._hmac", wraps=__import__("harness.fastpath.signing", fromlist=["_hmac"])._hmac) as derive:
        first = signer.signing_key("secret", "20260102")
        assert signer.signing_key("secret", "20260102") is first
        assert derive.call_count == 4
        signer.signing_key("secret", "20260103")
        assert derive.call_count == 8


def test_dynamodb_input_model_transforms_only_blobs():
    """serialize.py's premise: in these operations' inputs botocore changes nothing but blob values."""
    model = botocore.session.get_session().get_service_model("dynamodb")
    transformed: set[str] = set()

    def walk(shape, seen):
        if shape.name in seen:
            return
        seen = seen | {shape.name}
        assert not shape.serialization.get("name"), shape.name
        if shape.type_name in ("timestamp", "float", "double", "blob") or getattr(shape, "is_document_type", False):
            transformed.add(f"{shape.type_name}:{shape.name}")
        if shape.type_name == "structure":
            for member in shape.members.values():
                assert "name" not in member.serialization
                walk(member, seen)
        elif shape.type_name == "map":
            walk(shape.value, seen)
        elif shape.type_name == "list":
            walk(shape.member, seen)

    for operation in FAST_OPERATIONS:
        walk(model.operation_model(operation).input_shape, frozenset())
        assert model.operation_model(operation).endpoint is None  # no host prefix
    assert transformed == {"blob:BinaryAttributeValue"}


def test_a_configured_proxy_keeps_the_client_on_boto3(monkeypatch):
    """botocore would send through the proxy; the fast path cannot, so make_client keeps boto3."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = make_client(Connection("us-east-1", "http://dynamodb.example:8000"), ClientSettings(kind="fast"))
    assert not isinstance(client, FastDynamoDBClient)
    monkeypatch.delenv("HTTP_PROXY")
    assert isinstance(make_client(Connection("us-east-1", "http://dynamodb.example:8000"), ClientSettings(kind="fast")), FastDynamoDBClient)
