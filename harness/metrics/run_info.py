"""harness_run.json: what was run, where, when, with which retry policy and tables. Never credentials."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from harness import __version__
from harness.scenario import Scenario, TableSpec
from harness.target.client import Connection


def run_info(scenario: Scenario, connection: Connection, start_time: float | None, end_time: float | None, workers: int) -> dict:
    """The run's metadata as a JSON-ready dict (the keys harness.metrics.results_files documents for HARNESS_RUN)."""
    retries = scenario.client.retries
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "target": {"kind": scenario.target.kind, "region": connection.region, "endpoint_url": _without_userinfo(connection.endpoint_url)},
        "start_time": start_time,
        "end_time": end_time,
        "retries": {"mode": retries.mode, "max_attempts": retries.max_attempts},
        "tables": [table_info(table) for table in scenario.tables],
        "workers": workers,
        "versions": {"harness": __version__, "locust": _version_of("locust"), "boto3": _version_of("boto3"), "botocore": _version_of("botocore")},
    }


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
