"""Token leases: each Locust process decides its own requests against buckets the capacity gate keeps.

Sending every request through the gate process costs two extra loopback hops, ~380 µs of CPU
per request (bench/README.md, "Capacity gate in a 2-worker run"). Instead, a Locust process
runs the gate's logic itself (harness.gate.in_process), sends its requests straight to DynamoDB
Local, and takes tokens from the shared buckets in leases:

- A lease is a slice of one table's or GSI's bucket (READ or WRITE): what the request needs, or
  up to LEASE_SECONDS of the refill rate, never more than the bucket holds. The process spends
  it on its own requests; when it is gone (or LEASE_TTL old, when what is left goes back), the
  next request asks again. An empty bucket refuses the lease: the request is throttled with the
  reasons the gate's model gives, and the process asks again after the bucket refills (at most
  REFUSAL_CACHE_SECONDS later, so an UpdateTable shows at once).
- What a request really cost beyond its slice (DynamoDB charges after the fact) is a debt, paid
  at the next exchange, as are the units each partition key consumed (the gate keeps the
  per-key buckets and answers which keys are hot) and the process's gate counters.
- Every exchange is one small POST to the gate; a process with nothing to ask still reports at
  least every FLUSH_SECONDS, and gives everything back when it closes.

A bucket is never refused while it holds tokens and never admits once empty, as in the gate;
what changes is when a debt reaches it: within FLUSH_SECONDS or the process's next request. On a
5-WCU table shared by many processes, each may overspend by the cost of one request before the
bucket learns it; the sustained rate is the provisioned one all the same.

`LeaseDesk` is the gate's side; `LeasedModel` the process's: it has the interface of
harness.gate.buckets.CapacityModel that harness.gate.proxy.Gate uses.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Callable

from gevent.lock import RLock

from harness.gate.buckets import INDEX, KEY_RANGE_EXCEEDED, TABLE, Admission, Clock, Demand, Limits, TableLimits, Throttle

LEASE_SECONDS = 0.05
LEASE_TTL = 0.5
REFUSAL_CACHE_SECONDS = 0.1
FLUSH_SECONDS = 0.1
MAX_REFUSAL_SECONDS = 3600.0  # what a refusal says when the bucket never refills (0 units/s)

Resource = tuple[str, "str | None", str]  # (table, GSI or None, READ or WRITE)
Send = Callable[[dict], dict]


class LeaseDesk:
    """The gate's side: applies what a process reports, grants or refuses the leases it asks for.

    `gate` is the harness.gate.proxy.Gate whose model, catalog and counters are the shared ones.
    """

    def __init__(self, gate, describe_headers: dict):
        self.gate = gate
        self.describe_headers = describe_headers
        self._last: dict[str, tuple[int, dict]] = {}  # per process: its last message's number and the answer

    def exchange(self, message: dict) -> dict:
        """One process's report and asks (see the module docstring) -> grants, refusals, hot keys, table generations.

        A message sent again (its answer was lost on the way) gets the same answer and is not applied twice.
        """
        process, number = message.get("process"), message.get("seq")
        last = self._last.get(process) if process is not None else None
        if last is not None and last[0] == number:
            return last[1]
        answer = self._apply(message)
        if process is not None:
            self._last[process] = (number, answer)
        return answer

    def _apply(self, message: dict) -> dict:
        model = self.gate.model
        wanted = message.get("want") or []
        for table, _, _, _ in wanted:  # first: if DynamoDB Local cannot be reached, nothing is applied twice
            self.gate.ensure(table, self.describe_headers)
        for table, index, op, units in message.get("charges") or []:
            model.charge(table, index, op, float(units))
        for table, index, op, key, units in message.get("keys") or []:
            model.charge_key(table, index, op, key, float(units))
        if message.get("stats"):
            self.gate.stats.merge(message["stats"])
        grants, refused, tables = [], [], set()
        for table, index, op, units in wanted:
            tables.add(table)
            if model.limits(table, index) is None:
                grants.append([table, index, op, None])  # not metered: the process stops asking for a while
                continue
            throttles = model.refusals([Demand(table, index, op)])
            if throttles:
                seconds = min(model.refill_seconds(table, index, op), MAX_REFUSAL_SECONDS)
                refused.append([table, index, op, [[throttle.reason, throttle.resource] for throttle in throttles], seconds])
            else:
                grants.append([table, index, op, model.lease(table, index, op, float(units), LEASE_SECONDS)])
        generations = {table: self.gate.generation.get(table, 0) for table in sorted(tables)}
        return {"grants": grants, "refused": refused, "hot": [list(hot) for hot in model.hot_keys()], "generations": generations}


class LeasedModel(Admission):
    """A Locust process's view of the shared buckets: admits against leased tokens, asks the gate for more.

    `send(message) -> answer` is the exchange with the gate (LeaseDesk.exchange on the other
    side). `stats`, when set, is a harness.gate.proxy.Stats whose counts go with each exchange;
    `on_generations({table: n})` hears of table changes the gate has seen.
    """

    def __init__(self, send: Send, clock: Clock = time.monotonic, lease_ttl: float = LEASE_TTL, refusal_cache: float = REFUSAL_CACHE_SECONDS):
        self.send = send
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.refusal_cache = refusal_cache
        self.stats = None
        self.on_generations: Callable[[dict], None] | None = None
        self.process = uuid.uuid4().hex
        self._sequence = 0
        self._unanswered: dict | None = None  # a message the gate may or may not have applied: sent again first
        self._limits: dict[str, dict[str | None, Limits]] = {}
        self._allowance: dict[Resource, float] = {}
        self._expires: dict[Resource, float] = {}
        self._refused: dict[Resource, tuple[list[Throttle], float]] = {}
        self._key_usage: dict[tuple[Resource, str], float] = {}
        self._hot: set[tuple[Resource, str]] = set()
        self._lock = RLock()

    # ---- configuration (the process's Gate learns tables as the gate does) ---------------

    def configure(self, limits: TableLimits) -> None:
        """Know a table's resources (their capacity is the gate's business)."""
        resources = {None: limits.table}
        resources.update({index.name: index for index in limits.indexes})
        self._limits[limits.table.name] = resources

    def forget(self, table: str) -> None:
        """A deleted table: its leases, refusals and key usage go too."""
        self._limits.pop(table, None)
        for store in (self._allowance, self._expires, self._refused):
            for resource in [resource for resource in store if resource[0] == table]:
                del store[resource]
        self._key_usage = {entry: units for entry, units in self._key_usage.items() if entry[0][0] != table}
        self._hot = {entry for entry in self._hot if entry[0][0] != table}

    def knows(self, table: str) -> bool:
        """True when the table is known."""
        return table in self._limits

    def limits(self, table: str, index: str | None = None) -> Limits | None:
        """A known table's or GSI's limits as last described."""
        return self._limits.get(table, {}).get(index)

    def level(self, table: str, index: str | None, op: str) -> float:
        """Leased tokens not yet spent (negative: a debt not yet reported)."""
        return self._allowance.get((table, index, op), 0.0)

    # ---- admission and charging ---------------------------------------------------------

    def prefetch(self, demands: list[Demand]) -> None:
        """Ask, in one exchange, for a lease on every resource these demands need and hold none of."""
        if self._needed(demands, self.clock()):
            with self._lock:  # one exchange at a time: a request waiting here may find its lease granted
                needed = self._needed(demands, self.clock())
                if needed:
                    self._exchange(needed)

    def refusals(self, demands: list[Demand]) -> list[Throttle]:
        """Why these demands are throttled now (empty: admitted); may exchange with the gate first. Charges nothing."""
        self.prefetch(demands)
        now = self.clock()
        found: list[Throttle] = []
        for demand in demands:
            resource = (demand.table, demand.index, demand.op)
            refusal = self._refused.get(resource)
            hot = demand.key is not None and (resource, demand.key) in self._hot
            if (refusal is None or refusal[1] <= now) and not hot:
                continue  # the common case: admitted
            limits = self.limits(demand.table, demand.index)
            if limits is None:
                continue
            if refusal is not None and refusal[1] > now:
                throttles = refusal[0]
            else:
                throttles = [Throttle(f"{INDEX if demand.index else TABLE}{demand.op}{KEY_RANGE_EXCEEDED}", limits.arn)]
            found += [throttle for throttle in throttles if throttle not in found]
        return found

    def charge(self, table: str, index: str | None, op: str, units: float, key: str | None = None) -> None:
        """Spend `units` (negative: give back) of a lease and note them against the partition key."""
        if units == 0 or self.limits(table, index) is None:
            return
        resource = (table, index, op)
        self._allowance[resource] = self._allowance.get(resource, 0.0) - units
        if key is not None:
            entry = (resource, key)
            self._key_usage[entry] = self._key_usage.get(entry, 0.0) + units

    # ---- exchanges ----------------------------------------------------------------------

    def flush(self) -> None:
        """Report debts, expired leases, key usage and counters, if there are any (the periodic exchange)."""
        with self._lock:
            if self._unanswered is not None or self._key_usage or self._pending_charges(self.clock(), peek=True) or (self.stats is not None and self.stats.pending()):
                self._exchange({})

    def close(self) -> None:
        """Give every lease back and report everything (the process is done)."""
        with self._lock:
            for resource in self._expires:
                self._expires[resource] = -math.inf
            self._exchange({})

    def _needed(self, demands: list[Demand], now: float) -> dict[Resource, float]:
        needed: dict[Resource, float] = {}
        for demand in demands:
            resource = (demand.table, demand.index, demand.op)
            if self._expires.get(resource, -math.inf) > now and self._allowance[resource] > 0:
                continue  # the common case: a lease in hand
            if demand.index not in self._limits.get(demand.table, {}):
                continue
            refusal = self._refused.get(resource)
            if refusal is not None and refusal[1] > now:
                continue
            needed[resource] = needed.get(resource, 0.0) + demand.units
        return needed

    def _pending_charges(self, now: float, peek: bool = False) -> list[list]:
        """Debts, and leases given back (expired ones); taken out of the allowances unless `peek`."""
        charges = []
        for resource, allowance in self._allowance.items():
            expired = self._expires.get(resource, -math.inf) <= now
            if allowance < 0 or (expired and allowance > 0):
                if allowance != math.inf:
                    charges.append([*resource, -allowance])
                if not peek:
                    self._allowance[resource] = 0.0
        return charges

    def _exchange(self, needed: dict[Resource, float]) -> None:
        if self._unanswered is not None:  # its answer never came: the gate answers it again, applied once
            self._apply(self.send(self._unanswered), self.clock())
            self._unanswered = None
        now = self.clock()
        self._sequence += 1
        message: dict = {
            "process": self.process,
            "seq": self._sequence,
            "charges": self._pending_charges(now),
            "keys": [[*resource, key, units] for (resource, key), units in self._key_usage.items()],
            "want": [[*resource, units] for resource, units in needed.items()],
        }
        self._key_usage = {}
        stats = self.stats.drain() if self.stats is not None else None
        if stats:
            message["stats"] = stats
        self._unanswered = message  # nothing reported is lost, nothing counted twice: kept until answered
        answer = self.send(message)
        self._unanswered = None
        self._apply(answer, self.clock())

    def _apply(self, answer: dict, now: float) -> None:
        for table, index, op, units in answer.get("grants") or []:
            resource = (table, index, op)
            self._allowance[resource] = math.inf if units is None else self._allowance.get(resource, 0.0) + units
            self._expires[resource] = now + self.lease_ttl
            self._refused.pop(resource, None)
        for table, index, op, reasons, seconds in answer.get("refused") or []:
            throttles = [Throttle(reason, resource) for reason, resource in reasons]
            # At least a millisecond: the request that asked is refused even when the bucket is just at zero.
            self._refused[(table, index, op)] = (throttles, now + max(min(float(seconds), self.refusal_cache), 0.001))
        self._hot = {((table, index, op), key) for table, index, op, key in answer.get("hot") or []}
        if self.on_generations is not None and answer.get("generations"):
            self.on_generations(answer["generations"])
