"""What an access pattern returns: its value plus what the DynamoDB responses said about the cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OpResult:
    """The value of an access pattern and the metadata of every DynamoDB response it took.

    `calls` counts DynamoDB requests (pages included), `retry_attempts` the SDK's retries within
    them, `response_bytes` the HTTP bodies received, `consumed` each response's ConsumedCapacity.
    Query and Scan pages add to `read_pages`, `items_returned` (Count) and `items_read`
    (ScannedCount); `aggregate` is a number the pattern computed (a scan's sum, a sharded count).
    """

    value: Any = None
    calls: int = 0
    retry_attempts: int = 0
    response_bytes: int = 0
    consumed: list[dict] = field(default_factory=list)
    elapsed_ms: float = 0.0
    """Set by the caller that timed the pattern (users._call); ops leave it alone."""
    read_pages: int = 0
    items_returned: int = 0
    items_read: int = 0
    aggregate: float | None = None

    def absorb(self, response: dict) -> dict:
        """Add one boto3 response's metadata; returns the response for chaining."""
        metadata = response.get("ResponseMetadata", {})
        self.calls += 1
        self.retry_attempts += metadata.get("RetryAttempts", 0)
        self.response_bytes += int(metadata.get("HTTPHeaders", {}).get("content-length", 0) or 0)
        if "ScannedCount" in response:
            self.read_pages += 1
            self.items_returned += response.get("Count", 0)
            self.items_read += response["ScannedCount"]
        capacity = response.get("ConsumedCapacity")
        if capacity:
            self.consumed.extend(capacity if isinstance(capacity, list) else [capacity])
        return response

    def merge(self, other: OpResult) -> None:
        """Fold another result's metadata into this one (for fan-out patterns)."""
        self.calls += other.calls
        self.retry_attempts += other.retry_attempts
        self.response_bytes += other.response_bytes
        self.consumed.extend(other.consumed)
        self.read_pages += other.read_pages
        self.items_returned += other.items_returned
        self.items_read += other.items_read

    @property
    def capacity_units(self) -> float:
        """Total capacity units consumed, table and indexes together."""
        return sum(entry.get("CapacityUnits", 0.0) for entry in self.consumed)


@dataclass
class Returned:
    """What DynamoDB answered to one operation (harness.ops.items, reads, batches, transactions, statements), in wire format.

    `items`: GetItem's Item, Query/Scan/ExecuteStatement pages' Items, BatchGetItem's Responses
    flattened, TransactGetItems' found items; `count` how many items matched (Query/Scan: the sum of
    Count, also with Select=COUNT); `scanned_count` items read before the filter (Query/Scan);
    `pages` responses read by a paginated operation; `attributes` the ReturnValues of
    Put/Update/DeleteItem; `unprocessed` keys or write requests BatchGet/BatchWriteItem left
    unprocessed after the re-sends; `statement_errors` BatchExecuteStatement's per-statement
    errors counted by code.
    """

    items: list[dict] = field(default_factory=list)
    count: int = 0
    scanned_count: int = 0
    pages: int = 0
    attributes: dict | None = None
    unprocessed: int = 0
    statement_errors: dict[str, int] = field(default_factory=dict)

    def add(self, other: Returned) -> None:
        """Fold another answer of the same operation in (a parallel scan's segments)."""
        self.items.extend(other.items)
        self.count += other.count
        self.scanned_count += other.scanned_count
        self.pages += other.pages
        self.unprocessed += other.unprocessed
        for code, number in other.statement_errors.items():
            self.statement_errors[code] = self.statement_errors.get(code, 0) + number
