"""A table's capacity_schedule: UpdateTable to new provisioned capacity at set times after the table is ready.

The workshop raises a 5-WCU table to 100 WCU in the middle of Exercise 1; a scenario says so with
`capacity_schedule: [{after: 60s, read: 100, write: 100}]`. The process that prepared the table
(the runner, `ddb-harness setup`, or a standalone/master Locust) applies it from a background
thread, so the change lands during the dataset load or the Locust run alike. Only tables the
harness created are changed.
"""

from __future__ import annotations

import logging
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from harness.scenario import CapacityChange, TableSpec
from harness.target import ownership, tables

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 5.0


def update_request(spec: TableSpec, change: CapacityChange) -> dict:
    """The UpdateTable parameters of one step of the schedule."""
    request: dict = {
        "TableName": spec.name,
        "ProvisionedThroughput": {"ReadCapacityUnits": change.read, "WriteCapacityUnits": change.write},
    }
    if change.gsis:
        request["GlobalSecondaryIndexUpdates"] = [
            {"Update": {"IndexName": name, "ProvisionedThroughput": {"ReadCapacityUnits": units.read, "WriteCapacityUnits": units.write}}}
            for name, units in change.gsis.items()
        ]
    return request


class CapacitySchedule:
    """Applies one table's capacity_schedule from a daemon thread, timed from `start()`."""

    def __init__(self, client, spec: TableSpec, clock=time.monotonic):
        self.client = client
        self.spec = spec
        self.clock = clock
        self.applied: list[CapacityChange] = []
        """The steps done so far."""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capacity-schedule-{spec.name}", daemon=True)

    def start(self) -> CapacitySchedule:
        """Start the clock and the thread."""
        self._started = self.clock()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop before any step still pending."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_SECONDS)

    def _run(self) -> None:
        try:
            description = tables.describe(self.client, self.spec.name)
            if description is None or not ownership.is_owned(self.client, description):
                log.warning("table %s: capacity_schedule ignored: the harness did not create this table", self.spec.name)
                return
            for change in self.spec.capacity_schedule:
                if self._stopping.wait(max(0.0, self._started + change.after_seconds - self.clock())):
                    return
                self._apply(change)
        except (ClientError, BotoCoreError) as exc:
            log.warning("table %s: capacity_schedule stopped: %s", self.spec.name, exc)

    def _apply(self, change: CapacityChange) -> None:
        self.client.update_table(**update_request(self.spec, change))
        self.applied.append(change)
        gsis = "".join(f"; GSI {name}: {units.read} RCU / {units.write} WCU" for name, units in change.gsis.items())
        log.info("table %s: capacity now %d RCU / %d WCU%s (capacity_schedule, after %s)", self.spec.name, change.read, change.write, gsis, change.after)
        self.client.get_waiter("table_exists").wait(TableName=self.spec.name, WaiterConfig=tables.WAIT)
