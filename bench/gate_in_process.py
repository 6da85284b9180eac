"""What the in-process capacity gate (leases) costs a Locust process per request: CPU µs per GetItem, gated vs direct.

    .venv/bin/python -m bench.gate_in_process            # ~1 min

One process, gevent-patched as a Locust worker is. A fresh DynamoDB Local with a 100-item table
(PROVISIONED 40,000 RCU, so nothing is refused) and a capacity gate in front of it
(`harness.gate.start_gate`). Two fast-path clients: one straight to DynamoDB Local, one with its
requests decided in this process with tokens leased from the gate (`shared_client(...,
wrap=gated_client)`, as Locust users get it). Each round runs both loops of N GetItems (keys spread
over the table, `ReturnConsumedCapacity=INDEXES` as the harness's operations ask) and measures
this process's CPU time (user + system) per request; the numbers are medians over rounds. Then
the gate's Python alone: `Gate.handle` with a canned DynamoDB answer instead of a socket.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit

from gevent import monkey

monkey.patch_all()

from harness.gate import start_gate  # noqa: E402
from harness.gate.buckets import CapacityModel  # noqa: E402
from harness.gate.in_process import close_all, gated_client  # noqa: E402
from harness.gate.leases import LeaseDesk, LeasedModel  # noqa: E402
from harness.gate.proxy import Gate, parse_head  # noqa: E402
from harness.scenario import ClientSettings  # noqa: E402
from harness.target.client import Connection, make_client, shared_client  # noqa: E402
from harness.target.local import start_local  # noqa: E402

TABLE = "bench-gate"
KEYS = 100


def get_loop(client, count: int) -> float:
    """CPU µs per GetItem over `count` calls."""
    started = time.process_time()
    for n in range(count):
        client.get_item(TableName=TABLE, Key={"k": {"S": str(n % KEYS)}}, ReturnConsumedCapacity="INDEXES")
    return (time.process_time() - started) / count * 1e6


def handle_alone(count: int) -> float:
    """µs per Gate.handle of one GetItem, DynamoDB Local's answer canned (no socket)."""
    answer = b'{"ConsumedCapacity":{"CapacityUnits":0.5,"Table":{"CapacityUnits":0.5},"TableName":"bench-gate"},"Item":{"k":{"S":"1"},"pad":{"S":"' + b"x" * 200 + b'"}}}'
    headers = {b"content-type": b"application/x-amz-json-1.0", b"x-amz-crc32": b"0", b"x-amzn-requestid": b"r", b"content-length": str(len(answer)).encode()}

    class Canned:
        url = "http://canned"

        def post(self, *_args, **_kwargs):
            return 200, headers, answer

    description = {"TableName": TABLE, "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "ProvisionedThroughput": {"ReadCapacityUnits": 40000, "WriteCapacityUnits": 1000}}
    shared = Gate(Canned(), CapacityModel())
    shared.learn(description)
    gate = Gate(Canned(), LeasedModel(LeaseDesk(shared, {}).exchange))
    gate.learn(description)
    head = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Date: 20261201T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/dynamodb/aws4_request, "
        b"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0\r\nContent-Length: 80"
    )
    bodies = [json.dumps({"TableName": TABLE, "Key": {"k": {"S": str(n)}}, "ReturnConsumedCapacity": "INDEXES"}).encode() for n in range(KEYS)]
    keys = iter(range(10**9))
    return timeit.timeit(lambda: gate.handle(parse_head(head)[1], bodies[next(keys) % KEYS]), number=count) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000, help="GetItems per loop")
    args = parser.parse_args()
    server = start_local()
    gate = start_gate(server.endpoint, burst_seconds=300)
    try:
        setup = make_client(Connection("us-east-1", server.endpoint), ClientSettings(kind="boto3"))
        setup.create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 40000, "WriteCapacityUnits": 1000},
        )  # fmt: skip
        for n in range(KEYS):
            setup.put_item(TableName=TABLE, Item={"k": {"S": str(n)}, "pad": {"S": "x" * 200}})
        settings = ClientSettings(kind="fast")
        clients = {
            "direct": make_client(Connection("us-east-1", server.endpoint), settings),
            "leases": shared_client(Connection("us-east-1", gate.endpoint, capacity_gate=True), settings, wrap=gated_client),
        }
        for client in clients.values():
            get_loop(client, 500)  # warm-up: connections, leases, DynamoDB Local's JIT
        cpu: dict[str, list[float]] = {name: [] for name in clients}
        for round_ in range(args.rounds):
            for name in list(clients) if round_ % 2 == 0 else list(reversed(clients)):
                cpu[name].append(get_loop(clients[name], args.requests))
            print(f"[round {round_ + 1}/{args.rounds}] " + ", ".join(f"{name} {values[-1]:.0f}" for name, values in cpu.items()), file=sys.stderr)
        close_all()
    finally:
        gate.stop()
        server.stop()
    alone = statistics.median(handle_alone(20000) for _ in range(3))
    direct, leases = statistics.median(cpu["direct"]), statistics.median(cpu["leases"])
    print("| client | CPU µs per GetItem (median of rounds) | rounds |")
    print("| --- | ---: | --- |")
    for name, value in (("direct", direct), ("leases", leases)):
        print(f"| {name} | {value:,.0f} | {', '.join(f'{v:.0f}' for v in cpu[name])} |")
    print(f"\nleases - direct: {leases - direct:+.0f} µs per request; Gate.handle alone (canned answer): {alone:.0f} µs")


if __name__ == "__main__":
    main()
