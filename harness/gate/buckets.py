"""DynamoDB's capacity rules as token buckets with an injected clock: what the capacity gate enforces.

Deterministic and free of I/O: the proxy feeds it demands before forwarding a request and the
capacity DynamoDB Local reports after it; tests drive it with a fake clock.

The rules (DynamoDB developer guide, "Read/write capacity mode", "Burst and adaptive capacity",
"Partitions", "Initial throughput for on-demand capacity mode"):

- Provisioned table or GSI: a bucket per read and write, refilled at the provisioned units per
  second, holding up to `burst_seconds` (300) seconds of unused capacity; a new table starts full.
- Every partition key value of a table or GSI: at most 3,000 read / 1,000 write units per second,
  no burst (a hot key throttles even when the table has capacity to spare).
- On-demand table or GSI: up to double its previous peak per second, the peak of a new table
  being 2,000 write / 6,000 read units (so 4,000 writes/s and 12,000 reads/s at first); a new
  peak only counts once it is `ramp_seconds` (30 minutes) old. Also the per-table account quota
  (40,000 units/s) and a table's own MaxRead/WriteRequestUnits when set.

DynamoDB charges after the fact: a request is refused only when a bucket it needs is already
empty, and its cost may take the bucket below zero, which then refuses requests until refilled.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

READ, WRITE = "Read", "Write"
TABLE, INDEX = "Table", "Index"

# The LimitType part of a ThrottlingReason (ResourceType + OperationType + LimitType).
PROVISIONED_EXCEEDED = "ProvisionedThroughputExceeded"
KEY_RANGE_EXCEEDED = "KeyRangeThroughputExceeded"
ACCOUNT_LIMIT_EXCEEDED = "AccountLimitExceeded"
MAX_ON_DEMAND_EXCEEDED = "MaxOnDemandThroughputExceeded"

BURST_SECONDS = 300.0
PARTITION_UNITS = {READ: 3000.0, WRITE: 1000.0}
ON_DEMAND_INITIAL_PEAK = {READ: 6000.0, WRITE: 2000.0}
ON_DEMAND_RAMP_SECONDS = 1800.0
ACCOUNT_TABLE_UNITS = 40_000.0
# Idle partition-key buckets are dropped once there are more than this many (a full bucket is a new one),
# and at most a minute apart: on a long run the gate then holds the keys of its last minute, not of the whole run.
KEY_BUCKETS_BEFORE_SWEEP = 50_000
KEY_SWEEP_SECONDS = 60.0

Clock = Callable[[], float]


@dataclass(frozen=True)
class Throttle:
    """One ThrottlingReason: e.g. IndexWriteProvisionedThroughputExceeded and the index's ARN."""

    reason: str
    resource: str

    @property
    def limit(self) -> str:
        """The LimitType part of the reason."""
        for limit in (PROVISIONED_EXCEEDED, KEY_RANGE_EXCEEDED, ACCOUNT_LIMIT_EXCEEDED, MAX_ON_DEMAND_EXCEEDED):
            if self.reason.endswith(limit):
                return limit
        return ""

    @property
    def on_index(self) -> bool:
        """True when an index, not the table itself, is out of capacity."""
        return self.reason.startswith(INDEX)


@dataclass(frozen=True)
class Limits:
    """The capacity of one table or GSI: provisioned units, or None for on-demand (with optional maxima)."""

    name: str
    arn: str
    read: float | None = None
    write: float | None = None
    max_read: float | None = None
    max_write: float | None = None

    @property
    def on_demand(self) -> bool:
        """True for PAY_PER_REQUEST."""
        return self.read is None

    def provisioned(self, op: str) -> float | None:
        """Provisioned units per second for READ or WRITE (None when on-demand)."""
        return self.read if op == READ else self.write

    def maximum(self, op: str) -> float | None:
        """The on-demand MaxRead/WriteRequestUnits, or None."""
        return self.max_read if op == READ else self.max_write


@dataclass(frozen=True)
class TableLimits:
    """A table's own limits and those of its GSIs (LSIs share the table's)."""

    table: Limits
    indexes: tuple[Limits, ...] = ()


