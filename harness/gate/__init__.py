"""Capacity emulation: a loopback server in front of DynamoDB Local that throttles as DynamoDB would.

No local DynamoDB throttles. The gate enforces each table's and GSI's capacity with DynamoDB's
rules (token buckets with burst, per-partition limits, on-demand limits; harness.gate.buckets)
and answers DynamoDB's own throttling errors. It runs as its own process, started next to the
embedded server (harness.run.session.open_target), and keeps the one set of buckets of the run. It
is a proxy (harness.gate.proxy) for any client, and the bank Locust processes lease tokens from
(harness.gate.leases) to decide their own requests and send them straight to DynamoDB Local
(harness.gate.in_process), which costs a run far less CPU than a proxy hop per request.

May import target (to start its process), fastpath, scenario and the shared leaves; never Locust.
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from harness.errors import BadInput
from harness.gate.buckets import BURST_SECONDS
from harness.target.local import LocalServer, free_port, spawn_server

GATE_KIND = "capacity-gate"


def start_gate(upstream: str, burst_seconds: float = BURST_SECONDS, log_dir: Path | None = None) -> LocalServer:
    """Start the gate in front of `upstream` on a free loopback port; stopped at exit or when this process dies."""
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="ddb-harness-gate-"))
    port = free_port()
    command = [sys.executable, "-m", "harness.gate", "--upstream", upstream, "--port", str(port), "--burst-seconds", f"{burst_seconds:g}"]
    return spawn_server(GATE_KIND, command, port, log_dir / f"{GATE_KIND}.log")


def gate_info(url: str, timeout: float = 10.0) -> dict:
    """`GET <url>/gate/info` of a running capacity gate: where its DynamoDB is. OSError or ValueError when it is not one."""
    with urllib.request.urlopen(url.rstrip("/") + "/gate/info", timeout=timeout) as answer:
        info = json.load(answer)
    if not isinstance(info, dict) or "upstream" not in info:
        raise ValueError("GET /gate/info gave no upstream")
    return info


def require_gate(url: str, timeout: float = 10.0) -> dict:
    """gate_info, or BadInput when `url` is not a reachable capacity gate (checked before a run starts)."""
    try:
        return gate_info(url, timeout)
    except (OSError, ValueError) as exc:
        raise BadInput(f"--capacity-gate: {url} is not a reachable capacity gate (GET /gate/info: {exc})") from None
