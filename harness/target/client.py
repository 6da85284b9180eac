"""The boto3 DynamoDB client a process uses: one per process and target, never one per request."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import boto3
from botocore.config import Config

from harness import __version__
from harness.scenario import ClientSettings

USER_AGENT = f"ddb-harness/{__version__}"
# Local targets accept any credentials; these never leave the machine.
DUMMY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
DEFAULT_POOL = 50

_clients: dict[tuple, object] = {}  # the per-process client cache


@dataclass(frozen=True)
class Connection:
    """Where requests go: an endpoint URL (None means AWS's own), a region, and whose credentials."""

    region: str
    endpoint_url: str | None = None
    local_credentials: bool = True
    profile: str | None = None
    capacity_gate: bool = False
    """The endpoint is a capacity gate (harness.gate): Locust users decide in-process with leased tokens."""


def client_config(settings: ClientSettings, pool: int = DEFAULT_POOL) -> Config:
    """The botocore Config every client of the harness uses.

    An explicit user_agent saves botocore rebuilding the string on each call (~16% measured);
    the pool must hold one connection per concurrent user or urllib3 opens and drops extras;
    validation is off because the harness builds its own requests and it costs CPU per call.
    """
    return Config(
        user_agent=USER_AGENT,
        max_pool_connections=max(settings.max_pool_connections or pool, 1),
        parameter_validation=False,
        retries={"mode": settings.retries.mode, "total_max_attempts": settings.retries.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        tcp_keepalive=True,
    )


def make_client(connection: Connection, settings: ClientSettings, pool: int = DEFAULT_POOL):
    """A new low-level DynamoDB client for `connection` (creating one costs ~60 ms: cache it)."""
    session = boto3.session.Session(profile_name=connection.profile) if connection.profile else boto3.session.Session()
    credentials = DUMMY_CREDENTIALS if connection.local_credentials else {}
    client = session.client(
        "dynamodb",
        region_name=connection.region,
        endpoint_url=connection.endpoint_url,
        config=client_config(settings, pool),
        **credentials,
    )
    if settings.kind == "fast":
        return fast_client(client, session, connection, settings, pool)
    return client


def fast_client(boto_client, session, connection: Connection, settings: ClientSettings, pool: int = DEFAULT_POOL):
    """The fast path (harness/fastpath) in front of `boto_client`, which keeps the control plane."""
    from botocore.credentials import Credentials

    from harness.fastpath import FastDynamoDBClient, unsupported_reason

    reason = unsupported_reason(boto_client)
    if reason:
        logging.getLogger(__name__).warning("client kind fast is not used: %s; requests go through boto3", reason)
        return boto_client
    if connection.local_credentials:
        credentials = Credentials(DUMMY_CREDENTIALS["aws_access_key_id"], DUMMY_CREDENTIALS["aws_secret_access_key"])
    else:
        credentials = session.get_credentials()  # the object boto_client signs with: refreshes the same way
    return FastDynamoDBClient(
        boto_client, credentials, connection.region, connection.endpoint_url,
        pool_size=max(settings.max_pool_connections or pool, 1),
        connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
    )  # fmt: skip


def shared_client(connection: Connection, settings: ClientSettings, pool: int = DEFAULT_POOL, wrap: Callable | None = None):
    """The process's client for this connection and settings, created on first use.

    `wrap(client, endpoint_url)`, when given, is applied once to the new client and cached with it:
    Locust processes behind a capacity gate wrap theirs so requests are decided in the process
    with leased tokens (harness.gate.in_process.gated_client). The wrapper must be the same
    object on every call (a module-level function) to find the cached client again.
    """
    key = (connection, settings, pool, wrap)
    if key not in _clients:
        client = make_client(connection, settings, pool)
        _clients[key] = wrap(client, connection.endpoint_url) if wrap else client
    return _clients[key]
