"""Shared fixtures: one real DynamoDB Local for the session, clients to it, scenario helpers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from harness.client import Connection, make_client
from harness.local import start_local
from harness.scenario import ClientSettings

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
WORKSHOP_DATA = REPO.parent / "shared" / "data" / "workshop"


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
