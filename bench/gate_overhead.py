"""What the capacity gate costs: added latency per request and the most requests per second it passes.

    .venv/bin/python -m bench.gate_overhead [--seconds 10] [--requests 5000]

Four measurements, each direct and through the gate (bench/results/gate_overhead.json):

1. latency: one keep-alive connection sending GetItem one after another (raw HTTP, so the
   client's own cost is tiny): median and p99, and the gate's addition (through - direct);
2. max req/s against a fake upstream that answers instantly (so the gate, not DynamoDB Local,
   is what saturates): 2 load processes x 32 connections;
3. the same load against DynamoDB Local (what a run actually sees);
4. a 2-worker boto3 run: two processes in a tight boto3 GetItem loop (threads), direct vs gated.

Every GetItem reads a different key (per-partition limits must not throttle) of a table with
40,000 RCU (capacity must not throttle): the gate does all its work and refuses nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse
from zlib import crc32

RESULTS = Path(__file__).resolve().parent / "results" / "gate_overhead.json"
TABLE = "gate-bench"
KEYS = 10_000
ITEM = {"pk": {"S": "key#1"}, "payload": {"S": "x" * 200}}
HEADERS = (
    "Content-Type: application/x-amz-json-1.0\r\n"
    "X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
    "X-Amz-Date: 20250101T000000Z\r\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
)


def get_item_requests(url: str) -> list[bytes]:
    """Precomputed GetItem requests, one per key, asking ReturnConsumedCapacity=INDEXES as the harness does."""
    host = urlparse(url).netloc
    requests = []
    for n in range(KEYS):
        body = json.dumps({"TableName": TABLE, "Key": {"pk": {"S": f"key#{n}"}}, "ReturnConsumedCapacity": "INDEXES"}).encode()
        requests.append(f"POST / HTTP/1.1\r\nHost: {host}\r\n{HEADERS}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return requests


# ---- a fake upstream that answers at once ---------------------------------------------------


def _fake_answers() -> dict[bytes, bytes]:
    description = {
        "Table": {
            "TableName": TABLE,
            "TableArn": f"arn:aws:dynamodb:ddblocal:000000000000:table/{TABLE}",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 40000, "WriteCapacityUnits": 40000},
            "TableStatus": "ACTIVE",
        }
    }
    get = {"Item": ITEM, "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}}
    answers = {}
    for operation, body in ((b"DescribeTable", description), (b"GetItem", get), (b"", {})):
        data = json.dumps(body, separators=(",", ":")).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {len(data)}\r\nx-amzn-RequestId: FAKE\r\nx-amz-crc32: {crc32(data)}\r\n\r\n"
        answers[operation] = head.encode() + data
    return answers


class FakeUpstream(asyncio.Protocol):
    """Keep-alive HTTP/1.1: DescribeTable and GetItem answered from memory."""

    answers = _fake_answers()

    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            target = head.split(b"x-amz-target: dynamodb_20120810.", 1)[-1].split(b"\r\n", 1)[0]
            operation = b"DescribeTable" if target == b"describetable" else b"GetItem" if target == b"getitem" else b""
            self.transport.write(self.answers[operation])


def serve_fake(port: int) -> None:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(FakeUpstream, "127.0.0.1", port))
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop.run_forever()


# ---- load generators ------------------------------------------------------------------------


def _read_response(sock, buffer: bytearray) -> int:
    """Read one response with Content-Length from a raw socket; its status."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            break
        buffer += sock.recv(65536)
    head = bytes(buffer[:end])
    length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(buffer) < end + 4 + length:
        buffer += sock.recv(65536)
    del buffer[: end + 4 + length]
    return int(head.split(b" ", 2)[1])


