"""What was run: harness_run.json where the collector wrote it, else the scenario copy in the run folder.

harness_run.json (harness.metrics.run_info) knows the run window, the workers and the tables as
run; scenario.yaml knows the steps (which table and index each reads) and the thresholds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from harness.errors import BadInput
from harness.metrics import results_files as files
from harness.metrics.interruption import read_interruption
from harness.scenario import Scenario, Threshold, load_scenario, stats_rows

WORKERS_FILE = getattr(files, "HARNESS_WORKERS", "harness_workers.json")  # written by the master of a distributed run


@dataclass(frozen=True)
class Resource:
    """A table (index "") or one of its GSIs, with its billing mode and provisioned capacity (None on demand)."""

    table: str
    index: str
    billing_mode: str | None
    read: int | None = None
    write: int | None = None

    @property
    def label(self) -> str:
        """'orders' or 'tlog_scan / GSI_1'."""
        return f"{self.table} / {self.index}" if self.index else self.table

    @property
    def provisioned(self) -> bool:
        return self.billing_mode == "PROVISIONED"


@dataclass(frozen=True)
class Step:
    """A workload step: its stats name, task, and the table and index it reads or writes."""

    name: str
    task: str
    table: str
    index: str


@dataclass(frozen=True)
class Estimated:
    """Units of a table or GSI the target did not report, estimated by the harness (and included in its totals)."""

    table: str
    index: str
    read_units: float
    write_units: float


@dataclass(frozen=True)
class RunInfo:
    """The run's metadata; None where neither file says."""

    scenario: str | None = None
    region: str | None = None
    target_kind: str | None = None
    """As used: embedded / endpoint / aws (older runs: the scenario's kind)."""
    target_host: str | None = None
    target_port: int | None = None
    capacity_gate: bool | None = None
    start_time: float | None = None
    end_time: float | None = None
    workers: int | None = None
    lost_workers: int | None = None
    """Workers the master lost during the run (harness_workers.json), None when unknown."""
    interruption: dict | None = None
    """What stopped the run before its time (harness_interruption.json), None when it ran to its end."""
    retry_mode: str | None = None
    max_attempts: int | None = None
    resources: tuple[Resource, ...] = ()
    steps: tuple[Step, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    scenario_readable: bool = False
    """False when scenario.yaml is missing or does not validate: thresholds cannot be checked."""
    estimated: tuple[Estimated, ...] = ()

    def step(self, name: str) -> Step | None:
        """The step called `name`, or None."""
        return next((step for step in self.steps if step.name == name), None)

    def resource(self, table: str, index: str) -> Resource | None:
        """The table or GSI, or None when the run's metadata does not list it."""
        return next((item for item in self.resources if (item.table, item.index) == (table, index)), None)


def read_run_info(run_dir: Path, notes: list[str]) -> RunInfo:
    """Merge harness_run.json over scenario.yaml; problems with either become notes, never errors."""
    scenario = _read_scenario(run_dir / files.SCENARIO_COPY, notes)
    meta = _read_meta(run_dir / files.HARNESS_RUN, notes)
    info = _from_scenario(scenario) if scenario else RunInfo()
    interruption = read_interruption(run_dir)
    if not meta:
        return replace(info, interruption=interruption)
    workers_file = _read_json(run_dir / WORKERS_FILE) or {}
    retries = meta.get("retries") or {}
    target = meta.get("target") or {}
    return RunInfo(
        scenario=meta.get("scenario") or info.scenario,
        region=target.get("region") or info.region,
        target_kind=target.get("kind") or info.target_kind,
        target_host=target.get("host") if isinstance(target.get("host"), str) else None,
        target_port=target.get("port") if isinstance(target.get("port"), int) else None,
        capacity_gate=target.get("capacity_gate") if isinstance(target.get("capacity_gate"), bool) else None,
        start_time=_number(meta.get("start_time")),
        end_time=_number(meta.get("end_time")),
        workers=meta.get("workers"),
        lost_workers=workers_file.get("lost") if isinstance(workers_file.get("lost"), int) else None,
        interruption=interruption,
        retry_mode=retries.get("mode") or info.retry_mode,
        max_attempts=retries.get("max_attempts") or info.max_attempts,
        resources=_resources(meta["tables"]) if isinstance(meta.get("tables"), list) else info.resources,
        steps=info.steps,
        thresholds=info.thresholds,
        scenario_readable=info.scenario_readable,
        estimated=_estimated(meta.get("estimated_capacity")),
    )


def _estimated(rows) -> tuple[Estimated, ...]:
    """harness_run.json's estimated_capacity: [{table, index, read_units, write_units}]."""
    if not isinstance(rows, list):
        return ()
    found = []
    for row in rows:
        if isinstance(row, dict):
            found.append(Estimated(str(row.get("table", "")), str(row.get("index", "")), _number(row.get("read_units")) or 0.0, _number(row.get("write_units")) or 0.0))
    return tuple(found)


def _read_scenario(path: Path, notes: list[str]) -> Scenario | None:
    if not path.exists():
        notes.append(f"{files.SCENARIO_COPY} is missing: steps are not mapped to tables and no thresholds are checked")
        return None
    try:
        return load_scenario(path)
    except BadInput as exc:
        notes.append(f"{files.SCENARIO_COPY} does not validate ({exc}): thresholds are not checked")
        return None


def _read_meta(path: Path, notes: list[str]) -> dict | None:
    if not path.exists():
        notes.append(f"{files.HARNESS_RUN} is missing: the run window comes from Locust's numbers, tables and retries from {files.SCENARIO_COPY}")
        return None
    data = _read_json(path)
    if data is None:
        notes.append(f"{files.HARNESS_RUN} is not a JSON object: ignored")
    return data


def _read_json(path: Path) -> dict | None:
    """A JSON object file; None when it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _from_scenario(scenario: Scenario) -> RunInfo:
    resources = []
    for table in scenario.tables:
        resources.append(Resource(table.name, "", table.billing_mode, *_units(table.capacity)))
        resources += [Resource(table.name, gsi.name, table.billing_mode, *_units(gsi.capacity)) for gsi in table.gsis]
    steps = tuple(Step(*row) for row in stats_rows(scenario))
    return RunInfo(
        scenario=scenario.name,
        region=scenario.target.region,
        target_kind=scenario.target.kind,
        retry_mode=scenario.client.retries.mode,
        max_attempts=scenario.client.retries.max_attempts,
        resources=tuple(resources),
        steps=steps,
        thresholds=scenario.thresholds,
        scenario_readable=True,
    )


def _units(capacity) -> tuple[int | None, int | None]:
    return (None, None) if capacity is None else (capacity.read, capacity.write)


def _resources(tables: list) -> tuple[Resource, ...]:
    """harness_run.json's tables: [{name, billing_mode, capacity: {read, write} | null, gsis: [{name, capacity}]}]."""
    resources = []
    for table in tables:
        if not isinstance(table, dict):
            continue
        billing = table.get("billing_mode")
        resources.append(Resource(str(table.get("name", "")), "", billing, *_capacity(table.get("capacity"))))
        for gsi in table.get("gsis") or []:
            resources.append(Resource(str(table.get("name", "")), str(gsi.get("name", "")), billing, *_capacity(gsi.get("capacity"))))
    return tuple(resources)


def _capacity(capacity) -> tuple[int | None, int | None]:
    if not isinstance(capacity, dict):
        return None, None
    return capacity.get("read"), capacity.get("write")


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
