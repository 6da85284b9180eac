"""The capacity gate inside a Locust process: requests go straight to DynamoDB Local, decided with leased tokens.

`gated_client(client, gate_url)` routes a harness client's requests through an InProcessGate:
the gate's own logic (harness.gate.proxy.Gate: plans, ConsumedCapacity, throttling errors on
the wire) runs in this process against harness.gate.leases.LeasedModel, whose tokens come from
the shared gate at `gate_url`. Data-plane requests go straight to the DynamoDB Local behind
it; everything else (CreateTable, UpdateTable, DeleteTable, ...) still goes through the shared
gate, so it sees every capacity change. boto3 clients get it through botocore's `before-send`
event (the answer is parsed, retried and counted as if it came off the wire); fast-path clients
through their transport.

Gevent sockets throughout: for Locust processes (monkey-patched), not for threaded code.
"""

from __future__ import annotations

import atexit
import json
import logging
import socket

import gevent
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from gevent.lock import Semaphore

from harness.fastpath.transport import RawResponse
from harness.gate import gate_info
from harness.gate.leases import FLUSH_SECONDS, LeasedModel
from harness.gate.proxy import LEASE_PATH, Gate, Headers, Upstream, parse_head

log = logging.getLogger(__name__)

JSON_HEADERS = {b"content-type": b"application/json"}
_gates: dict[str, "InProcessGate"] = {}  # one per gate URL and process


class InProcessGate:
    """This process's gate: decides and forwards requests, leases tokens from the shared gate at `gate_url`."""

    def __init__(self, gate_url: str, timeout: float = 60.0):
        self.url = gate_url
        self.timeout = timeout
        self.link = Upstream(gate_url, timeout)
        self.model = LeasedModel(self._send)
        self.model.on_generations = self._follow_generations
        self.gate: Gate | None = None
        self._generations: dict[str, int] = {}
        self._closed = False
        self._flusher = None
        self._starting = Semaphore()

    def _start(self) -> Gate:
        """Ask the shared gate where DynamoDB Local is, on first use: creating a client must not wait on the
        network (Locust may start users while the process's init hooks are still running)."""
        with self._starting:
            if self.gate is None:
                try:
                    info = gate_info(self.url, self.timeout)
                except ValueError as exc:
                    raise ConnectionError(f"{self.url} is not a capacity gate: {exc}") from None
                gate = Gate(Upstream(info["upstream"], self.timeout), self.model, control=Upstream(self.url, self.timeout))
                self.model.stats = gate.stats
                self._flusher = gevent.spawn(self._flush_forever)
                self.gate = gate
        return self.gate

    def handle(self, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        """Answer one DynamoDB request (throttled here, or sent to DynamoDB Local); botocore's errors when unreachable."""
        try:
            return (self.gate or self._start()).handle(headers, body)
        except socket.timeout as exc:
            raise ReadTimeoutError(endpoint_url=self.url, error=exc) from None
        except ConnectionRefusedError as exc:
            raise EndpointConnectionError(endpoint_url=self.url, error=exc) from None
        except (OSError, ConnectionError) as exc:
            raise ConnectionClosedError(endpoint_url=self.url, error=exc) from None

    def close(self) -> None:
        """Give the leases back and report the last counts to the shared gate (idempotent)."""
        if self._closed:
            return
        self._closed = True  # the flusher ends at its next wake-up, never in the middle of an exchange
        if self._flusher is None:
            return  # never used
        try:
            self.model.close()
        except (OSError, ConnectionError, ValueError) as exc:
            log.warning("capacity gate at %s: last counts not reported (%s)", self.url, exc)
        self.link.close()

    # ---- talking to the shared gate ------------------------------------------------------

    def _send(self, message: dict) -> dict:
        status, _, body = self.link.post(JSON_HEADERS, json.dumps(message, separators=(",", ":")).encode(), path=LEASE_PATH)
        if status != 200:
            raise ConnectionError(f"capacity gate at {self.url} answered {status} to a lease: {body[:200]!r}")
        return json.loads(body)

    def _follow_generations(self, generations: dict[str, int]) -> None:
        """A table the shared gate saw change (UpdateTable, new GSI) is described again before its next request."""
        for table, generation in generations.items():
            seen = self._generations.get(table)
            if seen is not None and seen != generation and self.gate is not None:
                self.gate.stale.add(table)
            self._generations[table] = generation

    def _flush_forever(self) -> None:
        while True:
            gevent.sleep(FLUSH_SECONDS)
            if self._closed:
                return
            try:
                self.model.flush()
            except (OSError, ConnectionError, ValueError) as exc:
                log.debug("capacity gate at %s: periodic report failed (%s); kept for the next one", self.url, exc)


def in_process_gate(gate_url: str) -> InProcessGate:
    """This process's InProcessGate for `gate_url`, created on first use and closed at exit."""
    gate = _gates.get(gate_url)
    if gate is None:
        gate = _gates[gate_url] = InProcessGate(gate_url)
    return gate


def close_all() -> None:
    """Close every InProcessGate of this process (the run is over)."""
    for gate in list(_gates.values()):
        gate.close()
    _gates.clear()


atexit.register(close_all)


# ---- routing clients through it -------------------------------------------------------------


class _Body:
    """The `raw` of an AWSResponse whose body is already in memory."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, *args, **kwargs):
        """The body in one piece (what AWSResponse.content joins)."""
        yield self.body


def route_boto3(client, gate: InProcessGate) -> None:
    """Send `client`'s DynamoDB requests through `gate` (botocore's before-send event answers them)."""

    def send(request, **_) -> AWSResponse:
        headers = {name.lower().encode(): value if isinstance(value, bytes) else value.encode() for name, value in request.headers.items()}
        body = request.body or b""
        status, response_headers, response_body = gate.handle(headers, body if isinstance(body, bytes) else body.encode())
        decoded = HeadersDict({name.decode(): value.decode() for name, value in response_headers.items()})
        return AWSResponse(request.url, status, decoded, _Body(response_body))

    client.meta.events.register("before-send.dynamodb", send)


class GatedTransport:
    """A fast-path transport (harness.fastpath.transport.Transport's `send`) that hands requests to the gate."""

    def __init__(self, gate: InProcessGate):
        self.gate = gate
        self.url = gate.url

    def send(self, request: bytes):
        """Split the raw request, let the gate answer it, return the fast path's RawResponse."""
        head, _, body = request.partition(b"\r\n\r\n")
        _, headers = parse_head(head)
        status, response_headers, response_body = self.gate.handle(headers, body)
        return RawResponse(status, {name.decode(): value.decode() for name, value in response_headers.items()}, response_body)

    def close(self) -> None:
        """Nothing of its own to close (the gate is closed at exit)."""


def gated_client(client, gate_url: str):
    """`client` (boto3 or fast path) with its requests decided by this process's gate; returns it."""
    gate = in_process_gate(gate_url)
    if hasattr(client, "route_through"):
        client.route_through(GatedTransport(gate))
    else:
        route_boto3(client, gate)
    return client
