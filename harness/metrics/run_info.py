"""harness_run.json: what was run, where, when, with which retry policy and tables. Never credentials."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from harness import __version__
from harness.scenario import Scenario, TableSpec
from harness.target.client import Connection

EMBEDDED, ENDPOINT, AWS = "embedded", "endpoint", "aws"
"""Target kinds as used: the DynamoDB Local the harness started, an endpoint it was pointed at, real AWS."""
HTTPS_PORT, HTTP_PORT = 443, 80


def run_info(scenario: Scenario, connection: Connection, start_time: float | None, end_time: float | None, workers: int, embedded: bool = False) -> dict:
    """The run's metadata as a JSON-ready dict (the keys harness.metrics.results_files documents for HARNESS_RUN)."""
    retries = scenario.client.retries
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "target": target_used(scenario, connection, embedded),
        "start_time": start_time,
        "end_time": end_time,
        "retries": {"mode": retries.mode, "max_attempts": retries.max_attempts},
        "tables": [table_info(table) for table in scenario.tables],
        "workers": workers,
        "versions": {"harness": __version__, "locust": _version_of("locust"), "boto3": _version_of("boto3"), "botocore": _version_of("botocore")},
    }


def target_used(scenario: Scenario, connection: Connection, embedded: bool = False) -> dict:
    """What requests went to: kind as used (embedded / endpoint / aws), region, endpoint host and port; never credentials.

    `embedded`: the endpoint is the DynamoDB Local the harness started for this run. A real-AWS
    connection without an endpoint URL goes to dynamodb.<region>.amazonaws.com:443.
    """
    url = _without_userinfo(connection.endpoint_url)
    kind = AWS if not connection.local_credentials else EMBEDDED if embedded else ENDPOINT
    host, port = _host_and_port(url) if url else (f"dynamodb.{connection.region}.amazonaws.com", HTTPS_PORT)
    return {
        "kind": kind,
        "scenario_kind": scenario.target.kind,
        "region": connection.region,
        "endpoint_url": url,
        "host": host,
        "port": port,
        "capacity_gate": connection.capacity_gate,
    }


def _host_and_port(url: str) -> tuple[str | None, int | None]:
    """Host and port of an endpoint URL (the scheme's default port when it names none)."""
    parts = urlsplit(url if "://" in url else "//" + url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname, port or (HTTPS_PORT if parts.scheme == "https" else HTTP_PORT)


def table_info(table: TableSpec) -> dict:
    """Name, billing mode, provisioned capacity (None on demand) and GSIs of one table."""
    return {
        "name": table.name,
        "billing_mode": table.billing_mode,
        "capacity": _capacity(table.capacity),
        "gsis": [{"name": gsi.name, "capacity": _capacity(gsi.capacity)} for gsi in table.gsis],
    }


def _capacity(capacity) -> dict | None:
    return None if capacity is None else {"read": capacity.read, "write": capacity.write}


def _without_userinfo(url: str | None) -> str | None:
    """The endpoint URL without any user:password@ part."""
    if not url:
        return url
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _version_of(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
