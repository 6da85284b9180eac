"""YAML scenario files to validated, frozen Scenario objects.

Every error is one line naming the file, the field path (``workload.mix[2].weight``), what was
expected and what was found. Unknown keys are errors.

Imports nothing of the harness but the shared leaves errors and durations.
"""

from __future__ import annotations

import functools
import typing
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from harness.durations import parse_duration
from harness.errors import BadInput
from harness.scenario import operation_checks
from harness.scenario.base import FromList, Spec
from harness.scenario.operations import CHAIN_TASK, OPERATION_TASK, ChainStep, Operation
from harness.scenario.template import TemplateDatasetSpec

TABLE_NAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,255}$"
MAX_TOTAL_SEGMENTS = 1_000_000  # DynamoDB's limit on Scan's TotalSegments
AttributeType = Literal["S", "N", "B"]


# ---- target -------------------------------------------------------------------------------


class LocalTarget(Spec):
    """The embedded DynamoDB Local the harness starts and stops itself."""

    kind: Literal["local"] = "local"
    region: str = "us-east-1"
    capacity: Literal["emulate", "none"] = "emulate"
    """emulate: a capacity gate in front of the server throttles as DynamoDB would (on by default when a
    table is PROVISIONED; set it explicitly to also emulate on-demand limits); none: never throttled."""
    burst_seconds: float = Field(300.0, ge=1, le=300)
    """Seconds of unused capacity a table keeps for bursts (DynamoDB: 300); shorter makes throttling show sooner."""


class EndpointTarget(Spec):
    """A DynamoDB-compatible endpoint that is already running (DynamoDB Local in a container...)."""

    kind: Literal["endpoint"]
    url: str = Field(pattern=r"^https?://[^\s/]+")
    region: str = "us-east-1"
    confirm: bool = False
    """An AWS host as `url` (*.amazonaws.com, *.amazonaws.com.cn, *.api.aws) is real AWS: it needs this or --allow-aws (harness/safety/aws_guard.py)."""


class AwsTarget(Spec):
    """Real Amazon DynamoDB: needs `confirm: true` or `--allow-aws`."""

    kind: Literal["aws"]
    region: str
    profile: str | None = None
    confirm: bool = False


Target = Annotated[Union[LocalTarget, EndpointTarget, AwsTarget], Field(discriminator="kind")]


# ---- client -------------------------------------------------------------------------------


class RetrySettings(Spec):
    """botocore retry policy; every throttled attempt is counted whatever it is."""

    mode: Literal["standard", "adaptive", "legacy"] = "standard"
    max_attempts: int = Field(3, ge=1, le=20)


class ClientSettings(Spec):
    """How the per-process boto3 client talks to the target."""

    kind: Literal["boto3", "fast"] = "fast"
    """fast: botocore-identical requests at a sixth of boto3's CPU (harness/fastpath, bench/README.md); boto3: the plain client."""
    retries: RetrySettings = RetrySettings()
    connect_timeout: float = Field(2.0, gt=0)
    read_timeout: float = Field(10.0, gt=0)
    max_pool_connections: int | None = Field(None, ge=1)


# ---- tables and datasets ------------------------------------------------------------------


class KeySchema(Spec):
    """Partition (hash) key and optional sort (range) key attribute names."""

    hash: str
    range: str | None = None

    def names(self) -> tuple[str, ...]:
        """The key attribute names, hash first."""
        return (self.hash,) if self.range is None else (self.hash, self.range)


class Capacity(Spec):
    """Provisioned read and write capacity units."""

    read: int = Field(ge=1)
    write: int = Field(ge=1)


class CapacityChange(Capacity):
    """A step of a table's capacity_schedule: UpdateTable to these units `after` the table is ready."""

    after: Union[str, int]
    gsis: dict[str, Capacity] = {}
    """New capacity of some GSIs in the same UpdateTable (the others keep theirs)."""

    @field_validator("after", mode="before")
    @classmethod
    def _after_parses(cls, value: str | int) -> str | int:
        parse_duration(value)
        return value

    @property
    def after_seconds(self) -> int:
        """Seconds after the table is ready."""
        return parse_duration(self.after)


