"""Tiny DynamoDB endpoints for tests: a GetItem ring stub (fixed delay, injected throttles) and a counting proxy.

Both are threaded HTTP servers on 127.0.0.1, port 0, speaking DynamoDB's JSON protocol
(application/x-amz-json-1.0 plus the x-amz-crc32 header botocore checks).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CONTENT_TYPE = "application/x-amz-json-1.0"
THROTTLE_TYPE = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
THROTTLE_REASON = "TableReadProvisionedThroughputExceeded"


class _Server:
    """Start/stop of a ThreadingHTTPServer in a daemon thread; subclasses define `handle(handler)`."""

    def __enter__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def do_POST(self):
                owner.handle(self)

            def log_message(self, *_):
                pass

        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def read_request(handler) -> tuple[str, bytes]:
    """(DynamoDB operation from X-Amz-Target, raw body) of a request."""
    body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
    return handler.headers.get("X-Amz-Target", "").rpartition(".")[2], body


def send_json(handler, status: int, body: bytes) -> None:
    """A DynamoDB JSON answer with the CRC32 header botocore verifies."""
    handler.send_response(status)
    handler.send_header("Content-Type", CONTENT_TYPE)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("x-amz-crc32", str(zlib.crc32(body)))
    handler.send_header("x-amzn-RequestId", "stub")
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


class RingStub(_Server):
    """GetItem on ring tables: each answer names the next key; optional fixed delay per table and throttles.

    `delays` maps a table name to the seconds each of its answers is held back. With
    `throttle_every=k` the last `throttle_run` (default 1) of every k attempts, counted over all
    connections, are answered with HTTP 400 ProvisionedThroughputExceededException carrying
    ThrottlingReasons. `attempts` and `throttles_sent` count answers actually written;
    `held_ms[table]` lists how long each delayed answer was actually held (the delay asked plus the
    scheduler's oversleep).
    """

    def __init__(self, keys: list[str], delays: dict[str, float] | None = None, throttle_every: int = 0, throttle_run: int = 1):
        self.next_key = {key: keys[(position + 1) % len(keys)] for position, key in enumerate(keys)}
        self.delays = delays or {}
        self.throttle_every = throttle_every
        self.throttle_run = throttle_run
        self.received = 0
        self.held_ms: dict[str, list[float]] = {table: [] for table in self.delays}
        self.attempts = 0
        self.throttles_sent = 0

    def handle(self, handler) -> None:
        operation, raw = read_request(handler)
        body = json.loads(raw)
        table = body.get("TableName", "")
        with self.lock:
            self.received += 1
            throttle = bool(self.throttle_every) and (self.received - 1) % self.throttle_every >= self.throttle_every - self.throttle_run
        if self.delays.get(table):
            start = time.perf_counter()
            time.sleep(self.delays[table])
            self.held_ms[table].append((time.perf_counter() - start) * 1000)
        if throttle:
            send_json(handler, 400, self.throttle_body(table))
        elif operation == "GetItem":
            send_json(handler, 200, self.item_body(table, body["Key"]["primary_key"]["S"]))
        else:
            send_json(handler, 400, json.dumps({"__type": "com.amazon.coral.validate#ValidationException", "message": f"stub: no {operation}"}).encode())
        with self.lock:  # counted once the answer is written
            self.attempts += 1
            self.throttles_sent += int(throttle)

    def item_body(self, table: str, key: str) -> bytes:
        capacity = {"TableName": table, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}
        item = {"primary_key": {"S": key}, "next_primary_key": {"S": self.next_key[key]}}
        return json.dumps({"Item": item, "ConsumedCapacity": capacity}).encode()

    def throttle_body(self, table: str) -> bytes:
        reasons = [{"reason": THROTTLE_REASON, "resource": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"}]
        return json.dumps({"__type": THROTTLE_TYPE, "message": "stub: throughput exceeded", "ThrottlingReasons": reasons}).encode()


READ_OPERATIONS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class CapacityCountingProxy(_Server):
    """Forwards every request to `upstream` and totals the ConsumedCapacity of the answers it passes back.

    `units[(table, index, "read" | "write")]` sums CapacityUnits per table ("" index) and GSI, for
    the operations in `count_operations`; reads are GetItem/Query/Scan, everything else writes.
    """

    def __init__(self, upstream: str, count_operations: set[str]):
        self.upstream = urlsplit(upstream)
        self.count_operations = count_operations
        self.units: Counter = Counter()
        self.responses: Counter = Counter()
        self._connections = threading.local()  # one upstream keep-alive connection per client connection's thread

    def handle(self, handler) -> None:
        operation, raw = read_request(handler)
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in ("connection", "content-length")}
        try:
            response, body = self._forward(handler.path, raw, headers)
        except (OSError, http.client.HTTPException):  # a stale keep-alive connection: once more on a new one
            self._connections.current = None
            response, body = self._forward(handler.path, raw, headers)
        if operation in self.count_operations and response.status == 200:
            self._count(operation, json.loads(body).get("ConsumedCapacity"))
        send_json(handler, response.status, body)

    def _forward(self, path: str, raw: bytes, headers: dict):
        connection = getattr(self._connections, "current", None)
        if connection is None:
            connection = self._connections.current = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        connection.request("POST", path, body=raw, headers=headers)
        response = connection.getresponse()
        return response, response.read()

    def _count(self, operation: str, consumed) -> None:
        side = "read" if operation in READ_OPERATIONS else "write"
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        with self.lock:
            self.responses[operation] += 1
            for entry in entries:
                table = entry["TableName"]
                self.units[(table, "", side)] += entry.get("Table", {}).get("CapacityUnits", 0.0)
                for index, units in entry.get("GlobalSecondaryIndexes", {}).items():
                    self.units[(table, index, side)] += units["CapacityUnits"]
