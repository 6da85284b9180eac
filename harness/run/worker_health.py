"""The master's record of its workers: who connected, who reported last when, who went missing.

Written to harness_workers.json at the end of a distributed run, so a run that lost a worker says
so next to its numbers (Locust's master carries on without it).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


class WorkerHealth:
    """Connect and report times per worker id, kept by the master."""

    def __init__(self) -> None:
        self.connected: dict[str, float] = {}
        self.last_report: dict[str, float] = {}
        self.states_at_stop: dict[str, str] = {}

    def install(self, environment) -> None:
        """Listen to Locust's worker_connect, worker_report and test_stop events."""
        environment.events.worker_connect.add_listener(self._on_connect)
        environment.events.worker_report.add_listener(self._on_report)
        # At quit the master has already let its workers go: their states are read when the test stops.
        environment.events.test_stop.add_listener(lambda **_: self._remember_states(environment.runner))

    def _remember_states(self, runner) -> None:
        self.states_at_stop = {client_id: self._state(runner, client_id) for client_id in self.connected}

    @staticmethod
    def _state(runner, client_id: str) -> str:
        node = runner.clients.get(client_id)
        return node.state if node is not None else "lost"

    def _on_connect(self, client_id: str, **_) -> None:
        self.connected.setdefault(client_id, time.time())

    def _on_report(self, client_id: str, data: dict, **_) -> None:
        self.connected.setdefault(client_id, time.time())
        self.last_report[client_id] = time.time()

    def snapshot(self, runner) -> list[dict]:
        """One entry per worker ever seen: its last state ('missing' or 'lost' when it vanished)."""
        entries = []
        for client_id, since in sorted(self.connected.items(), key=lambda item: item[1]):
            state = self.states_at_stop.get(client_id) or self._state(runner, client_id)
            entries.append({"id": client_id, "state": state, "connected_at": since, "last_report_at": self.last_report.get(client_id)})
        return entries

    def write(self, path: Path, runner) -> list[dict]:
        """Write harness_workers.json; log a warning for every worker that did not stay to the end."""
        entries = self.snapshot(runner)
        lost = [entry for entry in entries if entry["state"] in ("missing", "lost")]
        for entry in lost:
            log.warning("worker %s was lost during the run (last report at %s)", entry["id"], entry["last_report_at"])
        path.write_text(json.dumps({"workers": entries, "lost": len(lost)}, indent=2))
        return entries
