"""PartiQL: ExecuteStatement page by page, BatchExecuteStatement with per-statement errors counted."""

from __future__ import annotations

from harness.ops.calls import TOKEN_CURSOR, new_result, read_pages, with_capacity
from harness.ops.result import OpResult, Returned


def execute_statement(client, request: dict, pages: int | None = None) -> OpResult:
    """ExecuteStatement (Statement with `?` filled from Parameters) for `pages` pages (None: all) via NextToken.

    May raise ClientError ConditionalCheckFailedException, DuplicateItemException (INSERT of an
    existing key; DynamoDB Local answers DuplicateItem), TransactionConflictException,
    ItemCollectionSizeLimitExceededException, ProvisionedThroughputExceededException,
    ThrottlingException, RequestLimitExceeded, ResourceNotFoundException, ValidationException or
    InternalServerError.
    """
    return read_pages(client.execute_statement, with_capacity(request), pages, TOKEN_CURSOR)


def batch_execute_statement(client, request: dict) -> OpResult:
    """BatchExecuteStatement (up to 25 statements, each its own success or failure); SELECTed items in value.items,
    failed statements counted by error code in value.statement_errors, never raised.

    The request itself may raise ClientError ThrottlingException, RequestLimitExceeded,
    ValidationException or InternalServerError.
    """
    result = new_result()
    response = result.absorb(client.batch_execute_statement(**with_capacity(request)))
    for answer in response.get("Responses", []):
        _add_answer(result.value, answer)
    result.value.count = len(result.value.items)
    return result


def _add_answer(returned: Returned, answer: dict) -> None:
    """One statement's answer: an Error, an Item, or nothing (a write that succeeded)."""
    if "Error" in answer:
        code = answer["Error"].get("Code", "Unknown")
        returned.statement_errors[code] = returned.statement_errors.get(code, 0) + 1
    elif "Item" in answer:
        returned.items.append(answer["Item"])
