"""Shared fixtures: one real DynamoDB Local for the session, clients to it, scenario helpers."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import yaml

from harness.scenario import ClientSettings
from harness.target.client import Connection, make_client
from harness.target.local import start_local

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"


def _workshop_data() -> Path:
    """The DynamoDB workshop's CSV files (Apache-2.0), which some tests read: `$DDB_HARNESS_WORKSHOP_DATA`,
    else `shared/data/workshop` beside the checkout, else at /work/shared/data/workshop (so a clone in
    a temporary folder finds it too). Absent, the tests that read it fail with a missing-file error."""
    if "DDB_HARNESS_WORKSHOP_DATA" in os.environ:
        return Path(os.environ["DDB_HARNESS_WORKSHOP_DATA"])
    candidates = [REPO.parent / "shared" / "data" / "workshop", Path("/work/shared/data/workshop")]
    return next((path for path in candidates if path.is_dir()), candidates[0])


WORKSHOP_DATA = _workshop_data()


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory):
    """A real DynamoDB Local (in memory, free port) for the whole test session."""
    server = start_local(log_dir=tmp_path_factory.mktemp("dynamodb-local"))
    assert server.kind == "dynamodb-local", f"tests need DynamoDB Local (Java 17 + npm), got {server.kind}: {server.warnings}"
    yield server
    server.stop()


@pytest.fixture(scope="session")
def endpoint(dynamodb_local) -> str:
    """The HTTP endpoint of the session's DynamoDB Local."""
    return dynamodb_local.endpoint


@pytest.fixture
def client(endpoint):
    """A low-level boto3 DynamoDB client to the session's DynamoDB Local (dummy credentials)."""
    return make_client(Connection("us-east-1", endpoint), ClientSettings())


@pytest.fixture
def table_name() -> str:
    """A table name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


def scenario_data(name: str) -> dict:
    """A shipped scenario file as a dict, to modify in a test."""
    return yaml.safe_load((SCENARIOS / name).read_text())


def write_scenario(directory: Path, data: dict, filename: str = "scenario.yaml") -> Path:
    """Write a scenario dict as YAML and return its path."""
    path = directory / filename
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def insert_orders_scenario(directory: Path, table_name: str, loaded: int, write_units: int, run_time: str, max_attempts: int, wait: float, stop_timeout: str) -> Path:
    """A write-only scenario: 4 users doing PartiQL INSERTs of orders into a PROVISIONED table (5 RCU,
    `write_units` WCU) loaded with `loaded` orders, with `max_attempts` attempts per insert."""
    data = {
        "name": "insert-orders",
        "target": {"kind": "local"},
        "client": {"retries": {"mode": "legacy", "max_attempts": max_attempts}},
        "tables": [
            {
                "name": table_name,
                "attributes": {"pk": "S", "sk": "S"},
                "key": {"hash": "pk", "range": "sk"},
                "billing_mode": "PROVISIONED",
                "capacity": {"read": 5, "write": write_units},
                "dataset": {"model": "orders", "size": loaded, "seed": 1},
            }
        ],
        "workload": {"mix": [{"task": "partiql_insert_order", "table": table_name}]},
        "load": {"users": 4, "spawn_rate": 100, "run_time": run_time, "stop_timeout": stop_timeout, "wait_time": {"constant": wait}},
    }
    return write_scenario(directory, data)