class Projection(Spec):
    """Which attributes a GSI carries."""

    type: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    non_key_attributes: Annotated[tuple[str, ...], FromList] = ()

    @model_validator(mode="after")
    def _include_lists_attributes(self) -> Projection:
        if (self.type == "INCLUDE") != bool(self.non_key_attributes):
            raise ValueError("non_key_attributes is required with type INCLUDE and only allowed with it")
        return self


class GsiSpec(Spec):
    """A global secondary index."""

    name: str = Field(pattern=TABLE_NAME_PATTERN)
    key: KeySchema
    projection: Projection = Projection()
    capacity: Capacity | None = None


class LsiSpec(Spec):
    """A local secondary index: the table's partition key with another sort key (`range`); it shares the table's capacity."""

    name: str = Field(pattern=TABLE_NAME_PATTERN)
    range: str
    projection: Projection = Projection()

    def key(self, table_key: KeySchema) -> KeySchema:
        """The index's key schema: the table's partition key and this index's sort key."""
        return KeySchema(hash=table_key.hash, range=self.range)


LoadPolicy = Literal["auto", "always", "never"]


class DatasetBase(Spec):
    """Common dataset fields. `load: auto` loads when this run created the table."""

    size: int = Field(1000, ge=0)
    seed: int = 0
    load: LoadPolicy = "auto"

    def attribute_types(self) -> dict[str, str]:
        """Every attribute the model's items may carry, with its DynamoDB type (S, N, B, BOOL...)."""
        return dict(self.ATTRIBUTE_TYPES)  # type: ignore[attr-defined]


class OrdersDataset(DatasetBase):
    """Orders of the PartiQL workload: pk ACCOUNT#..#CUSTOMER#.., sk STATUS#..#ORDER#<uuid>."""

    model: Literal["orders"]
    ATTRIBUTE_TYPES: ClassVar[dict[str, str]] = {
        "pk": "S", "sk": "S", "zipcode": "N", "username": "S", "datetime": "S", "status": "S", "amount": "N",
    }  # fmt: skip
    """Every attribute an order item carries and its DynamoDB type."""
    seed: int = 1
    accounts: int = Field(50, ge=1)
    customers: int = Field(50, ge=1)


class RingDataset(DatasetBase):
    """Round-trip chain: each item names the key of the next; one cycle through all items."""

    model: Literal["ring"]
    ATTRIBUTE_TYPES: ClassVar[dict[str, str]] = {"primary_key": "S", "next_primary_key": "S"}
    """Every attribute a ring item carries and its DynamoDB type."""
    size: int = Field(200, ge=2)


class LogfileDataset(DatasetBase):
    """The workshop's web log, synthetic or imported from its CSV format (`source`)."""

    model: Literal["logfile"]
    ATTRIBUTE_TYPES: ClassVar[dict[str, str]] = {
        "requestid": "N", "host": "S", "date": "S", "hourofday": "N", "timezone": "S", "method": "S", "url": "S",
        "responsecode": "N", "bytessent": "N", "useragent": "S", "GSI_1_PK": "S", "GSI_1_SK": "S",
    }  # fmt: skip
    """Every attribute a log item carries and its DynamoDB type."""
    size: int = Field(10_000, ge=0)
    seed: int = 4
    shards: int = Field(10, ge=1)
    source: str | None = None


class TemplateDataset(TemplateDatasetSpec, DatasetBase):
    """The user's own items described in YAML: entities of generated, child or file-fed items (harness/scenario/template.py)."""

    model: Literal["template"]


Dataset = Annotated[Union[OrdersDataset, RingDataset, LogfileDataset, TemplateDataset], Field(discriminator="model")]