def latency_run(url: str, count: int) -> list[float]:
    """Seconds per request, sequential on one keep-alive connection (after a warm-up)."""
    import socket

    address = urlparse(url)
    sock = socket.create_connection((address.hostname, address.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    requests, buffer, timings = get_item_requests(url), bytearray(), []
    for n in range(count + 500):
        started = time.perf_counter()
        sock.sendall(requests[n % KEYS])
        status = _read_response(sock, buffer)
        if status != 200:
            raise RuntimeError(f"status {status}")
        if n >= 500:
            timings.append(time.perf_counter() - started)
    sock.close()
    return timings


def load_process(url: str, connections: int, seconds: float) -> None:
    """(child) `connections` greenlets sending GetItem back to back for `seconds`; prints JSON counts."""
    from gevent import monkey

    monkey.patch_all()
    import socket

    import gevent

    address = urlparse(url)
    requests = get_item_requests(url)
    counts = {"ok": 0, "other": 0}
    deadline = time.monotonic() + seconds

    def one_connection(offset: int) -> None:
        sock = socket.create_connection((address.hostname, address.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer, n = bytearray(), offset
        while time.monotonic() < deadline:
            sock.sendall(requests[n % KEYS])
            counts["ok" if _read_response(sock, buffer) == 200 else "other"] += 1
            n += connections
        sock.close()

    started = time.monotonic()
    gevent.joinall([gevent.spawn(one_connection, offset * 97) for offset in range(connections)])
    print(json.dumps({**counts, "seconds": time.monotonic() - started}), flush=True)


def boto3_process(url: str, threads: int, seconds: float) -> None:
    """(child) a 'worker': `threads` threads sharing one boto3 client in a tight GetItem loop; prints JSON counts."""
    import threading

    from harness.scenario import ClientSettings
    from harness.target.client import Connection, make_client

    client = make_client(Connection("us-east-1", url), ClientSettings(), pool=threads)
    counts, lock = [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(offset: int) -> None:
        n = offset
        while time.monotonic() < deadline:
            client.get_item(TableName=TABLE, Key={"pk": {"S": f"key#{n % KEYS}"}}, ReturnConsumedCapacity="INDEXES")
            n += threads
            with lock:
                counts[0] += 1

    client.describe_table(TableName=TABLE)  # first call: connection and endpoint resolution
    started = time.monotonic()
    workers = [threading.Thread(target=loop, args=(offset * 97,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"ok": counts[0], "other": 0, "seconds": time.monotonic() - started}), flush=True)


def run_children(mode: str, url: str, processes: int, width: int, seconds: float) -> float:
    """Start `processes` load children at once; their summed requests per second."""
    command = [sys.executable, "-m", "bench.gate_overhead", f"--{mode}", url, "--width", str(width), "--seconds", str(seconds)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent) for _ in range(processes)]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]
    errors = sum(result["other"] for result in results)
    if errors:
        raise RuntimeError(f"{errors} non-200 answers under load at {url}")
    return sum(result["ok"] / result["seconds"] for result in results)


# ---- the benchmark --------------------------------------------------------------------------


def summary(timings: list[float]) -> dict:
    ordered = sorted(timings)
    return {"median_us": statistics.median(ordered) * 1e6, "p99_us": ordered[int(len(ordered) * 0.99)] * 1e6, "count": len(ordered)}


def prepare_local_table(url: str) -> None:
    from harness.scenario import ClientSettings
    from harness.target.client import Connection, make_client

    client = make_client(Connection("us-east-1", url), ClientSettings())
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 40000, "WriteCapacityUnits": 40000},
    )
    for n in range(0, KEYS, 25):
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {**ITEM, "pk": {"S": f"key#{k}"}}}} for k in range(n, n + 25)]})


def start_fake() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "bench.gate_overhead", "--fake-upstream"], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    port = int(process.stdout.readline().split()[1])
    return process, f"http://127.0.0.1:{port}"


def gate_cpu_seconds(gate) -> float:
    """CPU seconds (user + system) the gate process has used so far."""
    with open(f"/proc/{gate.process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--fake-upstream", action="store_true")
    parser.add_argument("--load")
    parser.add_argument("--boto3")
    parser.add_argument("--width", type=int, default=32)
    options = parser.parse_args()
    if options.fake_upstream:
        return serve_fake(0)
    if options.load:
        return load_process(options.load, options.width, options.seconds)
    if options.boto3:
        return boto3_process(options.boto3, options.width, options.seconds)

    from harness.gate import start_gate
    from harness.target.local import start_local

    local = start_local()
    fake, fake_url = start_fake()
    gate_local = start_gate(local.endpoint)
    gate_fake = start_gate(fake_url)
    results: dict = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    try:
        prepare_local_table(local.endpoint)
        for name, direct, gated in (("fake", fake_url, gate_fake.endpoint), ("dynamodb_local", local.endpoint, gate_local.endpoint)):
            direct_timings, gated_timings = latency_run(direct, options.requests), latency_run(gated, options.requests)
            results[f"latency_{name}"] = {
                "direct": summary(direct_timings),
                "gate": summary(gated_timings),
                "added_median_us": (statistics.median(gated_timings) - statistics.median(direct_timings)) * 1e6,
            }
            print(name, json.dumps(results[f"latency_{name}"]), flush=True)
        cpu_before = gate_cpu_seconds(gate_fake)
        results["max_rps_fake"] = {
            "direct": run_children("load", fake_url, 2, 32, options.seconds),
            "gate": run_children("load", gate_fake.endpoint, 2, 32, options.seconds),
        }
        results["max_rps_fake"]["gate_cpu_share"] = (gate_cpu_seconds(gate_fake) - cpu_before) / options.seconds
        print("max req/s (fake upstream)", json.dumps(results["max_rps_fake"]), flush=True)
        results["max_rps_dynamodb_local"] = {
            "direct": run_children("load", local.endpoint, 2, 32, options.seconds),
            "gate": run_children("load", gate_local.endpoint, 2, 32, options.seconds),
        }
        print("max req/s (DynamoDB Local)", json.dumps(results["max_rps_dynamodb_local"]), flush=True)
        results["boto3_two_workers"] = {
            "direct": run_children("boto3", local.endpoint, 2, 8, options.seconds),
            "gate": run_children("boto3", gate_local.endpoint, 2, 8, options.seconds),
        }
        print("2 boto3 workers req/s", json.dumps(results["boto3_two_workers"]), flush=True)
    finally:
        gate_fake.stop()
        gate_local.stop()
        fake.terminate()
        local.stop()
    results["load_average_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
