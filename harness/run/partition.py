"""This process's share of the work in a distributed run, so workers split it instead of duplicating it.

The master tells each worker its position and the number of workers when a run starts (a
Locust custom message, sent before the spawn messages on the same socket). A standalone
process is worker 0 of 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

PARTITION_MESSAGE = "ddb_harness_partition"
GOLDEN_RATIO = 0.6180339887498949  # spreads consecutive user numbers evenly around a ring


@dataclass
class Partition:
    """Worker `index` of `count`."""

    index: int = 0
    count: int = 1

    def segments(self, total_segments: int) -> list[int]:
        """The scan segments this worker owns out of `total_segments` (round-robin)."""
        return [segment for segment in range(total_segments) if segment % self.count == self.index]

    def user_number(self, local_ordinal: int) -> int:
        """A number unique to one user across all workers."""
        return local_ordinal * self.count + self.index

    def ring_start(self, local_ordinal: int, ring_size: int) -> int:
        """Where a user starts walking a ring: users of every worker start at spread-out positions."""
        return int(((self.user_number(local_ordinal) * GOLDEN_RATIO) % 1.0) * ring_size)


def install(environment, partition: Partition) -> None:
    """Master: send every worker its partition when a run starts. Worker: receive it."""
    from locust.runners import MasterRunner, WorkerRunner  # only inside Locust: importing locust patches sockets

    runner = environment.runner
    if isinstance(runner, MasterRunner):
        environment.events.test_start.add_listener(lambda **_: _send_partitions(runner))
    elif isinstance(runner, WorkerRunner):
        runner.register_message(PARTITION_MESSAGE, lambda msg, **_: _receive(partition, msg.data))


def _send_partitions(runner) -> None:
    workers = sorted(runner.clients.values(), key=lambda worker: runner.get_worker_index(worker.id))
    for position, worker in enumerate(workers):
        runner.send_message(PARTITION_MESSAGE, {"index": position, "count": len(workers)}, client_id=worker.id)


def _receive(partition: Partition, data: dict) -> None:
    partition.index, partition.count = data["index"], data["count"]
    logging.getLogger(__name__).info("partition: worker %d of %d", partition.index, partition.count)
