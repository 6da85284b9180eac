"""The capacity gate's HTTP side: a loopback proxy in front of DynamoDB Local that throttles as DynamoDB would.

One process (gevent, no monkey-patching) that every Locust worker talks to, so the buckets are
shared. Per request: learn the tables it touches (CreateTable answers seen passing through, else
one DescribeTable; UpdateTable makes it describe again), plan it (harness.gate.plans), ask the
bucket model (harness.gate.buckets) whether it may go, then either answer with DynamoDB's
throttling error without forwarding, or forward it (asking DynamoDB Local for
ReturnConsumedCapacity=INDEXES), charge what Local reports and hand the client the answer it
asked for. `GET /gate/stats` answers counters as JSON, `GET /gate/info` where DynamoDB Local is,
and `POST /gate/lease` is a Locust process's lease exchange (harness.gate.leases). The same Gate
runs inside Locust processes (harness.gate.in_process), there with leased buckets.
"""

from __future__ import annotations

import http
import json
import logging
import signal
import time
from collections import Counter
from urllib.parse import urlparse

import gevent
from gevent import socket
from gevent.event import Event
from gevent.server import StreamServer

from harness.gate import plans, wire
from harness.gate.buckets import CapacityModel, Throttle
from harness.gate.catalog import TableInfo, table_info
from harness.gate.leases import LeaseDesk

log = logging.getLogger(__name__)

STATS_PATH = b"/gate/stats"
INFO_PATH = b"/gate/info"
LEASE_PATH = b"/gate/lease"
# The gate's own DescribeTable for a table a lease names: DynamoDB Local reads only the key id (-sharedDb: any).
LEASE_DESCRIBE_HEADERS = {
    b"authorization": b"AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
    b"x-amz-date": b"20260101T000000Z",
}
TARGET_PREFIX = "DynamoDB_20120810."
# Request headers not passed on: the proxy sets its own framing and connection handling.
HOP_BY_HOP = {b"host", b"content-length", b"connection", b"keep-alive", b"transfer-encoding", b"expect", b"proxy-connection"}
RESPONSE_DROPPED = {b"content-length", b"connection", b"keep-alive", b"transfer-encoding"}
# Operations whose answers may carry ConsumedCapacity and that accept ReturnConsumedCapacity.
ASKS_CONSUMED = {
    "GetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
    "BatchWriteItem", "BatchGetItem", "TransactWriteItems", "TransactGetItems",
}  # fmt: skip
CHECK_FAILED = "ConditionalCheckFailedException"
RECV_BYTES = 65536
LISTEN_BACKLOG = 1024
SUMMARY_EVERY_SECONDS = 10.0

Headers = dict[bytes, bytes]  # lower-case names


# ---- HTTP/1.1 framing -----------------------------------------------------------------------


class Stream:
    """Buffered reads of HTTP/1.1 messages from one socket."""

    __slots__ = ("sock", "buffer")

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(RECV_BYTES)
        if not data:
            return False
        self.buffer += data
        return True

    def head(self) -> bytes | None:
        """The start line and headers of the next message; None when the peer closed between messages."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buffer[:end])
                del self.buffer[: end + 4]
                return head
            if not self._fill():
                if self.buffer:
                    raise ConnectionError("connection closed inside a message head")
                return None

    def exactly(self, size: int) -> bytes:
        """The next `size` bytes."""
        while len(self.buffer) < size:
            if not self._fill():
                raise ConnectionError("connection closed inside a message body")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def line(self) -> bytes:
        """The next CRLF-terminated line, without the CRLF."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                return line
            if not self._fill():
                raise ConnectionError("connection closed inside a chunked body")

    def chunked(self) -> bytes:
        """A chunked body, reassembled."""
        parts = []
        while True:
            size = int(self.line().split(b";", 1)[0], 16)
            if size == 0:
                while self.line():
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.exactly(size))
            self.exactly(2)

    def rest(self) -> bytes:
        """Everything until the peer closes (a body with neither length nor chunks)."""
        while self._fill():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def send_all(sock, data: bytes) -> None:
    """socket.sendall without gevent's getsockopt(SO_SNDBUF) per call: one syscall for a small message."""
    view = memoryview(data)
    while view:
        view = view[sock.send(view) :]


