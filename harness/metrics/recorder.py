"""A process's recorder: every HTTP attempt and every Locust request event, counted into a Tally."""

from __future__ import annotations

import time
from typing import Callable, Iterable

from harness.errors import THROTTLED, ThrottledError
from harness.metrics.capacity import capacity_parts
from harness.metrics.tally import Tally
from harness.metrics.targets import target_of
from harness.metrics.throttling import error_code_of, is_throttle, throttle_reason


class Recorder:
    """Counts attempts (from the client's attempt listener) and requests (from Locust's request event).

    `take()` hands over what was counted and starts afresh (workers send deltas); `add_wire()`
    merges another process's deltas (the master). Calls never yield to gevent, so a swap is atomic.
    """

    def __init__(self, clock=time.time, estimate: Callable[[str, dict, dict], Iterable[tuple[str, str, float, float]]] | None = None):
        self.tally = Tally()
        self._clock = clock
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
            self._add_estimate(second, operation, body, parsed)
            return
        for part_table, part_index, read_units, write_units in capacity_parts(operation, body, consumed):
            self.tally.capacity.add((second, part_table, part_index), read_units, write_units)

    def _add_estimate(self, second: int, operation: str, body: dict, parsed: dict) -> None:
        """Units the target did not report (PartiQL on DynamoDB Local): counted, and noted as estimated."""
        for table, index, read_units, write_units in self._estimate(operation, body, parsed):
            self.tally.capacity.add((second, table, index), read_units, write_units)
            self.tally.estimated.add((table, index), read_units, write_units)

    def on_request(self, request_type: str, name: str, response_time: float, exception=None, context=None, **_) -> None:
        """Locust request event listener: latency into the histogram, outcome and retries into the sums."""
        self.tally.latency.record((request_type, name), response_time)
        context = context or {}
        throttled = isinstance(exception, ThrottledError) or context.get("outcome") == THROTTLED
        failed = exception is not None and not throttled
        retries = int(context.get("retry_attempts") or 0)
        self.tally.requests.add((request_type, name), 1, int(failed), int(throttled), retries)

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
