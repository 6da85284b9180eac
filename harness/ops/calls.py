"""What every per-operation function does around its DynamoDB call: ask for capacity, read pages."""

from __future__ import annotations

from typing import Callable

from harness.ops.result import OpResult, Returned

# The response field naming where the next page starts, and the request field that takes it.
KEY_CURSOR = ("LastEvaluatedKey", "ExclusiveStartKey")  # Query, Scan
TOKEN_CURSOR = ("NextToken", "NextToken")  # ExecuteStatement


def with_capacity(request: dict) -> dict:
    """`request` asking for ConsumedCapacity per table and index, unless it already says what it wants.

    INDEXES because the harness's capacity metrics split table from GSI consumption.
    """
    return {"ReturnConsumedCapacity": "INDEXES", **request}


def new_result() -> OpResult:
    """An OpResult whose value is an empty Returned."""
    return OpResult(value=Returned())


def read_pages(send: Callable[..., dict], request: dict, pages: int | None, cursor: tuple[str, str]) -> OpResult:
    """send(**request) page after page until the last page, or until `pages` pages (None: all of them)."""
    result = new_result()
    next_field, start_field = cursor
    page_request = request
    while pages is None or result.value.pages < pages:
        page = result.absorb(send(**page_request))
        add_page(result.value, page)
        start = page.get(next_field)
        if not start:
            break
        page_request = {**request, start_field: start}
    return result


def add_page(returned: Returned, page: dict) -> None:
    """One page's items and counts; ExecuteStatement pages carry no Count, so their items are counted."""
    items = page.get("Items", [])
    returned.items.extend(items)
    returned.pages += 1
    returned.count += page.get("Count", len(items))
    returned.scanned_count += page.get("ScannedCount", 0)