def parse_head(head: bytes) -> tuple[list[bytes], Headers]:
    """(start line split in 3, {lower-case name: value}); a repeated header keeps its last value."""
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return lines[0].split(b" ", 2), headers


def read_body(stream: Stream, headers: Headers, until_close: bool) -> bytes:
    """A message body framed by Content-Length, chunks, or (answers only) the end of the connection."""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return stream.chunked()
    length = headers.get(b"content-length")
    if length is not None:
        return stream.exactly(int(length))
    return stream.rest() if until_close else b""


class Upstream:
    """Keep-alive connections to the DynamoDB server: one per request in flight, reused afterwards."""

    def __init__(self, url: str, timeout: float = 60.0):
        address = urlparse(url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.host_header = f"{self.host}:{self.port}".encode()
        self.url = f"http://{self.host}:{self.port}"
        self.timeout = timeout
        self.idle: list[Stream] = []
        self.address: tuple | None = None
        self.family = socket.AF_INET

    def _connect(self) -> Stream:
        if self.address is None:  # resolved once: connecting to a numeric address skips gevent's resolver threads
            family, _, _, _, self.address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0]
            self.family = family
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.address)
        except OSError:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Stream(sock)

    def post(self, headers: Headers, body: bytes, path: bytes = b"/") -> tuple[int, Headers, bytes]:
        """POST `path` with these headers and body; (status, headers, body). A stale kept-alive connection is retried once."""
        message = self._message(headers, body, path)
        for attempt in (1, 2):
            reused = attempt == 1 and bool(self.idle)  # a retry never takes another idle connection: it may be stale too
            stream = self.idle.pop() if reused else self._connect()
            try:
                send_all(stream.sock, message)
                head = stream.head()
                if head is None:
                    raise ConnectionError("server closed the connection")
                start, response_headers = parse_head(head)
                closing = response_headers.get(b"connection", b"").lower() == b"close"
                response_body = read_body(stream, response_headers, until_close=True)
            except (OSError, ConnectionError):
                stream.sock.close()
                if reused and attempt == 1:
                    continue
                raise
            if closing:
                stream.sock.close()
            else:
                self.idle.append(stream)
            return int(start[1]), response_headers, response_body
        raise ConnectionError("unreachable")

    def _message(self, headers: Headers, body: bytes, path: bytes = b"/") -> bytes:
        lines = [b"POST " + path + b" HTTP/1.1", b"Host: " + self.host_header]
        lines += [name + b": " + value for name, value in headers.items() if name not in HOP_BY_HOP]
        lines.append(b"Content-Length: " + str(len(body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    def close(self) -> None:
        """Close the idle connections."""
        for stream in self.idle:
            stream.sock.close()
        self.idle.clear()


# ---- the gate -------------------------------------------------------------------------------


class Stats:
    """Counters the gate keeps and `GET /gate/stats` shows."""

    def __init__(self):
        self.requests = 0
        self.throttled = 0
        self.partial = 0
        self.reasons: Counter[tuple[str, str]] = Counter()
        self.consumed: dict[tuple[str, str | None, str], float] = {}

    def throttle(self, throttles: list[Throttle]) -> None:
        """Count one throttled request (or batch part) and its reasons."""
        self.throttled += 1
        for throttle in throttles:
            self.reasons[(throttle.reason, throttle.resource)] += 1

    def consume(self, units: dict[tuple[str, str | None], float], op: str) -> None:
        """Add what a request really consumed."""
        for (table, index), value in units.items():
            self.consumed[(table, index, op)] = self.consumed.get((table, index, op), 0.0) + value

    def pending(self) -> bool:
        """True when there is something counted (since the last drain)."""
        return bool(self.requests or self.throttled or self.partial or self.consumed)

    def drain(self) -> dict:
        """The counts as JSON, and start again from zero (a Locust process reporting to the gate)."""
        counts = {
            "requests": self.requests,
            "throttled": self.throttled,
            "partial": self.partial,
            "reasons": [[reason, resource, count] for (reason, resource), count in self.reasons.items()],
            "consumed": [[table, index, op, units] for (table, index, op), units in self.consumed.items()],
        }
        self.__init__()
        return counts if any(counts.values()) else {}

    def merge(self, counts: dict) -> None:
        """Add counts drained elsewhere."""
        self.requests += int(counts.get("requests", 0))
        self.throttled += int(counts.get("throttled", 0))
        self.partial += int(counts.get("partial", 0))
        for reason, resource, count in counts.get("reasons", []):
            self.reasons[(reason, resource)] += int(count)
        for table, index, op, units in counts.get("consumed", []):
            self.consumed[(table, index, op)] = self.consumed.get((table, index, op), 0.0) + float(units)


class Gate:
    """Decides, forwards, charges; `handle` takes one request and returns the answer to send."""

    def __init__(self, upstream: Upstream, model: CapacityModel, control: Upstream | None = None):
        self.upstream = upstream
        self.control = control or upstream
        """Where requests the gate does not meter go: the upstream, or (a Locust process's gate) the shared gate,
        so that it sees every CreateTable, UpdateTable and DeleteTable."""
        self.model = model
        self.stats = Stats()
        self.generation: dict[str, int] = {}
        """Per table, how many times its description changed: Locust processes describe it again."""
        self.desk: LeaseDesk | None = None
        """The lease desk of the gate's server (one per gate: it remembers each process's last exchange)."""
        self.catalog: dict[str, TableInfo] = {}
        self.stale: set[str] = set()
        self.describing: dict[str, Event] = {}

    # ---- learning tables ------------------------------------------------------------------

    def learn(self, description: dict) -> None:
        """Take a table's keys, GSIs and capacity from a TableDescription."""
        info = table_info(description)
        known = self.catalog.get(info.name)
        self.catalog[info.name] = info
        self.stale.discard(info.name)
        if known != info:
            self.generation[info.name] = self.generation.get(info.name, 0) + 1
        self.model.configure(info.table_limits())
        if known is None or known.table_limits() != info.table_limits():
            log.info("table %s: %s", info.name, _describe_limits(info))

    def forget(self, name: str) -> None:
        """A deleted table."""
        self.catalog.pop(name, None)
        self.stale.discard(name)
        self.model.forget(name)

    def ensure(self, name: str, headers: Headers) -> None:
        """Know `name` (DescribeTable once, also for concurrent requests) unless known and current."""
        if name in self.catalog and name not in self.stale:
            return
        pending = self.describing.get(name)
        if pending is not None:
            pending.wait()
            return
        done = self.describing[name] = Event()
        try:
            status, _, body = self.upstream.post(_describe_headers(headers), json.dumps({"TableName": name}).encode())
            if status == 200:
                try:
                    self.learn(json.loads(body)["Table"])
                except (ValueError, KeyError, TypeError, StopIteration):
                    log.warning("table %s: DescribeTable gave no usable table description: not metering it", name)
        finally:
            del self.describing[name]
            done.set()

    def watch(self, operation: str, request: dict, status: int, body: bytes) -> None:
        """Follow control-plane answers: new tables, changed capacity, deleted tables."""
        if status != 200:
            return
        name = plans.table_name(request.get("TableName", ""))
        if operation == "DeleteTable":
            self.forget(name)
            return
        try:
            # New capacity counts from now: Local answers UpdateTable with the new capacity at once.
            self.learn(json.loads(body)["TableDescription"])
        except (ValueError, KeyError, TypeError, StopIteration):
            log.warning("table %s: no usable TableDescription in the %s answer", name, operation)
        if operation == "UpdateTable":
            self.stale.add(name)  # described again on next use, to be sure

    # ---- requests -------------------------------------------------------------------------

    def handle(self, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        """Answer one DynamoDB request: throttled here, or forwarded and charged."""
        operation = headers.get(b"x-amz-target", b"").decode().removeprefix(TARGET_PREFIX)
        if operation not in plans.PLANNERS and operation not in ("CreateTable", "UpdateTable", "DeleteTable"):
            return self._control(headers, body)
        try:
            request = json.loads(body)
        except ValueError:
            return self._control(headers, body)
        if operation not in plans.PLANNERS:
            status, response_headers, response_body = self._control(headers, body)
            self.watch(operation, request, status, response_body)
            return status, response_headers, response_body
        self.stats.requests += 1
        for name in plans.tables_of(operation, request):
            self.ensure(name, headers)
        plan = plans.plan_for(operation, request, self.catalog)
        if plan is None or not any(part.demands for part in plan.parts):
            return self.upstream.post(headers, body)
        return self._gated(operation, request, plan, headers, body)

    def _control(self, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        """A request the gate does not meter: on to the control upstream (which counts it, when it is the shared gate)."""
        if self.control is self.upstream:
            self.stats.requests += 1
        return self.control.post(headers, body)

    def _gated(self, operation: str, request: dict, plan: plans.Plan, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        admitted, refused = self._admit(plan)
        if not admitted or (refused and plan.mode == plans.TRANSACTION):
            return self._refuse(plan, refused, request)
        wanted = request.get("ReturnConsumedCapacity", "NONE")
        forwarded = request
        if operation in ASKS_CONSUMED and wanted != "INDEXES":
            forwarded = {**request, "ReturnConsumedCapacity": "INDEXES"}
        if refused:
            forwarded = plan.restrict(forwarded, admitted)
            self.stats.partial += 1
        if forwarded is not request:
            body = json.dumps(forwarded, separators=(",", ":")).encode()
        try:
            status, response_headers, response_body = self.upstream.post(headers, body)
        except (OSError, ConnectionError):
            plans.refund(self.model, plan, admitted)
            raise
        if status != 200:
            if CHECK_FAILED.encode() not in response_body[:200]:
                plans.refund(self.model, plan, admitted)  # a failed condition is charged, other failures are not
            return status, response_headers, response_body
        rewrite = forwarded is not request  # else the answer goes back byte for byte
        response = json.loads(response_body) if rewrite or plan.select is not None else None
        consumed = response.get("ConsumedCapacity") if response is not None else wire.find_consumed(response_body)
        actual = plans.consumed_units(consumed, self.catalog) if consumed is not None else None
        if actual is None and plan.select is not None:
            actual = plans.select_units(plan, response)
        self.stats.consume(plans.settle(self.model, plan, admitted, actual), plan.op)
        if not rewrite:
            return status, response_headers, response_body
        return self._rewritten(response, request, plan, refused, wanted if operation in ASKS_CONSUMED else "INDEXES", response_headers)

    def _admit(self, plan: plans.Plan) -> tuple[list[plans.Part], list[tuple[plans.Part, list[Throttle]]]]:
        """Batches: part by part. Others: all parts or none (nothing is charged when refused)."""
        self.model.prefetch([demand for part in plan.parts for demand in part.demands])
        if plan.mode in (plans.BATCH, plans.STATEMENTS):
            admitted, refused = [], []
            for part in plan.parts:
                throttles = self.model.admit(part.demands)
                if throttles:
                    refused.append((part, throttles))
                else:
                    admitted.append(part)
            return admitted, refused
        verdicts = [(part, self.model.refusals(part.demands)) for part in plan.parts]
        refused = [(part, throttles) for part, throttles in verdicts if throttles]
        if refused:
            return [part for part, throttles in verdicts if not throttles], refused
        for part in plan.parts:
            self.model.reserve(part.demands)
        return list(plan.parts), []

    def _refuse(self, plan: plans.Plan, refused: list[tuple[plans.Part, list[Throttle]]], request: dict) -> tuple[int, Headers, bytes]:
        """The whole request is throttled: DynamoDB's error, or per-statement errors for BatchExecuteStatement."""
        for _, throttles in refused:
            self.stats.throttle(throttles)
        if plan.mode == plans.STATEMENTS:
            return _answer(200, json.dumps(plan.merge({}, refused, request)).encode())
        if plan.mode == plans.TRANSACTION:
            by_part = {id(part): throttles for part, throttles in refused}
            return _answer(400, wire.cancelled_body([by_part.get(id(part), []) for part in plan.parts]))
        reasons: list[Throttle] = []
        for _, throttles in refused:
            reasons += [throttle for throttle in throttles if throttle not in reasons]
        return _answer(400, wire.throttle_body(reasons))

    def _rewritten(self, response: dict, request: dict, plan: plans.Plan, refused: list, wanted: str, upstream_headers: Headers) -> tuple[int, Headers, bytes]:
        """The answer as the client asked for it: its ReturnConsumedCapacity, refused batch parts handed back."""
        if "ConsumedCapacity" in response:
            shaped = wire.shape_consumed(response["ConsumedCapacity"], wanted)
            if shaped is None:
                del response["ConsumedCapacity"]
            else:
                response["ConsumedCapacity"] = shaped
        if refused:
            for _, throttles in refused:
                self.stats.throttle(throttles)
            response = plan.merge(response, refused, request)
        request_id = upstream_headers.get(b"x-amzn-requestid")
        return _answer(200, json.dumps(response, separators=(",", ":")).encode(), request_id.decode() if request_id else None)

    # ---- stats ----------------------------------------------------------------------------

    def stats_json(self) -> dict:
        """Counters, consumed units and bucket levels, for tests, benchmarks and curious users."""
        resources = []
        for name, info in sorted(self.catalog.items()):
            for index, limits in [(None, info.limits)] + [(gsi.name, gsi.limits) for gsi in info.gsis.values()]:
                resources.append(
                    {
                        "table": name,
                        "index": index,
                        "read": limits.read,
                        "write": limits.write,
                        "read_level": _finite(self.model.level(name, index, "Read")),
                        "write_level": _finite(self.model.level(name, index, "Write")),
                    }
                )
        return {
            "requests": self.stats.requests,
            "throttled": self.stats.throttled,
            "partial": self.stats.partial,
            "burst_seconds": self.model.burst_seconds,
            "reasons": [{"reason": reason, "resource": resource, "count": count} for (reason, resource), count in sorted(self.stats.reasons.items())],
            "consumed": [{"table": table, "index": index, "op": op, "units": units} for (table, index, op), units in sorted(self.stats.consumed.items(), key=str)],
            "resources": resources,
        }


def _finite(value: float) -> float | None:
    return value if value != float("inf") else None


def _describe_limits(info: TableInfo) -> str:
    def one(limits) -> str:
        return "on-demand" if limits.on_demand else f"{limits.read:g} RCU / {limits.write:g} WCU"

    text = one(info.limits)
    for gsi in info.gsis.values():
        text += f"; GSI {gsi.name}: {one(gsi.limits)}"
    return text


def _describe_headers(headers: Headers) -> Headers:
    """Headers for the gate's own DescribeTable: the client's credentials (Local only reads the key id)."""
    kept = {name: value for name, value in headers.items() if name in (b"authorization", b"x-amz-date", b"x-amz-security-token")}
    return {**kept, b"content-type": wire.CONTENT_TYPE.encode(), b"x-amz-target": (TARGET_PREFIX + "DescribeTable").encode()}


def _answer(status: int, body: bytes, request_id: str | None = None) -> tuple[int, Headers, bytes]:
    return status, {name.lower().encode(): value.encode() for name, value in wire.response_headers(body, request_id)}, body


# ---- the server -----------------------------------------------------------------------------


def _send(sock, status: int, headers: Headers, body: bytes, keep_alive: bool) -> None:
    lines = [f"HTTP/1.1 {status} {_phrase(status)}".encode()]
    lines += [name + b": " + value for name, value in headers.items() if name not in RESPONSE_DROPPED]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    if not keep_alive:
        lines.append(b"Connection: close")
    send_all(sock, b"\r\n".join(lines) + b"\r\n\r\n" + body)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _failure(message: str) -> tuple[int, Headers, bytes]:
    body = json.dumps({"__type": wire.ERROR_PREFIX + "InternalServerError", "message": f"capacity gate: {message}"}).encode()
    return _answer(500, body)


def serve_connection(gate: Gate, sock, address=None) -> None:
    """Answer HTTP/1.1 requests on one client connection until it closes."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = Stream(sock)
    if gate.desk is None:
        gate.desk = LeaseDesk(gate, LEASE_DESCRIBE_HEADERS)
    desk = gate.desk
    try:
        while True:
            head = stream.head()
            if head is None:
                return
            (method, path, version), headers = parse_head(head)
            body = read_body(stream, headers, until_close=False)
            keep_alive = version == b"HTTP/1.1" and headers.get(b"connection", b"").lower() != b"close"
            if method == b"GET":
                answer = _get(gate, path)
            else:
                try:
                    answer = _lease(desk, body) if path == LEASE_PATH else gate.handle(headers, body)
                except (OSError, ConnectionError) as exc:
                    answer = _failure(f"DynamoDB server unreachable: {exc}")
                except Exception as exc:  # never take the connection down with a bug: answer 500, log it
                    log.exception("request failed in the gate")
                    answer = _failure(f"{type(exc).__name__}: {exc}")
            _send(sock, *answer, keep_alive=keep_alive)
            if not keep_alive:
                return
    except (OSError, ConnectionError):
        return
    finally:
        sock.close()


def _get(gate: Gate, path: bytes) -> tuple[int, Headers, bytes]:
    path = path.split(b"?", 1)[0]
    if path == STATS_PATH:
        body = json.dumps(gate.stats_json()).encode()
        return 200, {b"content-type": b"application/json"}, body
    if path == INFO_PATH:
        body = json.dumps({"upstream": gate.upstream.url, "burst_seconds": gate.model.burst_seconds}).encode()
        return 200, {b"content-type": b"application/json"}, body
    return 200, {b"content-type": b"text/plain"}, b"ddb-harness capacity gate\n"


def _lease(desk: LeaseDesk, body: bytes) -> tuple[int, Headers, bytes]:
    """A Locust process's lease exchange (harness.gate.leases): 400 for a message that is not one."""
    try:
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("not a JSON object")
        answer = desk.exchange(message)
    except (ValueError, TypeError) as exc:
        return 400, {b"content-type": b"application/json"}, json.dumps({"message": f"not a lease message: {exc}"}).encode()
    return 200, {b"content-type": b"application/json"}, json.dumps(answer, separators=(",", ":")).encode()


def listen(port: int) -> socket.socket:
    """A loopback listening socket (port 0: any free port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(LISTEN_BACKLOG)
    return listener


def make_server(upstream_url: str, port: int = 0, burst_seconds: float = 300.0) -> tuple[StreamServer, Gate]:
    """A started gate server on 127.0.0.1:port in front of `upstream_url`, and its Gate."""
    gate = Gate(Upstream(upstream_url), CapacityModel(burst_seconds=burst_seconds))
    server = StreamServer(listen(port), lambda sock, address: serve_connection(gate, sock, address))
    server.start()
    return server, gate


def summarise_forever(gate: Gate, every: float = SUMMARY_EVERY_SECONDS) -> None:
    """Log the throttles of each period (nothing when there were none)."""
    previous = Counter()
    while True:
        gevent.sleep(every)
        current = Counter(gate.stats.reasons)
        new = current - previous
        if new:
            text = ", ".join(f"{reason} on {resource.rsplit(':', 1)[-1]}: {count}" for (reason, resource), count in new.most_common())
            log.info("throttled in the last %.0f s: %s", every, text)
        previous = current


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def serve_forever(upstream_url: str, port: int, burst_seconds: float) -> int | None:
    """Run the gate until SIGINT, SIGTERM or SIGHUP; returns the signal that stopped it (None: stopped otherwise)."""
    server, gate = make_server(upstream_url, port, burst_seconds)
    log.info("capacity gate on http://127.0.0.1:%d in front of %s (burst window %g s)", server.server_port, upstream_url, burst_seconds)
    gevent.spawn(summarise_forever, gate)
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        server.stop()

    for signum in STOP_SIGNALS:
        gevent.signal_handler(signum, stop, signum)
    started = time.monotonic()
    try:
        server.serve_forever()
    finally:
        how = f" by {signal.Signals(received[0]).name}" if received else ""
        log.info("capacity gate stopped%s after %.0f s: %d requests, %d throttled", how, time.monotonic() - started, gate.stats.requests, gate.stats.throttled)
    return received[0] if received else None
