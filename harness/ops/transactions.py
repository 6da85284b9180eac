"""Transactions: TransactGetItems and TransactWriteItems, all elements as given."""

from __future__ import annotations

from harness.ops.calls import new_result, with_capacity
from harness.ops.result import OpResult


def transact_get_items(client, request: dict) -> OpResult:
    """TransactGetItems (up to 100 Get elements read at one point in time); value.items holds the items found,
    in request order (a missing item leaves no entry).

    May raise ClientError TransactionCanceledException (reasons such as TransactionConflict or
    ProvisionedThroughputExceeded; harness.errors.classify tells them apart),
    ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded,
    ResourceNotFoundException, ValidationException or InternalServerError.
    """
    result = new_result()
    response = result.absorb(client.transact_get_items(**with_capacity(request)))
    result.value.items = [answer["Item"] for answer in response.get("Responses", []) if "Item" in answer]
    result.value.count = len(result.value.items)
    return result


def transact_write_items(client, request: dict) -> OpResult:
    """TransactWriteItems: ConditionCheck, Put, Update and Delete elements all succeed or none does.

    A ClientRequestToken, if given, makes a repeated request within 10 minutes a no-op. May raise
    ClientError TransactionCanceledException (reasons ConditionalCheckFailed, TransactionConflict,
    ProvisionedThroughputExceeded, ...; see harness.errors.classify), TransactionInProgressException
    (the same token still running), IdempotentParameterMismatchException (the same token, another
    request), ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded,
    ResourceNotFoundException, ValidationException or InternalServerError.
    """
    result = new_result()
    result.absorb(client.transact_write_items(**with_capacity(request)))
    return result
