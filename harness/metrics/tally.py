"""Everything one process has counted since it last reported: mergeable, and shipped as plain rows.

The rows have the columns of the harness_* CSV files (harness.metrics.results_files), so the wire format,
the merge and the files are one shape.
"""

from __future__ import annotations

from harness.metrics.keys import KeyTally
from harness.metrics.latency import LatencyHistograms
from harness.metrics.per_second import PerSecondSums
from harness.metrics.sums import Spans, Sums


class Tally:
    """Latency histograms, five sums (attempts, requests, throttles and capacity per second, estimated capacity), what reads read, and per-key tallies."""

    def __init__(self):
        self.latency = LatencyHistograms()
        """Response times per (request_type, name)."""
        self.attempts = Sums(key_width=3)
        """(operation, table, index) -> attempts, throttled attempts, other error attempts."""
        self.requests = Sums(key_width=2)
        """(request_type, name) -> requests, non-throttle failures, throttled requests, SDK retries."""
        self.throttles = PerSecondSums(key_width=5, typecode="q")
        """(second, operation, table, index, reason) -> throttled attempts."""
        self.capacity = PerSecondSums(key_width=3)
        """(second, table, index) -> read units, write units (estimated ones included)."""
        self.estimated = Sums(key_width=2)
        """(table, index) -> read units, write units the target did not report, estimated (included in capacity)."""
        self.reads = Sums(key_width=2)
        """(request_type, name) -> requests that read pages with a ScannedCount, items returned (Count), items read (ScannedCount)."""
        self.aggregates = Spans(key_width=2)
        """(request_type, name) -> how many requests computed an aggregate (a scan's sum, a sharded count), its min and max."""
        self.keys = KeyTally()
        """(table, index, partition key) -> attempts, read units, write units, throttled attempts; throttles per reason."""

    def to_wire(self) -> dict:
        """Plain lists and strings for Locust's worker report (msgpack)."""
        return {
            "latency": self.latency.wire_rows(),
            "attempts": self.attempts.rows(),
            "requests": self.requests.rows(),
            "throttles": self.throttles.rows(),
            "capacity": self.capacity.rows(),
            "estimated": self.estimated.rows(),
            "reads": self.reads.rows(),
            "aggregates": self.aggregates.rows(),
            "keys": self.keys.rows(),
            "key_reasons": self.keys.reason_rows(),
        }

    def add_wire(self, wire: dict) -> None:
        """Add another process's `to_wire()` output."""
        self.latency.add_encoded_rows(wire.get("latency", []))
        self.attempts.add_rows(wire.get("attempts", []))
        self.requests.add_rows(wire.get("requests", []))
        self.throttles.add_rows(wire.get("throttles", []))
        self.capacity.add_rows(wire.get("capacity", []))
        self.estimated.add_rows(wire.get("estimated", []))
        self.reads.add_rows(wire.get("reads", []))
        self.aggregates.add_rows(wire.get("aggregates", []))
        self.keys.add_rows(wire.get("keys", []), wire.get("key_reasons", []))

    def __bool__(self) -> bool:
        return any((self.latency, self.attempts, self.requests, self.throttles, self.capacity, self.estimated, self.reads, self.aggregates, self.keys))
