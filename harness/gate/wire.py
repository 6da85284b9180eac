"""DynamoDB's wire format where the gate writes it: throttling errors, and ConsumedCapacity in answers.

A throttled request gets what AWS sends: HTTP 400, `application/x-amz-json-1.0`, an
`x-amz-crc32` header (botocore checks it), and a body such as

    {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
     "message": "The level of configured provisioned throughput for the table was exceeded. ...",
     "ThrottlingReasons": [{"reason": "TableWriteProvisionedThroughputExceeded",
                            "resource": "arn:aws:dynamodb:...:table/tlog"}]}

ProvisionedThroughputExceeded and KeyRangeThroughputExceeded come as
ProvisionedThroughputExceededException; on-demand maximum and account limits as
ThrottlingException (whose API model spells the field `throttlingReasons`). Transactions are
cancelled instead (TransactionCanceledException, reason code ProvisionedThroughputExceeded or
ThrottlingError per item), as the TransactWriteItems reference describes.
"""

from __future__ import annotations

import json
import uuid
import zlib

from harness.gate.buckets import ACCOUNT_LIMIT_EXCEEDED, KEY_RANGE_EXCEEDED, MAX_ON_DEMAND_EXCEEDED, PROVISIONED_EXCEEDED, Throttle

CONTENT_TYPE = "application/x-amz-json-1.0"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
PROVISIONED_THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException"
THROTTLING_EXCEPTION = "ThrottlingException"
TRANSACTION_CANCELED = "TransactionCanceledException"
# Codes of a cancelled transaction item or a failed BatchExecuteStatement statement.
ITEM_PROVISIONED = "ProvisionedThroughputExceeded"
ITEM_THROTTLING = "ThrottlingError"

TABLE_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
INDEX_MESSAGE = (
    "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. "
    "Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API"
)
KEY_RANGE_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or "
    "index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
MAX_ON_DEMAND_MESSAGE = "Throughput exceeds the maximum OnDemandThroughput configured on table or index"
ACCOUNT_MESSAGE = "Throughput exceeds the current throughput limit for your account. Please contact AWS Support to request a limit increase"

# Per-table quotas: ThrottlingException; capacity and hot partitions: ProvisionedThroughputExceededException.
_QUOTA_LIMITS = {MAX_ON_DEMAND_EXCEEDED, ACCOUNT_LIMIT_EXCEEDED}


def message_for(throttles: list[Throttle]) -> str:
    """The message AWS gives for the most telling reason: a GSI's first (it explains a table write refused)."""
    first = sorted(throttles, key=lambda throttle: (not throttle.on_index, throttle.limit != PROVISIONED_EXCEEDED))[0]
    if first.limit == PROVISIONED_EXCEEDED:
        return INDEX_MESSAGE if first.on_index else TABLE_MESSAGE
    return {KEY_RANGE_EXCEEDED: KEY_RANGE_MESSAGE, MAX_ON_DEMAND_EXCEEDED: MAX_ON_DEMAND_MESSAGE}.get(first.limit, ACCOUNT_MESSAGE)


def exception_for(throttles: list[Throttle]) -> str:
    """ThrottlingException when only per-table quotas refused, else ProvisionedThroughputExceededException."""
    if all(throttle.limit in _QUOTA_LIMITS for throttle in throttles):
        return THROTTLING_EXCEPTION
    return PROVISIONED_THROUGHPUT_EXCEEDED


def item_code(throttles: list[Throttle]) -> str:
    """A cancelled transaction item's or failed batch statement's code for these reasons."""
    return ITEM_PROVISIONED if any(throttle.limit == PROVISIONED_EXCEEDED for throttle in throttles) else ITEM_THROTTLING


def reasons_json(throttles: list[Throttle]) -> list[dict]:
    """ThrottlingReasons as on the wire."""
    return [{"reason": throttle.reason, "resource": throttle.resource} for throttle in throttles]


def throttle_body(throttles: list[Throttle]) -> bytes:
    """The JSON body of a throttling error."""
    exception = exception_for(throttles)
    field = "throttlingReasons" if exception == THROTTLING_EXCEPTION else "ThrottlingReasons"
    body = {"__type": ERROR_PREFIX + exception, "message": message_for(throttles), field: reasons_json(throttles)}
    return json.dumps(body, separators=(",", ":")).encode()


def cancelled_body(per_item: list[list[Throttle]]) -> bytes:
    """TransactionCanceledException naming, item by item, which were throttled (the others: None)."""
    reasons = [{"Code": "None"} if not throttles else {"Code": item_code(throttles), "Message": message_for(throttles)} for throttles in per_item]
    codes = ", ".join(reason["Code"] for reason in reasons)
    body = {
        "__type": ERROR_PREFIX + TRANSACTION_CANCELED,
        "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        "CancellationReasons": reasons,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def statement_error(throttles: list[Throttle], table: str | None) -> dict:
    """A BatchExecuteStatement response entry for a throttled statement."""
    entry: dict = {"Error": {"Code": item_code(throttles), "Message": message_for(throttles)}}
    if table:
        entry["TableName"] = table
    return entry


def response_headers(body: bytes, request_id: str | None = None) -> list[tuple[str, str]]:
    """Headers of an answer the gate writes or rewrites: type, request id, CRC32 of the body, length."""
    return [
        ("x-amzn-RequestId", request_id or uuid.uuid4().hex.upper()),
        ("Content-Type", CONTENT_TYPE),
        ("x-amz-crc32", str(zlib.crc32(body))),
        ("Content-Length", str(len(body))),
    ]


# ---- ConsumedCapacity in answers ------------------------------------------------------------

_DECODER = json.JSONDecoder()
_CONSUMED = b'"ConsumedCapacity"'


def find_consumed(body: bytes) -> object:
    """The top-level ConsumedCapacity of an answer without parsing all of it (Items can be megabytes).

    Falls back to a full parse when the text found is not a ConsumedCapacity (an attribute
    of that name inside an item). None when there is none.
    """
    at = body.rfind(_CONSUMED)
    if at < 0:
        return None
    try:
        text = body[body.index(b":", at + len(_CONSUMED)) + 1 :].decode("utf-8").lstrip()
        value, _ = _DECODER.raw_decode(text)
    except (ValueError, UnicodeDecodeError):
        value = None
    if _looks_consumed(value):
        return value
    try:
        return json.loads(body).get("ConsumedCapacity")
    except (ValueError, AttributeError):
        return None


def _looks_consumed(value: object) -> bool:
    if isinstance(value, list):
        return all(isinstance(entry, dict) and "TableName" in entry for entry in value)
    return isinstance(value, dict) and ("CapacityUnits" in value or "TableName" in value)


def consumed_entries(consumed: object) -> list[dict]:
    """ConsumedCapacity as a list of per-table entries (single operations return one object)."""
    if isinstance(consumed, list):
        return consumed
    return [consumed] if isinstance(consumed, dict) else []


def shape_consumed(consumed: object, wanted: str) -> object:
    """What a client that asked ReturnConsumedCapacity=`wanted` sees of an INDEXES answer (None: nothing)."""
    if wanted == "INDEXES":
        return consumed
    if wanted != "TOTAL":
        return None
    keep = ("TableName", "CapacityUnits", "ReadCapacityUnits", "WriteCapacityUnits")
    shaped = [{name: entry[name] for name in keep if name in entry} for entry in consumed_entries(consumed)]
    return shaped if isinstance(consumed, list) else (shaped[0] if shaped else None)
