"""Single-item operations: GetItem, PutItem, UpdateItem, DeleteItem, each one request in wire format."""

from __future__ import annotations

from typing import Callable

from harness.ops.calls import new_result, with_capacity
from harness.ops.result import OpResult


def get_item(client, request: dict) -> OpResult:
    """GetItem (Key, ProjectionExpression, ConsistentRead as given); the item, if found, is value.items[0].

    May raise ClientError ProvisionedThroughputExceededException, ThrottlingException,
    RequestLimitExceeded, ResourceNotFoundException, ValidationException or InternalServerError.
    """
    result = new_result()
    response = result.absorb(client.get_item(**with_capacity(request)))
    if "Item" in response:
        result.value.items.append(response["Item"])
        result.value.count = 1
    return result


def put_item(client, request: dict) -> OpResult:
    """PutItem (Item, ConditionExpression, ReturnValues as given); value.attributes holds ReturnValues' answer.

    May raise ClientError ConditionalCheckFailedException, TransactionConflictException (the item is
    in a running transaction), ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded,
    ResourceNotFoundException, ValidationException or InternalServerError.
    """
    return _write(client.put_item, request)


def update_item(client, request: dict) -> OpResult:
    """UpdateItem (Key, UpdateExpression, ConditionExpression, ReturnValues as given); value.attributes as for put_item.

    May raise ClientError ConditionalCheckFailedException, TransactionConflictException,
    ItemCollectionSizeLimitExceededException, ProvisionedThroughputExceededException,
    ThrottlingException, RequestLimitExceeded, ResourceNotFoundException, ValidationException or
    InternalServerError.
    """
    return _write(client.update_item, request)


def delete_item(client, request: dict) -> OpResult:
    """DeleteItem (Key, ConditionExpression, ReturnValues as given); value.attributes as for put_item.

    May raise ClientError ConditionalCheckFailedException, TransactionConflictException,
    ItemCollectionSizeLimitExceededException, ProvisionedThroughputExceededException,
    ThrottlingException, RequestLimitExceeded, ResourceNotFoundException, ValidationException or
    InternalServerError.
    """
    return _write(client.delete_item, request)


def _write(send: Callable[..., dict], request: dict) -> OpResult:
    """One write; Attributes is only in the answer when ReturnValues asked for it."""
    result = new_result()
    response = result.absorb(send(**with_capacity(request)))
    result.value.attributes = response.get("Attributes")
    return result
