"""Paginated reads: Query (table or index) and Scan (optionally parallel segments)."""

from __future__ import annotations

from functools import partial

from harness.ops.calls import KEY_CURSOR, new_result, read_pages, with_capacity
from harness.ops.concurrency import run_parallel
from harness.ops.result import OpResult
from harness.ops.scan import DEFAULT_PAGE_LIMIT


def query(client, request: dict, pages: int | None = None) -> OpResult:
    """Query `pages` pages (None: all) following LastEvaluatedKey; items and Count/ScannedCount summed in value.

    IndexName, Limit, ScanIndexForward, FilterExpression, ProjectionExpression, Select and
    ConsistentRead pass through. May raise ClientError ProvisionedThroughputExceededException,
    ThrottlingException, RequestLimitExceeded, ResourceNotFoundException, ValidationException (a bad
    key condition or expression) or InternalServerError.
    """
    return read_pages(client.query, with_capacity(request), pages, KEY_CURSOR)


def scan(client, request: dict, pages: int | None = None, segments: int | None = None) -> OpResult:
    """Scan `pages` pages (None: all); with `segments`, that many Segment/TotalSegments scans run at once,
    each reading up to `pages` pages, and every item comes from exactly one of them.

    Limit defaults to DEFAULT_PAGE_LIMIT (an unlimited page takes DynamoDB Local ~23 s on a large
    table). May raise ClientError ProvisionedThroughputExceededException, ThrottlingException,
    RequestLimitExceeded, ResourceNotFoundException, ValidationException or InternalServerError.
    """
    request = with_capacity({"Limit": DEFAULT_PAGE_LIMIT, **request})
    if not segments:
        return read_pages(client.scan, request, pages, KEY_CURSOR)
    scan_segment = partial(_scan_segment, client, request, pages, segments)
    result = new_result()
    for part in run_parallel(scan_segment, range(segments)):
        result.merge(part)
        result.value.add(part.value)
    return result


def _scan_segment(client, request: dict, pages: int | None, segments: int, segment: int) -> OpResult:
    """The pages of one segment of a parallel scan."""
    return read_pages(client.scan, {**request, "Segment": segment, "TotalSegments": segments}, pages, KEY_CURSOR)