class TableSpec(Spec):
    """One table: keys, GSIs, billing and the dataset loaded into it."""

    name: str = Field(pattern=TABLE_NAME_PATTERN)
    attributes: dict[str, AttributeType]
    key: KeySchema
    gsis: Annotated[tuple[GsiSpec, ...], FromList] = ()
    lsis: Annotated[tuple[LsiSpec, ...], FromList] = ()
    """Local secondary indexes (a table with a sort key only; at most 5, made with the table)."""
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    capacity: Capacity | None = None
    recreate: bool = False
    dataset: Dataset | None = None
    capacity_schedule: Annotated[tuple[CapacityChange, ...], FromList] = ()
    """Provisioned capacity changes during the run, e.g. [{after: 60s, read: 100, write: 100}] (harness/target/capacity_schedule.py)."""

    def gsi(self, name: str) -> GsiSpec | None:
        """The GSI called `name`, or None."""
        return next((index for index in self.gsis if index.name == name), None)

    def lsi(self, name: str) -> LsiSpec | None:
        """The LSI called `name`, or None."""
        return next((index for index in self.lsis if index.name == name), None)

    def index_key(self, name: str) -> KeySchema | None:
        """The key schema of the GSI or LSI called `name`, or None when the table has no such index."""
        gsi, lsi = self.gsi(name), self.lsi(name)
        return gsi.key if gsi is not None else lsi.key(self.key) if lsi is not None else None

    def index_names(self) -> list[str]:
        """Every secondary index's name, GSIs first."""
        return [index.name for index in self.gsis] + [index.name for index in self.lsis]


# ---- workload and load --------------------------------------------------------------------


class StepBase(Spec):
    """Fields every workload step has: the table it targets and its weight in the mix."""

    table: str
    weight: int = Field(1, ge=1)
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:#\-]+$")

    @property
    def step_name(self) -> str:
        """The logical step name in the stats: `name`, else the task name."""
        return self.name or self.task  # type: ignore[attr-defined]


class PartiqlInsertOrderStep(StepBase):
    """ExecuteStatement INSERT of a new order with `?` parameters."""

    task: Literal["partiql_insert_order"]


class WalkRingStep(StepBase):
    """GetItem after GetItem along the ring; `steps` per task run (default: one full lap)."""

    task: Literal["walk_ring"]
    steps: int | None = Field(None, ge=1)


class ParallelScanStep(StepBase):
    """Scan with Segment/TotalSegments, one worker per segment, optional filter and sum."""

    task: Literal["parallel_scan"]
    segments: int = Field(4, ge=1, le=MAX_TOTAL_SEGMENTS)
    page_limit: int = Field(1000, ge=1)
    filter: str | None = None
    values: dict[str, Union[str, int, float]] | None = None
    sum: str | None = None
    index: str | None = None
    split_across_workers: bool = False
    """In a distributed run, each worker scans only its share of the segments (round-robin)."""


class ShardedGsiQueryStep(StepBase):
    """Query fanned out over shard keys shard#1..shard#N of a write-sharded GSI."""

    task: Literal["sharded_gsi_query"]
    index: str
    shards: int | None = Field(None, ge=1)
    shard_prefix: str = "shard#"
    sort_prefix: str = ""


Step = Annotated[
    Union[PartiqlInsertOrderStep, WalkRingStep, ParallelScanStep, ShardedGsiQueryStep, Operation, ChainStep],
    Field(discriminator="task"),
]
BUILT_IN_TASKS = ("partiql_insert_order", "walk_ring", "parallel_scan", "sharded_gsi_query")


class Workload(Spec):
    """The weighted mix of steps each simulated user picks from."""

    mix: Annotated[tuple[Step, ...], FromList] = Field(min_length=1)


