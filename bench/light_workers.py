"""Many light Locust workers in one process, for bench/master_scaling.py.

    .venv/bin/python -m bench.light_workers --master-port P --workers 25 --users 2 --rate 5 --url URL --scenario S --out F

Each worker is a real Locust `WorkerRunner` with its own Environment, its own fast-path client
and the harness's metrics hooks (harness.metrics.locust_hooks.install: a Recorder whose delta
rides on every report), so the master receives exactly what a `ddb-harness run --worker` sends.
Only the User differs: it cycles through 20 named operations (GetItem, Query, PutItem and
ExecuteStatement, 5 names each) against the null endpoint at a fixed rate, so 100 workers fit on
one machine and the master is what is measured. Every worker also keeps, apart from the harness,
what the bench checks the master against: requests per (type, name), each request's latency
(microseconds) and completion time, and the time and size of each report it sent.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import gevent
from locust import User, constant_throughput, task
from locust.env import Environment
from locust.event import Events
from locust.rpc import Message

from harness.metrics.latency import to_microseconds
from harness.metrics.locust_hooks import WIRE_KEY, install
from harness.run.partition import Partition
from harness.run.partition import install as install_partition
from harness.scenario import load_scenario
from harness.target.client import Connection, make_client

TABLE = "bench"
KEY = {"primary_key": {"S": "key#1"}}
NAMES_PER_OPERATION = 5


def _get(client):
    return client.get_item(TableName=TABLE, Key=KEY, ReturnConsumedCapacity="INDEXES")


def _query(client):
    return client.query(
        TableName=TABLE, KeyConditionExpression="primary_key = :k", ExpressionAttributeValues={":k": KEY["primary_key"]}, ReturnConsumedCapacity="INDEXES"
    )


def _put(client):
    return client.put_item(TableName=TABLE, Item={**KEY, "status": {"S": "NEW"}}, ReturnConsumedCapacity="INDEXES")


def _select(client):
    return client.execute_statement(Statement=f'SELECT * FROM "{TABLE}" WHERE primary_key = ?', Parameters=[KEY["primary_key"]], ReturnConsumedCapacity="INDEXES")


CALLS = {"GetItem": _get, "Query": _query, "PutItem": _put, "ExecuteStatement": _select}
OPERATIONS = [(kind, f"{kind.lower()}_{number:02d}") for kind in CALLS for number in range(NAMES_PER_OPERATION)]
"""20 stats rows per worker: (request_type, name)."""


class MixUser(User):
    """Named like the master's User class (locustfiles/scenario.py), so the master's spawn messages fit."""

    wait_time = constant_throughput(1)

    def on_start(self):
        self.position = hash(id(self)) % len(OPERATIONS)

    @task
    def step(self):
        kind, name = OPERATIONS[self.position]
        self.position = (self.position + 1) % len(OPERATIONS)
        start = time.perf_counter()
        exception = None
        try:
            CALLS[kind](self.environment.bench_client)
        except Exception as exc:  # counted as a failure, like the harness's own Users
            exception = exc
        self.environment.events.request.fire(
            request_type=kind, name=name, response_time=(time.perf_counter() - start) * 1000, response_length=0, exception=exception, context={}
        )


class WorkerLog:
    """What one worker did, kept apart from Locust and the harness: the bench's ground truth."""

    def __init__(self, client_id: str):
        self.client_id = client_id
        self.requests: dict[str, int] = {}
        self.latencies: dict[str, list[int]] = {}
        self.completions: list[float] = []
        self.reports: list[list] = []

    def on_request(self, request_type: str, name: str, response_time: float, **_) -> None:
        key = f"{request_type}|{name}"
        self.requests[key] = self.requests.get(key, 0) + 1
        self.latencies.setdefault(key, []).append(to_microseconds(response_time))
        self.completions.append(time.time())

    def on_report(self, client_id: str, data: dict, **_) -> None:
        """Registered after Locust's and the harness's listeners: sees the whole report as it is sent."""
        whole = len(Message("stats", data, client_id).serialize())
        harness = len(Message("stats", {WIRE_KEY: data[WIRE_KEY]}, client_id).serialize()) if WIRE_KEY in data else 0
        self.reports.append([time.time(), whole, harness, len(data.get("stats", []))])

    def to_json(self) -> dict:
        return {"client_id": self.client_id, "requests": self.requests, "latencies": self.latencies, "completions": self.completions, "reports": self.reports}


def start_worker(master_port: int, connection: Connection, client, scenario) -> tuple[object, WorkerLog]:
    """One WorkerRunner with its own client, the harness's metrics hooks and a WorkerLog."""
    environment = Environment(user_classes=[MixUser], events=Events(), stop_timeout=0)
    runner = environment.create_worker_runner("127.0.0.1", master_port)
    install_partition(environment, Partition())  # the master tells each worker its place in the run
    environment.bench_client = client
    install(environment, runner, client, scenario, connection)
    log = WorkerLog(runner.client_id)
    environment.events.request.add_listener(log.on_request)
    environment.events.report_to_master.add_listener(log.on_report)
    return runner, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master-port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--users", type=int, default=2, help="users per worker (the master spawns them)")
    parser.add_argument("--rate", type=float, default=5.0, help="requests/s per worker")
    parser.add_argument("--url", required=True)
    parser.add_argument("--scenario", type=Path, required=True, help="its client settings are used (client kind: fast)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    MixUser.wait_time = constant_throughput(args.rate / args.users)
    scenario = load_scenario(args.scenario)
    connection = Connection(scenario.target.region, args.url)
    # Clients first (~60 ms of CPU each): once a runner exists, its heartbeats must not wait behind them.
    clients = [make_client(connection, scenario.client, pool=args.users + 2) for _ in range(args.workers)]
    for client in clients:  # and each one's first request of every kind (models, endpoints): not counted, no runner yet
        for call in CALLS.values():
            call(client)
    started = [start_worker(args.master_port, connection, client, scenario) for client in clients]
    for runner, _ in started:
        runner.greenlet.join()  # each ends on the master's quit, after its final report
    for runner, _ in started:
        runner.client.send(Message("quit", None, runner.client_id))
    gevent.sleep(0.2)
    for runner, _ in started:
        runner.client.close()
    args.out.write_text(json.dumps([log.to_json() for _, log in started]))


if __name__ == "__main__":
    main()
