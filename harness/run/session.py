"""One run's target and tables: start or reach the target, create tables, load datasets.

Used by `ddb-harness run`/`setup` and by the Locust hooks when `locust -f` is run directly,
so both paths prepare a run the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.datasets import dataset_items
from harness.datasets.sizes import SizeSummary
from harness.gate import start_gate
from harness.safety.aws_guard import require_opt_in
from harness.scenario import Scenario, TableSpec
from harness.target import tables
from harness.target.capacity_schedule import CapacitySchedule
from harness.target.client import Connection, make_client
from harness.target.loader import load_items
from harness.target.local import LocalServer, start_local

log = logging.getLogger(__name__)


@dataclass
class Target:
    """Where this run sends requests, and the embedded server if this process started one."""

    connection: Connection
    server: LocalServer | None = None
    notes: list[str] = field(default_factory=list)
    gate: LocalServer | None = None
    """The capacity gate in front of the embedded server (harness/gate), when capacity is emulated."""
    schedules: list[CapacitySchedule] = field(default_factory=list)

    def schedule_capacity(self, client, spec: TableSpec) -> None:
        """Start a table's capacity_schedule (if it has one); stopped by close()."""
        if spec.capacity_schedule:
            self.schedules.append(CapacitySchedule(client, spec).start())

    def close(self) -> None:
        """Stop capacity schedules, the capacity gate and the embedded server, if any."""
        for schedule in self.schedules:
            schedule.stop()
        if self.gate is not None:
            self.gate.stop()
        if self.server is not None:
            self.server.stop()


def capacity_emulated(scenario: Scenario) -> bool:
    """True when the embedded target gets a capacity gate: `capacity: emulate`, set explicitly or with a PROVISIONED table."""
    target = scenario.target
    if target.kind != "local" or target.capacity != "emulate":
        return False
    return "capacity" in target.model_fields_set or any(table.billing_mode == "PROVISIONED" for table in scenario.tables)


def open_target(
    scenario: Scenario, endpoint_url: str | None = None, allow_aws: bool = False, log_dir: Path | None = None, capacity_gate: bool = False
) -> Target:
    """Reach the scenario's target: an explicit endpoint, the embedded local server (started here), or AWS.

    `capacity_gate`: the explicit endpoint (or the endpoint target) is a capacity gate (`python -m harness.gate`), whose
    tokens Locust users lease (harness.gate.in_process); the embedded target's gate always is.

    Real AWS (a `kind: aws` target, or an endpoint on an AWS host: harness.safety.aws_guard) needs
    `confirm: true` in the scenario's target or `allow_aws`; BadInput otherwise, before any request.
    """
    target = scenario.target
    aws = require_opt_in(scenario, endpoint_url, allow_aws)
    if aws is not None:
        return Target(aws)
    if endpoint_url:
        return Target(Connection(target.region, endpoint_url, capacity_gate=capacity_gate))
    if target.kind == "endpoint":
        return Target(Connection(target.region, target.url, capacity_gate=capacity_gate))
    server = start_local(log_dir=log_dir)
    for warning in server.warnings:
        log.warning(warning)
    opened = Target(Connection(target.region, server.endpoint), server, list(server.warnings))
    if capacity_emulated(scenario):
        try:
            opened.gate = start_gate(server.endpoint, target.burst_seconds, server.log_path.parent)
        except BaseException:
            server.stop()
            raise
        opened.connection = Connection(target.region, opened.gate.endpoint, capacity_gate=True)
        note = (
            f"capacity emulation on: capacity gate at {opened.gate.endpoint} (burst window {target.burst_seconds:g} s); "
            "Locust users lease its tokens and send requests straight to DynamoDB Local"
        )
        log.info(note)
        opened.notes.append(note)
    return opened


def prepare_tables(
    client, scenario: Scenario, progress: bool = True, on_table_ready: Callable[[object, TableSpec], None] | None = None
) -> dict[str, str]:
    """Ensure every table of the scenario exists and load its dataset when its policy says so.

    Issues CreateTable/DescribeTable/UpdateTable (tables.ensure_table) and BatchWriteItem (loader).
    `on_table_ready(client, spec)` is called when a table is ready, before its data is loaded.
    Returns {table name: created | reused | recreated}.
    """
    outcome = {}
    for spec in scenario.tables:
        outcome[spec.name] = tables.ensure_table(client, spec)
        if on_table_ready is not None:
            on_table_ready(client, spec)
        dataset = spec.dataset
        if dataset is None or dataset.load == "never":
            continue
        if dataset.load == "auto" and outcome[spec.name] == tables.REUSED:
            log.info("table %s reused: dataset not reloaded (dataset.load: always reloads)", spec.name)
            continue
        items, total = dataset_items(spec)
        if total:
            sizes = SizeSummary()
            load_items(client, spec.name, sizes.counted(items), total=total, progress=progress, key_names=spec.key.names())
            log.info("table %s: item sizes %s", spec.name, sizes.describe())
    return outcome


def setup(scenario: Scenario, target: Target, progress: bool = True) -> dict[str, str]:
    """Tables and data for `scenario` on an opened target, with a fresh client."""
    client = make_client(target.connection, scenario.client)
    return prepare_tables(client, scenario, progress=progress, on_table_ready=target.schedule_capacity)