class WaitTime(Spec):
    """Locust wait time between a user's tasks: exactly one of the three forms."""

    between: Annotated[tuple[float, float], FromList] | None = None
    constant: float | None = Field(None, ge=0)
    constant_throughput: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> WaitTime:
        chosen = [name for name in ("between", "constant", "constant_throughput") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(f"expected exactly one of between, constant, constant_throughput, found {chosen or 'none'}")
        if self.between is not None and not 0 <= self.between[0] <= self.between[1]:
            raise ValueError(f"between needs 0 <= min <= max, found {list(self.between)}")
        return self


class Stage(Spec):
    """One stage of a staged run: its length, and the users (pool size) and/or target rate during it.

    A stage without `rate` runs the closed model (users wait `wait_time` between tasks); `users`
    carries over from the stage before (the first stage starts from `load.users`).
    """

    duration: Union[str, int]
    users: int | None = Field(None, ge=1)
    rate: float | None = Field(None, gt=0)
    """Task executions per second of the whole run (all workers together) during this stage."""

    @field_validator("duration", mode="before")
    @classmethod
    def _duration_parses(cls, value: str | int) -> str | int:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _users_or_rate(self) -> Stage:
        if self.users is None and self.rate is None:
            raise ValueError("expected users or rate (or both) in a stage, found neither")
        return self

    @property
    def seconds(self) -> int:
        """The stage's length in seconds."""
        return parse_duration(self.duration)


class LoadSpec(Spec):
    """How many users, how fast they arrive, for how long.

    Closed model (default): `users` users each run a task, wait `wait_time`, and again. Open model
    (`rate`, or stages with a rate): tasks start on a schedule of `rate` per second (`arrivals`:
    evenly spaced or Poisson) and `users` is the pool serving it (the most tasks in flight).
    """

    users: int = Field(10, ge=1)
    spawn_rate: float = Field(10.0, gt=0)
    run_time: Union[str, int] = "30s"
    stop_timeout: Union[str, int] = "30s"
    """How long users may finish the task in flight when the run ends (its request is still counted)."""
    wait_time: WaitTime = WaitTime(constant=0.0)
    rate: float | None = Field(None, gt=0)
    """Target task executions per second for the whole run, all workers together (open model)."""
    arrivals: Literal["constant", "poisson"] = "constant"
    """How scheduled starts are spaced at the target rate: evenly, or as a Poisson process."""
    stages: Annotated[tuple[Stage, ...], FromList] = ()

    @model_validator(mode="before")
    @classmethod
    def _pool_ready_at_once(cls, data: object) -> object:
        """An open-model pool starts whole within a second unless spawn_rate says otherwise."""
        if isinstance(data, dict) and "spawn_rate" not in data and _has_rate(data):
            users = [data.get("users")] + [stage.get("users") for stage in data.get("stages") or () if isinstance(stage, dict)]
            largest = max((value for value in users if isinstance(value, int) and not isinstance(value, bool)), default=10)
            return {**data, "spawn_rate": float(max(largest, 10))}
        return data

    @field_validator("run_time", "stop_timeout", mode="before")
    @classmethod
    def _run_time_parses(cls, value: str | int) -> str | int:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _rate_or_stages(self) -> LoadSpec:
        if self.stages and self.rate is not None:
            raise ValueError("expected rate in each stage when stages are given, found load.rate as well")
        if self.stages and "run_time" in self.model_fields_set:
            raise ValueError("expected the run time from the stages' durations, found run_time as well")
        return self

    @property
    def run_seconds(self) -> int:
        """The run time in seconds (with stages: their durations added up)."""
        if self.stages:
            return sum(stage.seconds for stage in self.stages)
        return parse_duration(self.run_time)

    @property
    def is_open(self) -> bool:
        """True when tasks start on a schedule at a target rate (in the whole run or in some stage)."""
        return self.rate is not None or any(stage.rate is not None for stage in self.stages)


def _has_rate(data: dict) -> bool:
    """A raw load section that sets a rate somewhere."""
    stages = data.get("stages") if isinstance(data.get("stages"), list) else []
    return data.get("rate") is not None or any(isinstance(stage, dict) and stage.get("rate") is not None for stage in stages)


# Threshold limits: latency in milliseconds, ratios of the step's requests (0..1).
THRESHOLD_LIMITS = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99_9_ms", "error_ratio", "throttle_ratio")


class Threshold(Spec):
    """A limit the run must keep for CI, on one step's DynamoDB operation row or on every step ("*").

    error_ratio counts every failed request (throttled included); throttle_ratio only the requests
    that failed on throttling after the SDK's retries. A broken threshold makes `ddb-harness run` exit 3.
    """

    step: str
    p50_ms: float | None = Field(None, gt=0)
    p90_ms: float | None = Field(None, gt=0)
    p95_ms: float | None = Field(None, gt=0)
    p99_ms: float | None = Field(None, gt=0)
    p99_9_ms: float | None = Field(None, gt=0)
    error_ratio: float | None = Field(None, ge=0, le=1)
    throttle_ratio: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _has_a_limit(self) -> Threshold:
        if not self.limits():
            raise ValueError(f"expected at least one limit ({', '.join(THRESHOLD_LIMITS)}), found none")
        return self

    def limits(self) -> dict[str, float]:
        """The limits set, by name, in THRESHOLD_LIMITS order."""
        return {name: getattr(self, name) for name in THRESHOLD_LIMITS if getattr(self, name) is not None}


class Scenario(Spec):
    """Everything about one run."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    target: Target = LocalTarget()
    client: ClientSettings = ClientSettings()
    tables: Annotated[tuple[TableSpec, ...], FromList] = Field(min_length=1)
    workload: Workload
    load: LoadSpec = LoadSpec()
    thresholds: Annotated[tuple[Threshold, ...], FromList] = ()

    def table(self, name: str) -> TableSpec:
        """The table spec called `name` (KeyError if the scenario has none)."""
        return next(table for table in self.tables if table.name == name)


# ---- loading and error messages -----------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and cross-check a scenario file; BadInput with one line on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read scenario: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: expected UTF-8 text, found byte {exc.object[exc.start]:#04x} at offset {exc.start}") from None
    return parse_scenario(text, source=path)


def parse_scenario(text: str, source: Path) -> Scenario:
    """Validate scenario YAML text; `source` names the file in errors and anchors relative paths."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadInput(f"{source}: {where}not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{source}: expected a mapping of scenario sections, found {_kind(data)}")
    data.setdefault("name", source.stem)
    _tag_operation_steps(data)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise BadInput(f"{source}: {_one_line(_describe(exc))}") from None
    scenario = _resolve_sources(scenario, source.parent)
    problem = cross_check(scenario)
    if problem:
        raise BadInput(f"{source}: {_one_line(problem)}")
    return scenario


def _tag_operation_steps(data: dict) -> None:
    """Mix entries written with `op:` or `chain:` get the `task` that places them in the one union of steps."""
    workload = data.get("workload")
    mix = workload.get("mix") if isinstance(workload, dict) else None
    for entry in mix if isinstance(mix, list) else ():
        if isinstance(entry, dict) and "task" not in entry:
            if "chain" in entry:
                entry["task"] = CHAIN_TASK
            elif "op" in entry:
                entry["task"] = OPERATION_TASK


def _one_line(text: str) -> str:
    """Escape line breaks and other unprintable characters a key name may carry: errors are one line."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _resolve_sources(scenario: Scenario, base: Path) -> Scenario:
    """Dataset CSV paths are relative to the scenario file."""
    tables = []
    for table in scenario.tables:
        dataset = table.dataset
        if isinstance(dataset, LogfileDataset) and dataset.source:
            absolute = str((base / dataset.source).resolve())
            table = table.model_copy(update={"dataset": dataset.model_copy(update={"source": absolute})})
        if isinstance(dataset, TemplateDataset):
            table = table.model_copy(update={"dataset": _resolve_entity_sources(dataset, base)})
        tables.append(table)
    return scenario.model_copy(update={"tables": tuple(tables)})


def _resolve_entity_sources(dataset: TemplateDataset, base: Path) -> TemplateDataset:
    """A template entity's source file is relative to the scenario file too."""
    entities = []
    for entity in dataset.entities:
        if entity.source is not None:
            source = entity.source.model_copy(update={"file": str((base / entity.source.file).resolve())})
            entity = entity.model_copy(update={"source": source})
        entities.append(entity)
    return dataset.model_copy(update={"entities": tuple(entities)})


def cross_check(scenario: Scenario) -> str | None:
    """The first rule that spans fields and is broken, as 'path: message', or None."""
    seen: set[str] = set()
    for i, table in enumerate(scenario.tables):
        problem = _check_table(table, f"tables[{i}]")
        if problem:
            return problem
        if table.name in seen:
            return f"tables[{i}].name: table {table.name!r} is declared twice"
        seen.add(table.name)
    names: set[str] = set()
    for i, step in enumerate(scenario.workload.mix):
        problem = _check_step(scenario, step, f"workload.mix[{i}]")
        if problem:
            return problem
        for name in _stats_names(step):
            if name in names:
                return f"workload.mix[{i}].name: step name {name!r} is used twice; give each step its own name"
            names.add(name)
    for i, threshold in enumerate(scenario.thresholds):
        if threshold.step != "*" and threshold.step not in names:
            return f"thresholds[{i}].step: expected '*' or a step name of workload.mix ({', '.join(sorted(names))}), found {threshold.step!r}"
    return None


def _check_table(table: TableSpec, path: str) -> str | None:
    """Keys exist and are typed, capacity matches the billing mode, dataset writes the keys."""
    keyed = [(f"{path}.key", table.key, table.capacity)] + [
        (f"{path}.gsis[{j}].key", index.key, index.capacity) for j, index in enumerate(table.gsis)
    ]
    used: set[str] = set()
    for key_path, key, capacity in keyed:
        for name in key.names():
            if name not in table.attributes:
                return f"{key_path}: key attribute {name!r} is not in {path}.attributes ({', '.join(table.attributes)})"
            used.add(name)
        provisioned = table.billing_mode == "PROVISIONED"
        capacity_path = key_path.rsplit(".", 1)[0] + ".capacity"
        if provisioned and capacity is None:
            return f"{capacity_path}: required with billing_mode PROVISIONED (read and write units)"
        if not provisioned and capacity is not None:
            return f"{capacity_path}: not allowed with billing_mode PAY_PER_REQUEST (remove it or use PROVISIONED)"
    problem = _check_lsis(table, path, used)
    if problem:
        return problem
    unused = [name for name in table.attributes if name not in used]
    if unused:
        return f"{path}.attributes: {', '.join(unused)} not used by any key (DynamoDB only accepts key attributes here)"
    names = table.index_names()
    if len(set(names)) != len(names):
        return f"{path}.gsis: index names must be unique across GSIs and LSIs, found {names}"
    problem = _check_capacity_schedule(table, path)
    if problem:
        return problem
    if table.dataset is not None:
        return _check_dataset_keys(table, path)
    return None


MAX_LSIS = 5  # DynamoDB's limit of local secondary indexes per table


def _check_lsis(table: TableSpec, path: str, used: set[str]) -> str | None:
    """LSIs need a table with a sort key, a declared sort key of their own, and at most 5 of them."""
    if table.lsis and table.key.range is None:
        return f"{path}.lsis: a local secondary index needs a table with a sort key (key.range), table {table.name!r} has none"
    if len(table.lsis) > MAX_LSIS:
        return f"{path}.lsis: expected at most {MAX_LSIS} local secondary indexes (DynamoDB's limit), found {len(table.lsis)}"
    for j, index in enumerate(table.lsis):
        if index.range not in table.attributes:
            return f"{path}.lsis[{j}].range: key attribute {index.range!r} is not in {path}.attributes ({', '.join(table.attributes)})"
        used.add(index.range)
    return None


def _check_capacity_schedule(table: TableSpec, path: str) -> str | None:
    """Changes of provisioned capacity, in time order, naming real GSIs."""
    if table.capacity_schedule and table.billing_mode != "PROVISIONED":
        return f"{path}.capacity_schedule: only allowed with billing_mode PROVISIONED, found {table.billing_mode}"
    previous = 0
    for k, change in enumerate(table.capacity_schedule):
        if change.after_seconds <= previous:
            return f"{path}.capacity_schedule[{k}].after: expected later than the step before ({previous} s), found {change.after!r}"
        previous = change.after_seconds
        for name in change.gsis:
            if table.gsi(name) is None:
                known = ", ".join(index.name for index in table.gsis) or "none"
                return f"{path}.capacity_schedule[{k}].gsis: table {table.name!r} has no index {name!r} (its GSIs: {known})"
    return None


def _check_dataset_keys(table: TableSpec, path: str) -> str | None:
    """Each key attribute must be one the dataset model writes, with the same type; a template writes the table's keys in every item."""
    written = table.dataset.attribute_types()
    if isinstance(table.dataset, TemplateDataset):
        problem = table.dataset.key_problem(table.key.names())
        if problem:
            return f"{path}.dataset.{problem}"
    for name, kind in table.attributes.items():
        if name not in written:
            return f"{path}.attributes.{name}: dataset model {table.dataset.model!r} writes no such attribute (it writes {', '.join(written)})"
        if written[name] != kind:
            return f"{path}.attributes.{name}: expected type {written[name]} (as model {table.dataset.model!r} writes it), found {kind}"
    return None


# Which dataset model each task needs to find its keys.
TASK_MODELS = {"partiql_insert_order": "orders", "walk_ring": "ring"}


def _stats_names(step: Step) -> list[str]:
    """The names a step's rows carry in the stats: its own, and each operation's of a chain."""
    if isinstance(step, ChainStep):
        return [step.step_name] + [operation.name for operation in step.chain]
    return [step.step_name]


def _check_step(scenario: Scenario, step: Step, path: str) -> str | None:
    """The step's table exists, has the data it needs, and names real indexes and shards."""
    if step.task in (OPERATION_TASK, CHAIN_TASK):
        return operation_checks.check_step(scenario, step, path)
    names = [table.name for table in scenario.tables]
    if step.table not in names:
        return f"{path}.table: expected one of the scenario's tables ({', '.join(names)}), found {step.table!r}"
    table = scenario.table(step.table)
    model = table.dataset.model if table.dataset else None
    needed = TASK_MODELS.get(step.task)
    if needed and model != needed:
        return f"{path}.task: {step.task} needs a table with dataset model {needed!r}, table {table.name!r} has {model!r}"
    index_name = getattr(step, "index", None)
    if index_name is not None and table.gsi(index_name) is None:
        known = ", ".join(index.name for index in table.gsis) or "none"
        return f"{path}.index: table {table.name!r} has no index {index_name!r} (its GSIs: {known})"
    if isinstance(step, ShardedGsiQueryStep):
        return _check_shards(table, step, path)
    if isinstance(step, ParallelScanStep) and step.sum and table.dataset is not None:
        return _check_sum_attribute(table, step, path)
    return None


def _check_sum_attribute(table: TableSpec, step: ParallelScanStep, path: str) -> str | None:
    """A scan summing an attribute its dataset never writes would silently sum nothing."""
    written = table.dataset.attribute_types()
    if written.get(step.sum) != "N":
        numbers = ", ".join(name for name, kind in written.items() if kind == "N")
        return f"{path}.sum: expected a number attribute that dataset model {table.dataset.model!r} writes ({numbers}), found {step.sum!r}"
    return None


def _check_shards(table: TableSpec, step: ShardedGsiQueryStep, path: str) -> str | None:
    """A sharded query must read exactly the shards the dataset writes, or it silently loses some."""
    if table.gsi(step.index).key.range is None:
        return f"{path}.index: {step.index!r} has no sort key to match sort_prefix against"
    written = table.dataset.shards if isinstance(table.dataset, LogfileDataset) else None
    if step.shards is None and written is None:
        return f"{path}.shards: required (the table's dataset does not say how many shards it writes)"
    if step.shards is not None and written is not None and step.shards != written:
        return f"{path}.shards: the dataset writes shards 1..{written}, the query would read 1..{step.shards}"
    return None


def stats_rows(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """(name, task or DynamoDB operation, table, index) of every step whose rows the stats carry,
    a chain's operations included; a chain or a transaction over several tables names the first."""
    rows = []
    for step in scenario.workload.mix:
        if isinstance(step, ChainStep):
            rows.append((step.name, "chain", step.tables()[0], ""))
            operations = step.chain
        elif step.task == OPERATION_TASK:
            operations = (step,)
        else:
            rows.append((step.step_name, step.task, step.table, getattr(step, "index", None) or ""))
            continue
        rows += [(operation.name, operation.op, operation.tables()[0], getattr(operation, "index", None) or "") for operation in operations]
    return rows


def max_fan_out(scenario: Scenario) -> int:
    """The most requests one user has in flight at once: scan segments or query shards run in parallel."""
    widest = 1
    for step in scenario.workload.mix:
        if isinstance(step, ParallelScanStep):
            widest = max(widest, step.segments)
        elif isinstance(step, ShardedGsiQueryStep):
            widest = max(widest, step_shards(scenario, step))
        else:
            operations = step.chain if isinstance(step, ChainStep) else (step,)
            widest = max([widest] + [getattr(operation, "segments", 1) for operation in operations])
    return widest


def step_shards(scenario: Scenario, step: ShardedGsiQueryStep) -> int:
    """The number of shards a sharded query reads: its own setting, else the dataset's."""
    if step.shards is not None:
        return step.shards
    return scenario.table(step.table).dataset.shards


# ---- pydantic errors to one line ----------------------------------------------------------

TAG_FIELDS = ("kind", "model", "task", "op")


@functools.cache
def _tags() -> frozenset[str]:
    """Every tag of the tagged unions: pydantic puts them in error locations, where they are not fields."""
    return frozenset(
        tag
        for union in (Target, Dataset, Step)
        for member in _unwrap(union)
        for field in TAG_FIELDS
        if field in member.model_fields
        for tag in typing.get_args(member.model_fields[field].annotation)
    )


def _describe(exc: ValidationError) -> str:
    """The first validation error as 'path: expected ..., found ...' plus how many others there are."""
    errors = exc.errors(include_url=False)
    errors = [error for error in errors if not _echo(error, errors)]
    first = errors[0]
    line = f"{_where(first)}: {_message(first)}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line


def _echo(error: dict, errors: list[dict]) -> bool:
    """pydantic counts only a list's valid items, so a list whose item failed is also 'too short'."""
    loc = error["loc"]
    return error["type"] == "too_short" and any(other["loc"][: len(loc)] == loc and other is not error for other in errors)


def _where(error: dict) -> str:
    """The field path of an error; a bad or missing tag names its own field (`target.kind`)."""
    path = _path(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return f"{path}.{_discriminator(error)}"
    return path


def _discriminator(error: dict) -> str:
    """The tag field of a tagged-union error: kind, model or task."""
    return error["ctx"]["discriminator"].strip("'")


def _path(loc: tuple) -> str:
    """('workload', 'mix', 2, 'walk_ring', 'weight') -> 'workload.mix[2].weight'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in _tags() and not str(part).startswith(("function-", "tagged-union", "union")):
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _message(error: dict) -> str:
    """A readable 'expected ..., found ...' for one pydantic error."""
    kind, found = error["type"], error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(error["loc"][:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key{hint}"
    if kind == "union_tag_not_found" and _discriminator(error) == "task":
        return "required field is missing (a step names an op:, a chain: or a built-in task:)"
    if kind in ("missing", "union_tag_not_found"):
        return "required field is missing"
    if kind == "union_tag_invalid" and _discriminator(error) == "task":
        tag = found.get("task") if isinstance(found, dict) else found
        expected = ", ".join(repr(task) for task in BUILT_IN_TASKS)
        return f"expected one of {expected}, found {_show(tag)} (or write op: or chain: for your own operations)"
    if kind == "union_tag_invalid":
        tag = found.get(_discriminator(error)) if isinstance(found, dict) else found
        return f"expected one of {error['ctx']['expected_tags']}, found {_show(tag)}"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "value_error" and "found" in message:
        return message  # our own validators already say what they found
    return f"{message[0].lower()}{message[1:]}, found {_show(found)}"


def _show(value: object) -> str:
    """A short rendering of an offending value."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    return "an empty file" if value is None else f"a {type(value).__name__}"


def _allowed_keys(loc: tuple) -> list[str]:
    """The field names of the model found by following `loc` from Scenario."""
    current: object = Scenario
    for part in loc:
        current = _step_into(current, part)
        if current is None:
            return []
    models = [candidate for candidate in _unwrap(current) if isinstance(candidate, type) and issubclass(candidate, BaseModel)]
    return list(models[0].model_fields) if len(models) == 1 else []  # one model, also when optional


def _step_into(annotation: object, part: object) -> object:
    """One step of _allowed_keys: a field of a model, an item of a tuple, a tagged union member."""
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            if isinstance(part, str) and part in candidate.model_fields:
                return candidate.model_fields[part].annotation
            if isinstance(part, str) and part in _tags():
                tagged = _union_member(annotation, part)
                if tagged is not None:
                    return tagged
        elif isinstance(part, int) and typing.get_origin(candidate) is tuple:
            return typing.get_args(candidate)[0]
    return None


def _unwrap(annotation: object) -> list[object]:
    """Strip Annotated/Optional/Union down to the concrete types."""
    if typing.get_origin(annotation) is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (Union, getattr(__import__("types"), "UnionType", Union)):
        return [item for arg in typing.get_args(annotation) for item in _unwrap(arg)]
    return [annotation]


def _union_member(annotation: object, tag: str) -> type | None:
    """The member of a tagged union whose discriminator value is `tag`."""
    for member in _unwrap(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for field in TAG_FIELDS:
                info = member.model_fields.get(field)
                if info is not None and tag in typing.get_args(info.annotation):
                    return member
    return None
