"""How many worker processes and machines a target request rate needs, from measured CPU per request.

The costs are what one worker process spends per request on one core (Locust, the harness's
timing path and metrics hooks, 8 users, against bench/null_endpoint.py so the server costs the
worker nothing): `.venv/bin/python -m bench.run --targets null`, drivers b8 (boto3) and c8 (fast
path); bench/README.md has the runs. A scenario's mix is weighed by how many requests each task
run makes; operations that were not measured are costed as the closest one that was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.scenario import ChainStep, ParallelScanStep, PartiqlInsertOrderStep, Scenario, ShardedGsiQueryStep, WalkRingStep, step_shards

CPU_US_PER_REQUEST = {
    "boto3": {"GetItem": 870.0, "PutItem": 740.0, "Query": 1026.0, "BatchWriteItem": 1280.0, "ExecuteStatement": 849.0},
    "fast": {"GetItem": 116.0, "PutItem": 116.0, "Query": 136.0, "BatchWriteItem": 261.0, "ExecuteStatement": 125.0},
}
"""Worker CPU microseconds per request (Query: 10 items returned; BatchWriteItem: 25 puts), medians of 3 runs,
bench/results/request-path-20261207T071353Z.json (2 vCPU AMD EPYC; a busy machine, load average 8-17)."""
COSTED_AS = {
    "UpdateItem": "PutItem", "DeleteItem": "PutItem", "Scan": "Query", "BatchGetItem": "BatchWriteItem",
    "TransactGetItems": "Query", "TransactWriteItems": "BatchWriteItem", "BatchExecuteStatement": "BatchWriteItem",
}  # fmt: skip
"""Operations without a measurement of their own, and the measured one whose cost stands in."""
MASTER_CPU_MS_PER_REPORT = 1.07
"""The Locust master's CPU per worker report (every 3 s per worker), 100 workers of 20 operations at 5 req/s each: bench/master_scaling.py."""
REPORT_INTERVAL_S = 3.0
HEADROOM = 0.75
"""Plan each worker core at 75% busy: a saturated Locust process delays its own requests."""


@dataclass(frozen=True)
class MixShare:
    """One DynamoDB operation's share of the requests, and the CPU each costs a worker."""

    operation: str
    costed_as: str
    share: float
    cpu_us: float


@dataclass(frozen=True)
class Plan:
    """What a target rate needs."""

    rate: float
    client: str
    mix: tuple[MixShare, ...]
    cpu_us_per_request: float
    cores: float
    workers: int
    machines: int
    master_core_share: float

    def lines(self) -> list[str]:
        """The plan as `ddb-harness plan` prints it."""
        lines = [f"{'operation':<22} {'share':>6} {'costed as':<16} {'worker CPU µs/req':>18}"]
        lines += [f"{item.operation:<22} {item.share:>6.1%} {item.costed_as:<16} {item.cpu_us:>18,.0f}" for item in self.mix]
        lines += [
            f"mix: {self.cpu_us_per_request:,.0f} µs of worker CPU per request with client kind {self.client} "
            f"({1e6 / self.cpu_us_per_request:,.0f} req/s per fully busy core)",
            f"{self.rate:,.0f} req/s needs {self.cores:,.1f} cores at {HEADROOM:.0%} busy: {self.workers} worker process{'es' if self.workers != 1 else ''} "
            f"(one per core) on {self.machines} machine{'s' if self.machines != 1 else ''}",
            f"master: about {self.master_core_share:.1%} of one core for {self.workers} workers' reports"
            + (" (more than one core: split the load over several runs)" if self.master_core_share > 1 else ""),
        ]
        return lines


def requests_per_run(scenario: Scenario, step) -> dict[str, float]:
    """DynamoDB requests one run of a mix step makes, per operation (a scan: one page per segment at least)."""
    if isinstance(step, ChainStep):
        counts: dict[str, float] = {}
        for operation in step.chain:
            counts[operation.op] = counts.get(operation.op, 0.0) + operation.repeat * step.repeat
        return counts
    if isinstance(step, WalkRingStep):
        return {"GetItem": float(step.steps or scenario.table(step.table).dataset.size)}
    if isinstance(step, PartiqlInsertOrderStep):
        return {"ExecuteStatement": 1.0}
    if isinstance(step, ParallelScanStep):
        return {"Scan": float(step.segments)}
    if isinstance(step, ShardedGsiQueryStep):
        return {"Query": float(step_shards(scenario, step))}
    return {step.op: float(getattr(step, "repeat", 1))}


def mix_shares(scenario: Scenario, client: str) -> tuple[MixShare, ...]:
    """Each operation's share of the scenario's requests (steps weighed by weight x requests per run)."""
    totals: dict[str, float] = {}
    for step in scenario.workload.mix:
        for operation, count in requests_per_run(scenario, step).items():
            totals[operation] = totals.get(operation, 0.0) + step.weight * count
    everything = sum(totals.values())
    costs = CPU_US_PER_REQUEST[client]
    shares = []
    for operation, count in sorted(totals.items(), key=lambda item: -item[1]):
        costed_as = operation if operation in costs else COSTED_AS.get(operation, "GetItem")
        shares.append(MixShare(operation, costed_as, count / everything, costs[costed_as]))
    return tuple(shares)


def plan(scenario: Scenario, rate: float, cores_per_machine: int) -> Plan:
    """Worker processes (one per core) and machines for `rate` requests/s of the scenario's mix."""
    client = "fast" if scenario.client.kind == "fast" else "boto3"
    mix = mix_shares(scenario, client)
    cpu_us = sum(item.share * item.cpu_us for item in mix)
    cores = rate * cpu_us / 1e6 / HEADROOM
    workers = max(1, math.ceil(cores))
    machines = math.ceil(workers / cores_per_machine)
    master = workers / REPORT_INTERVAL_S * MASTER_CPU_MS_PER_REPORT / 1000
    return Plan(rate, client, mix, cpu_us, cores, workers, machines, master)
