"""A process's recorder: every HTTP attempt and every Locust request event, counted into a Tally."""

from __future__ import annotations

import time
from typing import Callable, Iterable

from harness.errors import THROTTLED, ThrottledError
from harness.metrics.capacity import capacity_parts
from harness.metrics.keys import Schemas, touched_keys
from harness.metrics.tally import Tally
from harness.metrics.targets import target_of
from harness.metrics.throttling import error_code_of, is_throttle, throttle_reason


class Recorder:
    """Counts attempts (from the client's attempt listener) and requests (from Locust's request event).

    `take()` hands over what was counted and starts afresh (workers send deltas); `add_wire()`
    merges another process's deltas (the master). Calls never yield to gevent, so a swap is atomic.
    """

    def __init__(
        self,
        clock=time.time,
        schemas: Schemas | None = None,
        estimate: Callable[[str, dict, dict], Iterable[tuple[str, str, float, float]]] | None = None,
    ):
        self.tally = Tally()
        self._clock = clock
        self._schemas = schemas or {}
        """Partition key attributes per table and index (metrics.keys.key_schemas): what the per-key tallies read."""
        self._estimate = estimate
        """(operation, request, answer) -> (table, index, read units, write units) for answers that report no ConsumedCapacity."""

    def on_attempt(self, operation: str, body: dict, parsed: dict, http_status: int | None) -> None:
        """Attempt listener (harness.fastpath.attempts): one HTTP attempt, SDK retries included."""
        body, parsed = body or {}, parsed or {}
        table, index = target_of(body)
        code = error_code_of(parsed)
        throttled = is_throttle(code, parsed)
        failed = not throttled and (code is not None or (http_status or 0) >= 400)
        self.tally.attempts.add((operation, table, index), 1, int(throttled), int(failed))
        second = int(self._clock())
        if throttled:
            self.tally.throttles.add((second, operation, table, index, throttle_reason(parsed, code)), 1)
        consumed = parsed.get("ConsumedCapacity")
        if consumed is None and self._estimate is not None and not (throttled or failed):
            parts = list(self._estimate(operation, body, parsed))
            for part_table, part_index, read_units, write_units in parts:
                self.tally.estimated.add((part_table, part_index), read_units, write_units)
        else:
            parts = list(capacity_parts(operation, body, consumed))
        for part_table, part_index, read_units, write_units in parts:
            self.tally.capacity.add((second, part_table, part_index), read_units, write_units)
        if self._schemas:
            self._count_keys(operation, body, parts, int(throttled), throttle_reason(parsed, code) if throttled else "")

    def _count_keys(self, operation: str, body: dict, parts: list, throttled: int, reason: str) -> None:
        """One attempt on each partition key it touched; a table's or index's units shared evenly by its keys."""
        touched = touched_keys(operation, body, self._schemas)
        if not touched:
            return
        keys = self.tally.keys
        if len(touched) == 1:  # the common case: one key, the units of its table or index
            ((table, index, key),) = touched
            read_units = write_units = 0.0
            for part_table, part_index, part_read, part_write in parts:
                if part_table == table and part_index == index:
                    read_units, write_units = part_read, part_write
            keys.add(table, index, key, 1, read_units, write_units, throttled)
            if throttled:
                keys.add_reason(table, index, key, reason, throttled)
            return
        per_target: dict[tuple[str, str], int] = {}
        for table, index, _ in touched:
            per_target[(table, index)] = per_target.get((table, index), 0) + 1
        units = {(table, index): (read_units, write_units) for table, index, read_units, write_units in parts}
        for table, index, key in touched:
            share = per_target[(table, index)]
            read_units, write_units = units.get((table, index), (0.0, 0.0))
            keys.add(table, index, key, 1, read_units / share, write_units / share, throttled)
            if throttled:
                keys.add_reason(table, index, key, reason, throttled)

    def on_request(self, request_type: str, name: str, response_time: float, exception=None, context=None, response=None, **_) -> None:
        """Locust request event listener: latency into the histogram, outcome and retries into the sums, what reads read."""
        self.tally.latency.record((request_type, name), response_time)
        context = context or {}
        throttled = isinstance(exception, ThrottledError) or context.get("outcome") == THROTTLED
        failed = exception is not None and not throttled
        retries = int(context.get("retry_attempts") or 0)
        self.tally.requests.add((request_type, name), 1, int(failed), int(throttled), retries)
        if response is not None and exception is None:
            self._count_reads((request_type, name), response)

    def _count_reads(self, key: tuple[str, str], result) -> None:
        """Items returned and read by a Query/Scan step, and the aggregate it computed (an OpResult's fields)."""
        if getattr(result, "read_pages", 0):
            self.tally.reads.add(key, 1, result.items_returned, result.items_read)
        aggregate = getattr(result, "aggregate", None)
        if aggregate is not None:
            self.tally.aggregates.add(key, aggregate)

    def take(self) -> Tally:
        """What was counted since the last take; counting continues in a fresh tally."""
        taken, self.tally = self.tally, Tally()
        return taken

    def add_wire(self, wire: dict) -> None:
        """Merge a worker's delta (Tally.to_wire)."""
        self.tally.add_wire(wire)

    def clear(self, **_) -> None:
        """Forget everything (a new test starts, or Locust's stats are reset)."""
        self.tally = Tally()
