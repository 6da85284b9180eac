"""A worker's own count of the requests it sent, logged when it quits.

The master's totals are built from the workers' reports. Each worker's closing line is the second
book: in a distributed run (containers, Kubernetes, several machines) the master's request count
equals the sum of its workers' lines when no report was lost on the way.
"""

from __future__ import annotations

import logging

from harness.run.partition import Partition

log = logging.getLogger(__name__)


class WorkerTally:
    """Requests and failures this worker fired, counted from Locust's request events."""

    def __init__(self, partition: Partition) -> None:
        self.partition = partition
        self.requests = 0
        self.failures = 0

    def install(self, environment) -> None:
        """Count every request event; log the totals when the worker quits (after its last report)."""
        environment.events.request.add_listener(self._on_request)
        environment.events.quitting.add_listener(lambda **_: log.info("%s", self.describe()))

    def describe(self) -> str:
        """The closing line, e.g. 'worker 1 of 2 sent 4810 requests (0 failed)'."""
        return f"worker {self.partition.index} of {self.partition.count} sent {self.requests} requests ({self.failures} failed)"

    def _on_request(self, exception=None, **_) -> None:
        self.requests += 1
        if exception is not None:
            self.failures += 1
