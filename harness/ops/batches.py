"""BatchGetItem and BatchWriteItem, re-sending what DynamoDB leaves unprocessed."""

from __future__ import annotations

import time
from typing import Callable

from harness.ops.calls import new_result, with_capacity
from harness.ops.result import OpResult, Returned

RESENDS = 5
"""Re-sends of unprocessed keys or writes after the first request (AWS's SDK guidance: retry with backoff)."""
FIRST_WAIT_S = 0.05
"""Wait before the first re-send, doubled before each next one: 50, 100, 200, 400, 800 ms."""


def batch_get_item(client, request: dict, resends: int = RESENDS, first_wait: float = FIRST_WAIT_S) -> OpResult:
    """BatchGetItem, re-sending UnprocessedKeys; value.items flattens every table's Responses, value.unprocessed
    counts the keys still unprocessed after `resends` re-sends. Each re-send is a call in the result.

    May raise ClientError ProvisionedThroughputExceededException (no key could be read),
    ThrottlingException, RequestLimitExceeded, ResourceNotFoundException, ValidationException (over 100
    keys, a key twice) or InternalServerError.
    """
    result = new_result()
    left = _send_until_processed(result, client.batch_get_item, with_capacity(request), "UnprocessedKeys", _add_responses, resends, first_wait)
    result.value.unprocessed = sum(len(entry["Keys"]) for entry in left.values())
    result.value.count = len(result.value.items)
    return result


def batch_write_item(client, request: dict, resends: int = RESENDS, first_wait: float = FIRST_WAIT_S) -> OpResult:
    """BatchWriteItem (PutRequest/DeleteRequest), re-sending UnprocessedItems; value.unprocessed counts the write
    requests still unprocessed after `resends` re-sends. Each re-send is a call in the result.

    May raise ClientError ProvisionedThroughputExceededException (no write could be done),
    ThrottlingException, ItemCollectionSizeLimitExceededException, RequestLimitExceeded,
    ResourceNotFoundException, ValidationException (over 25 writes, a key twice) or InternalServerError.
    """
    result = new_result()
    left = _send_until_processed(result, client.batch_write_item, with_capacity(request), "UnprocessedItems", _ignore, resends, first_wait)
    result.value.unprocessed = sum(len(writes) for writes in left.values())
    return result


def _send_until_processed(
    result: OpResult,
    send: Callable[..., dict],
    request: dict,
    leftover_field: str,
    on_response: Callable[[Returned, dict], None],
    resends: int,
    first_wait: float,
) -> dict:
    """Send, then re-send what the answer left in `leftover_field` with exponential backoff; returns what is still left."""
    left, pending = {}, request
    for resend in range(resends + 1):
        if resend:
            time.sleep(first_wait * 2 ** (resend - 1))  # unprocessed means throttled or too large: give capacity time
        response = result.absorb(send(**pending))
        on_response(result.value, response)
        left = response.get(leftover_field) or {}
        if not left:
            break
        pending = {**request, "RequestItems": left}
    return left


def _add_responses(returned: Returned, response: dict) -> None:
    for items in response.get("Responses", {}).values():
        returned.items.extend(items)


def _ignore(returned: Returned, response: dict) -> None:
    """BatchWriteItem answers nothing but what is unprocessed."""
