"""What an open-model run counts beside the service time: latency from the intended start, and how late starts were.

At a target rate every task execution has an intended start time. A request's *corrected* latency
is its service time plus how late its task started (the time it would have waited in a queue had
requests been sent on schedule): coordinated omission corrected, as YCSB's "intended" latency and
wrk2 do. Late starts are counted per second with the worst lag; scheduled starts still waiting when
the run ended are counted too, so nothing scheduled disappears silently.
"""

from __future__ import annotations

from harness.metrics.latency import LatencyHistograms, new_histogram, summary_of, to_microseconds
from harness.metrics.per_second import PerSecondSums

LATE_AFTER_MS = 10.0
"""A task that starts more than this after its intended time is a late start (gevent's timers keep well inside it)."""


class OpenModelTally:
    """Everything one process counted for the open model since it last reported; merges by addition (lags by max)."""

    def __init__(self) -> None:
        self.corrected = LatencyHistograms()
        """Latency from the intended start, per (request_type, name)."""
        self.start_lag = new_histogram()
        """How late each scheduled start was (microseconds), on time included."""
        self.per_second = PerSecondSums(key_width=1, typecode="q")
        """(second,) -> intended starts, starts, late starts: 24 bytes a second, so hours of a target rate stay small."""
        self.worst_lag_ms: dict[int, float] = {}
        """second -> the largest start lag of a task started in that second."""
        self.unstarted = 0
        """Scheduled starts that were due but still waiting for a free user when the run ended."""
        self.unstarted_worst_lag_ms = 0.0

    def to_wire(self) -> dict:
        """Plain lists and strings for Locust's worker report (msgpack)."""
        return {
            "corrected": self.corrected.encoded_rows(),
            "start_lag": self.start_lag.encode().decode("ascii") if self.start_lag.get_total_count() else "",
            "per_second": self.per_second.rows(),
            "worst_lag": [[second, lag] for second, lag in sorted(self.worst_lag_ms.items())],
            "unstarted": [self.unstarted, self.unstarted_worst_lag_ms],
        }

    def add_wire(self, wire: dict) -> None:
        """Add another process's `to_wire()` output."""
        self.corrected.add_encoded_rows(wire.get("corrected", []))
        if wire.get("start_lag"):
            self.start_lag.decode_and_add(wire["start_lag"])
        self.per_second.add_rows(wire.get("per_second", []))
        for second, lag in wire.get("worst_lag", []):
            self.note_lag(int(second), float(lag))
        unstarted, worst = wire.get("unstarted", [0, 0.0])
        self.unstarted += int(unstarted)
        self.unstarted_worst_lag_ms = max(self.unstarted_worst_lag_ms, float(worst))

    def note_lag(self, second: int, lag_ms: float) -> None:
        """Keep the worst start lag of `second`."""
        if lag_ms > self.worst_lag_ms.get(second, -1.0):
            self.worst_lag_ms[second] = lag_ms

    def schedule_rows(self) -> list[list]:
        """harness_schedule.csv rows: timestamp, intended starts, starts, late starts, worst lag (ms)."""
        return [[second, intended, started, late, round(self.worst_lag_ms.get(second, 0.0), 3)] for (second, intended, started, late) in self.per_second.rows()]

    def totals(self) -> dict:
        """The run's open-model numbers for harness_open_model.json (start lag percentiles in ms)."""
        rows = self.per_second.rows()
        count, _min, mean, p50, p90, _p95, p99, p99_9, largest = summary_of(self.start_lag)
        return {
            "late_after_ms": LATE_AFTER_MS,
            "intended_starts": sum(row[1] for row in rows),
            "starts": sum(row[2] for row in rows),
            "late_starts": sum(row[3] for row in rows),
            "worst_lag_ms": round(max(self.worst_lag_ms.values(), default=0.0), 3),
            "unstarted_at_end": self.unstarted,
            "unstarted_worst_lag_ms": round(self.unstarted_worst_lag_ms, 3),
            "start_lag_ms": {"count": count, "mean": mean, "p50": p50, "p90": p90, "p99": p99, "p99_9": p99_9, "max": largest},
        }

    def __bool__(self) -> bool:
        return bool(self.corrected or self.per_second or self.unstarted or self.start_lag.get_total_count())


class OpenModelRecorder:
    """Counts scheduled starts (from the arrival dispatcher and the users) and corrected latencies (from request events)."""

    def __init__(self) -> None:
        self.tally = OpenModelTally()

    def on_request(self, request_type: str, name: str, response_time: float, context=None, **_) -> None:
        """Locust request event listener: a request of a scheduled task gets service time + start lag."""
        lag = (context or {}).get("start_lag_ms")
        if lag is not None:
            self.tally.corrected.record((request_type, name), response_time + lag)

    def intended(self, second: int) -> None:
        """One scheduled start fell due in UNIX second `second`."""
        self.tally.per_second.add((second,), 1, 0, 0)

    def started(self, second: int, lag_ms: float) -> None:
        """A user started a scheduled task in `second`, `lag_ms` after its intended time."""
        late = lag_ms > LATE_AFTER_MS
        self.tally.per_second.add((second,), 0, 1, int(late))
        self.tally.start_lag.record_value(to_microseconds(lag_ms))
        self.tally.note_lag(second, lag_ms)

    def unstarted(self, count: int, worst_lag_ms: float) -> None:
        """`count` scheduled starts were still waiting when the run stopped, the oldest `worst_lag_ms` overdue."""
        self.tally.unstarted += count
        self.tally.unstarted_worst_lag_ms = max(self.tally.unstarted_worst_lag_ms, worst_lag_ms)

    def take(self) -> OpenModelTally:
        """What was counted since the last take; counting continues in a fresh tally."""
        taken, self.tally = self.tally, OpenModelTally()
        return taken

    def clear(self, **_) -> None:
        """Forget everything (a new test starts, or Locust's stats are reset)."""
        self.tally = OpenModelTally()
