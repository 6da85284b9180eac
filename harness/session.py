"""One run's target and tables: start or reach the target, create tables, load datasets.

Used by `ddb-harness run`/`setup` and by the Locust hooks when `locust -f` is run directly,
so both paths prepare a run the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from harness import tables
from harness.client import Connection, make_client
from harness.datasets import model
from harness.errors import BadInput
from harness.loader import load_items
from harness.local import LocalServer, start_local
from harness.scenario import LogfileDataset, Scenario, TableSpec

log = logging.getLogger(__name__)


@dataclass
class Target:
    """Where this run sends requests, and the embedded server if this process started one."""

    connection: Connection
    server: LocalServer | None = None
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Stop the embedded server, if any."""
        if self.server is not None:
            self.server.stop()


def open_target(scenario: Scenario, endpoint_url: str | None = None, allow_aws: bool = False, log_dir: Path | None = None) -> Target:
    """Reach the scenario's target: an explicit endpoint, the embedded local server (started here), or AWS.

    AWS needs `target.confirm: true` in the scenario or `allow_aws`; BadInput otherwise.
    """
    target = scenario.target
    if endpoint_url:
        return Target(Connection(target.region, endpoint_url))
    if target.kind == "endpoint":
        return Target(Connection(target.region, target.url))
    if target.kind == "aws":
        if not (target.confirm or allow_aws):
            raise BadInput(
                f"scenario {scenario.name!r} targets real AWS DynamoDB in {target.region}: "
                "add `confirm: true` to its target or pass --allow-aws (requests cost money)"
            )
        return Target(Connection(target.region, None, local_credentials=False, profile=target.profile))
    server = start_local(log_dir=log_dir)
    for warning in server.warnings:
        log.warning(warning)
    return Target(Connection(target.region, server.endpoint), server, list(server.warnings))


def dataset_items(spec: TableSpec) -> tuple[Iterator[dict], int]:
    """The items of a table's dataset and how many there are."""
    dataset = spec.dataset
    generator = model(dataset.model)
    if isinstance(dataset, LogfileDataset) and dataset.source:
        total = generator.count_csv_rows(dataset.source)
        limit = dataset.size or None
        return generator.read_csv(dataset.source, shards=dataset.shards, limit=limit), min(total, limit or total)
    options = {"shards": dataset.shards} if isinstance(dataset, LogfileDataset) else {}
    if dataset.model == "orders":
        options = {"accounts": dataset.accounts, "customers": dataset.customers}
    return generator.generate_items(dataset.size, dataset.seed, **options), dataset.size


def prepare_tables(client, scenario: Scenario, progress: bool = True) -> dict[str, str]:
    """Ensure every table of the scenario exists and load its dataset when its policy says so.

    Issues CreateTable/DescribeTable/UpdateTable (tables.ensure_table) and BatchWriteItem (loader).
    Returns {table name: created | reused | recreated}.
    """
    outcome = {}
    for spec in scenario.tables:
        outcome[spec.name] = tables.ensure_table(client, spec)
        dataset = spec.dataset
        if dataset is None or dataset.load == "never":
            continue
        if dataset.load == "auto" and outcome[spec.name] == tables.REUSED:
            log.info("table %s reused: dataset not reloaded (dataset.load: always reloads)", spec.name)
            continue
        items, total = dataset_items(spec)
        if total:
            load_items(client, spec.name, items, total=total, progress=progress)
    return outcome


def setup(scenario: Scenario, target: Target, progress: bool = True) -> dict[str, str]:
    """Tables and data for `scenario` on an opened target, with a fresh client."""
    client = make_client(target.connection, scenario.client)
    return prepare_tables(client, scenario, progress=progress)
