"""The scenario's workload as Locust tasks: one task function per mix step, weighted.

Each task only chooses arguments and calls `DynamoDBUser._call`; the access patterns live in
`harness.ops`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from harness.datasets import orders
from harness.errors import BadInput
from harness.metrics.results_files import LAP
from harness.ops import parallel_scan, partiql_insert_order, sharded_gsi_query
from harness.ops.result import OpResult
from harness.ops.ring import get_ring_item
from harness.scenario import (
    ParallelScanStep,
    PartiqlInsertOrderStep,
    Scenario,
    ShardedGsiQueryStep,
    WalkRingStep,
    step_shards,
)
from harness.scenario.operations import CHAIN_TASK, OPERATION_TASK
from harness.workload.operations import Catalog, chain_task, operation_task
from harness.workload.users import DynamoDBUser, scheduled_wait, wait_time_from

Task = Callable[[DynamoDBUser], None]


@dataclass
class RingLap:
    """A user's place on the ring and the lap in progress (sum of its GetItem times)."""

    start_key: str
    position: str
    elapsed_ms: float = 0.0
    gets: OpResult = field(default_factory=OpResult)


def partiql_insert_task(step: PartiqlInsertOrderStep, scenario: Scenario) -> Task:
    """ExecuteStatement INSERT of a new random order."""
    dataset = scenario.table(step.table).dataset

    def insert_order(user: DynamoDBUser) -> None:
        order = orders.random_order(user.rng, accounts=dataset.accounts, customers=dataset.customers)
        user._call("ExecuteStatement", step.step_name, partiql_insert_order, step.table, order)

    return insert_order


def walk_ring_task(step: WalkRingStep, scenario: Scenario) -> Task:
    """`steps` GetItem calls along the ring (default one lap); each finished lap is reported as a Lap step."""

    def walk(user: DynamoDBUser) -> None:
        keys = user.harness.ring_keys[step.table]
        lap = user.ring_laps.get(step.step_name)
        if lap is None:
            start = keys[user.harness.partition.ring_start(user.ordinal, len(keys))]
            lap = user.ring_laps[step.step_name] = RingLap(start, start)
        for _ in range(step.steps or len(keys)):
            result = user._call("GetItem", step.step_name, get_ring_item, step.table, lap.position)
            if result is None:
                return  # the failure is reported; the walk resumes from the same key next time
            lap.elapsed_ms += result.elapsed_ms
            lap.gets.merge(result)
            lap.position = result.value
            if lap.position == lap.start_key:
                user._fire_composite(LAP, step.step_name, lap.elapsed_ms, lap.gets)
                user.ring_laps[step.step_name] = RingLap(lap.start_key, lap.start_key)
                lap = user.ring_laps[step.step_name]

    return walk


def parallel_scan_task(step: ParallelScanStep, scenario: Scenario) -> Task:
    """One parallel scan of the whole table (all segments, all pages) as one logical Scan."""

    def scan(user: DynamoDBUser) -> None:
        user._call(
            "Scan",
            step.step_name,
            parallel_scan,
            step.table,
            step.segments,
            page_limit=step.page_limit,
            filter_expression=step.filter,
            expression_values=step.values,
            sum_attribute=step.sum,
            index=step.index,
            only_segments=user.harness.partition.segments(step.segments) if step.split_across_workers else None,
        )

    return scan


def sharded_gsi_query_task(step: ShardedGsiQueryStep, scenario: Scenario) -> Task:
    """One Query per shard key, concurrently, as one logical Query."""
    key = scenario.table(step.table).gsi(step.index).key
    shards = step_shards(scenario, step)

    def query(user: DynamoDBUser) -> None:
        user._call(
            "Query",
            step.step_name,
            sharded_gsi_query,
            step.table,
            step.index,
            key.hash,
            key.range,
            shards,
            shard_prefix=step.shard_prefix,
            sort_prefix=step.sort_prefix,
        )

    return query


TASK_FACTORIES = {
    "partiql_insert_order": partiql_insert_task,
    "walk_ring": walk_ring_task,
    "parallel_scan": parallel_scan_task,
    "sharded_gsi_query": sharded_gsi_query_task,
}


def weighted_tasks(scenario: Scenario, only: tuple[str, ...] | None = None) -> list[Task]:
    """Locust's task list for the scenario's mix (each task repeated `weight` times), limited to `only` tasks."""
    tasks: list[Task] = []
    catalog = Catalog(scenario)
    factories = {**TASK_FACTORIES, OPERATION_TASK: partial(operation_task, catalog=catalog), CHAIN_TASK: partial(chain_task, catalog=catalog)}
    for step in scenario.workload.mix:
        if only is None or step.task in only:
            task = factories[step.task](step, scenario)
            task.__name__ = step.step_name
            tasks.extend([task] * step.weight)
    return tasks


class ScenarioUser(DynamoDBUser):
    """Runs the scenario's weighted mix; subclasses may set `task_names` to run part of it."""

    abstract = True
    task_names: tuple[str, ...] | None = None
    """Limit the mix to these tasks (None: every step of the scenario)."""

    def __init__(self, environment):
        super().__init__(environment)
        self.ring_laps: dict[str, RingLap] = {}

    def on_start(self) -> None:
        """Open model: the first task waits for a scheduled start too."""
        if getattr(self.harness, "arrivals", None) is not None:
            self.wait()

    @classmethod
    def configure(cls, scenario: Scenario) -> None:
        """Install the scenario's tasks and wait time on the class (called from the init hook)."""
        cls.tasks = weighted_tasks(scenario, cls.task_names)
        cls.wait_time = wait_time_from(scenario.load.wait_time)
        if scenario.load.is_open:
            cls.wait_time = scheduled_wait(cls.wait_time)
        if not cls.tasks:
            raise BadInput(f"scenario {scenario.name!r} has no step with task {' or '.join(cls.task_names or ())}")