@dataclass(frozen=True)
class Demand:
    """What a request (or one item of a batch) needs from one table or GSI.

    `units` is what it is expected to cost, reserved when admitted (the real cost is charged
    later); `key` the partition key value it touches, for the per-partition limit, or None.
    """

    table: str
    index: str | None
    op: str
    units: float = 0.0
    key: str | None = None


class TokenBucket:
    """Tokens refilled at `rate` per second up to `capacity`; may go negative (charge after the fact)."""

    __slots__ = ("rate", "capacity", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float, tokens: float | None = None):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity if tokens is None else tokens
        self.updated = now

    def level(self, now: float) -> float:
        """Tokens available at `now`, after refilling."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        return self.tokens

    def take(self, units: float, now: float) -> None:
        """Charge `units` (negative: refund), never above capacity."""
        self.tokens = min(self.capacity, self.level(now) - units)

    def resize(self, rate: float, capacity: float, now: float) -> None:
        """New rate and capacity; what is in the bucket stays, clipped to the new capacity."""
        self.level(now)
        self.rate, self.capacity = rate, capacity
        self.tokens = min(self.tokens, capacity)


class PeakTracker:
    """An on-demand resource's previous peak: the busiest whole second, counted once `ramp_seconds` old."""

    def __init__(self, initial_peak: float, ramp_seconds: float):
        self.initial_peak = initial_peak
        self.ramp_seconds = ramp_seconds
        self.second = -math.inf
        self.this_second = 0.0
        self.records: list[tuple[float, float]] = []  # (end of second, units): increasing in both

    def record(self, units: float, now: float) -> None:
        """Add consumed units to the current second."""
        second = math.floor(now)
        if second != self.second:
            self._close_second()
            self.second, self.this_second = second, 0.0
        self.this_second += units

    def _close_second(self) -> None:
        best = self.records[-1][1] if self.records else self.initial_peak
        if self.this_second > best:
            self.records.append((self.second + 1, self.this_second))

    def peak(self, now: float) -> float:
        """The previous peak that counts at `now`."""
        if math.floor(now) != self.second:
            self.record(0.0, now)
        matured = [units for end, units in self.records if end <= now - self.ramp_seconds]
        if len(matured) > 1:
            self.records = self.records[len(matured) - 1 :]
        return matured[-1] if matured else self.initial_peak


class Meter:
    """The table- or index-level limit of one resource and operation: provisioned or on-demand."""

    def __init__(self, limits: Limits, op: str, now: float, model: CapacityModel):
        self.op = op
        self.model = model
        self.on_demand = limits.on_demand
        self.peaks = PeakTracker(ON_DEMAND_INITIAL_PEAK[op], model.ramp_seconds)
        self.bucket = TokenBucket(0.0, 0.0, now)
        self.reconfigure(limits, now, fill=True)

    def reconfigure(self, limits: Limits, now: float, fill: bool = False) -> None:
        """Apply new capacity (CreateTable, UpdateTable); a provisioned bucket keeps what it holds."""
        self.on_demand = limits.on_demand
        self.maximum = limits.maximum(self.op)
        if self.on_demand:
            rate, _ = self._on_demand_rate(now)
            self.bucket.resize(rate, rate, now)  # no burst beyond one second
        else:
            rate = float(limits.provisioned(self.op))
            self.bucket.resize(rate, rate * self.model.burst_seconds, now)
        if fill:
            self.bucket.tokens = self.bucket.capacity

    def _on_demand_rate(self, now: float) -> tuple[float, str]:
        """Units per second allowed now, and the LimitType that sets it."""
        choices = [(2 * self.peaks.peak(now), KEY_RANGE_EXCEEDED), (self.model.account_table_units, ACCOUNT_LIMIT_EXCEEDED)]
        if self.maximum is not None:
            choices.append((self.maximum, MAX_ON_DEMAND_EXCEEDED))
        return min(choices, key=lambda choice: choice[0])

    def exhausted(self, now: float) -> str | None:
        """The LimitType refusing requests now, or None when there is capacity."""
        limit = PROVISIONED_EXCEEDED
        if self.on_demand:
            rate, limit = self._on_demand_rate(now)
            if rate != self.bucket.rate:
                self.bucket.resize(rate, rate, now)
        return limit if self.bucket.level(now) <= 0 else None

    def consume(self, units: float, now: float) -> None:
        """Charge units (negative: refund)."""
        self.bucket.take(units, now)
        if self.on_demand:
            self.peaks.record(units, now)


