"""Capacity emulation: a loopback proxy in front of DynamoDB Local that throttles as DynamoDB would.

No local DynamoDB throttles. The gate enforces each table's and GSI's capacity with DynamoDB's
rules (token buckets with burst, per-partition limits, on-demand limits; harness.gate.buckets)
and answers DynamoDB's own throttling errors. It runs as its own process, started next to the
embedded server (harness.session.open_target), so every Locust worker shares its buckets and
it never takes CPU from the load generator.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from harness.gate.buckets import BURST_SECONDS
from harness.local import LocalServer, free_port, spawn_server

GATE_KIND = "capacity-gate"


def start_gate(upstream: str, burst_seconds: float = BURST_SECONDS, log_dir: Path | None = None) -> LocalServer:
    """Start the gate in front of `upstream` on a free loopback port; stopped at exit or when this process dies."""
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="ddb-harness-gate-"))
    port = free_port()
    command = [sys.executable, "-m", "harness.gate", "--upstream", upstream, "--port", str(port), "--burst-seconds", f"{burst_seconds:g}"]
    return spawn_server(GATE_KIND, command, port, log_dir / f"{GATE_KIND}.log")