class Admission:
    """`admit` and `reserve` on top of a model's `refusals` and `charge` (CapacityModel, and
    harness.gate.leases.LeasedModel in Locust processes)."""

    def admit(self, demands: list[Demand]) -> list[Throttle]:
        """Admit the demands together and reserve their units, or refuse them all: the reasons why."""
        refused = self.refusals(demands)
        if not refused:
            self.reserve(demands)
        return refused

    def reserve(self, demands: list[Demand]) -> None:
        """Charge the demands' estimated units, without asking (after `refusals` found none)."""
        for demand in demands:
            self.charge(demand.table, demand.index, demand.op, demand.units, demand.key)


class CapacityModel(Admission):
    """Every table's and GSI's buckets; `admit` before a request, `charge` with its real cost after."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        burst_seconds: float = BURST_SECONDS,
        ramp_seconds: float = ON_DEMAND_RAMP_SECONDS,
        partition_units: dict[str, float] | None = None,
        account_table_units: float = ACCOUNT_TABLE_UNITS,
    ):
        if burst_seconds < 1:
            raise ValueError(f"burst_seconds must be at least 1 (one second of capacity), found {burst_seconds}")
        self.clock = clock
        self.burst_seconds = burst_seconds
        self.ramp_seconds = ramp_seconds
        self.partition_units = dict(partition_units or PARTITION_UNITS)
        self.account_table_units = account_table_units
        self._limits: dict[str, dict[str | None, Limits]] = {}
        self._meters: dict[tuple[str, str | None, str], Meter] = {}
        self._keys: dict[tuple[str, str | None, str, str], TokenBucket] = {}
        self._hot: set[tuple[str, str | None, str, str]] = set()
        self._swept_at = clock()

    # ---- configuration ------------------------------------------------------------------

    def configure(self, limits: TableLimits) -> None:
        """Set or change a table's capacity; buckets of known resources keep their tokens."""
        now = self.clock()
        table = limits.table.name
        resources: dict[str | None, Limits] = {None: limits.table}
        resources.update({index.name: index for index in limits.indexes})
        for name, index, op in list(self._meters):
            if name == table and index not in resources:
                del self._meters[(name, index, op)]
        for index, resource in resources.items():
            for op in (READ, WRITE):
                meter = self._meters.get((table, index, op))
                if meter is None:
                    self._meters[(table, index, op)] = Meter(resource, op, now, self)
                else:
                    meter.reconfigure(resource, now)
        self._limits[table] = resources

    def forget(self, table: str) -> None:
        """Drop a deleted table's buckets (a table created again under its name starts afresh)."""
        self._limits.pop(table, None)
        for key in [key for key in self._meters if key[0] == table]:
            del self._meters[key]
        for key in [key for key in self._keys if key[0] == table]:
            del self._keys[key]
        self._hot = {hot for hot in self._hot if hot[0] != table}

    def knows(self, table: str) -> bool:
        """True when the table's capacity is configured."""
        return table in self._limits

    def limits(self, table: str, index: str | None = None) -> Limits | None:
        """The configured limits of a table or one of its GSIs."""
        return self._limits.get(table, {}).get(index)

    # ---- admission and charging ---------------------------------------------------------

    def refusals(self, demands: list[Demand]) -> list[Throttle]:
        """Why these demands would be throttled now (empty: they would be admitted). Charges nothing."""
        now = self.clock()
        found: list[Throttle] = []
        for demand in demands:
            limits = self.limits(demand.table, demand.index)
            meter = self._meters.get((demand.table, demand.index, demand.op))
            if limits is None or meter is None:
                continue
            kind = INDEX if demand.index else TABLE
            limit = meter.exhausted(now)
            if limit is None and demand.key is not None:
                bucket = self._keys.get((demand.table, demand.index, demand.op, demand.key))
                if bucket is not None and bucket.level(now) <= 0:
                    limit = KEY_RANGE_EXCEEDED
            if limit is not None:
                throttle = Throttle(f"{kind}{demand.op}{limit}", limits.arn)
                if throttle not in found:
                    found.append(throttle)
        return found

    def prefetch(self, demands: list[Demand]) -> None:
        """Nothing to do here: the buckets are in this process (harness.gate.leases.LeasedModel fetches leases)."""

    def charge(self, table: str, index: str | None, op: str, units: float, key: str | None = None) -> None:
        """Consume `units` (negative: refund) of a table or GSI and, when given, of its partition key."""
        if units == 0:
            return
        meter = self._meters.get((table, index, op))
        if meter is None:
            return
        now = self.clock()
        meter.consume(units, now)
        if key is not None:
            self._charge_key(table, index, op, key, units, now)

    def charge_key(self, table: str, index: str | None, op: str, key: str, units: float) -> None:
        """Consume `units` of one partition key only (its table's or GSI's bucket was charged by a lease)."""
        if units != 0 and (table, index, op) in self._meters:
            self._charge_key(table, index, op, key, units, self.clock())

    def _charge_key(self, table: str, index: str | None, op: str, key: str, units: float, now: float) -> None:
        bucket = self._key_bucket(table, index, op, key, now)
        bucket.take(units, now)
        if bucket.tokens <= 0:
            self._hot.add((table, index, op, key))

    def hot_keys(self) -> list[tuple[str, str | None, str, str]]:
        """The partition keys whose bucket is empty now: (table, index, op, key)."""
        now = self.clock()
        for hot in list(self._hot):
            bucket = self._keys.get(hot)
            if bucket is None or bucket.level(now) > 0:
                self._hot.discard(hot)
        return sorted(self._hot, key=str)

    def lease(self, table: str, index: str | None, op: str, wanted: float, seconds: float) -> float | None:
        """Take tokens for another process to spend: `wanted`, or up to `seconds` of the refill rate, never more than
        the bucket holds. Call after `refusals` found none. None when the resource is not metered."""
        meter = self._meters.get((table, index, op))
        if meter is None:
            return None
        now = self.clock()
        meter.exhausted(now)  # on demand: the rate of now
        granted = min(meter.bucket.level(now), max(wanted, meter.bucket.rate * seconds))
        meter.consume(granted, now)
        return granted

    def refill_seconds(self, table: str, index: str | None, op: str) -> float:
        """Seconds until an empty table or GSI bucket holds tokens again (0 when it has some)."""
        meter = self._meters.get((table, index, op))
        if meter is None:
            return 0.0
        level = meter.bucket.level(self.clock())
        if level > 0:
            return 0.0
        return -level / meter.bucket.rate if meter.bucket.rate > 0 else math.inf

    def _key_bucket(self, table: str, index: str | None, op: str, key: str, now: float) -> TokenBucket:
        bucket = self._keys.get((table, index, op, key))
        if bucket is None:
            if len(self._keys) >= KEY_BUCKETS_BEFORE_SWEEP or now - self._swept_at >= KEY_SWEEP_SECONDS:
                self._sweep(now)
            rate = self.partition_units[op]
            bucket = self._keys[(table, index, op, key)] = TokenBucket(rate, rate, now)
        return bucket

    def _sweep(self, now: float) -> None:
        """Drop partition-key buckets that have refilled: they behave like new ones."""
        self._swept_at = now
        for key, bucket in list(self._keys.items()):
            if bucket.level(now) >= bucket.capacity:
                del self._keys[key]

    def level(self, table: str, index: str | None, op: str) -> float:
        """Tokens in a table's or GSI's bucket now (for stats and tests)."""
        meter = self._meters.get((table, index, op))
        if meter is None:
            return math.inf
        meter.exhausted(self.clock())
        return meter.bucket.tokens
