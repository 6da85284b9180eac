"""A loopback HTTP proxy in front of DynamoDB Local that injects faults into chosen requests on a schedule.

Only requests of one DynamoDB operation (`operation`, by its X-Amz-Target) are scheduled and
counted; everything else (table setup, data loading) passes through untouched. The schedule is a
list of fault names, one per attempt, cycled: "pass" forwards the request as it is. Each
client connection gets its own upstream connection, both kept alive.

Faults (what DynamoDB or a network can do to one HTTP attempt):
- `latency`: the real answer, ADDED_LATENCY seconds late; `spike`: SPIKE seconds late.
- `slow_body`: the real answer's headers at once, its body trickled over SLOW_BODY seconds.
- `reset_before`: the connection reset (RST) before any byte of an answer (the request is not forwarded).
- `reset_mid`: the headers and half the body of the real answer, then a reset.
- `truncated`: the headers (with the full Content-Length) and half the body, then the connection closed.
- `http500`: 500 InternalServerError; `http503`: 503 ServiceUnavailable; `throttle`: 400
  ProvisionedThroughputExceededException (all three as DynamoDB words them; not forwarded).
- `black_hole`: the request is read and never answered; the connection stays open.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from urllib.parse import urlparse
from zlib import crc32

ADDED_LATENCY = 0.5
SPIKE = 1.5
SLOW_BODY = 1.0
FAULTS = ("latency", "spike", "slow_body", "reset_before", "reset_mid", "truncated", "http500", "http503", "throttle", "black_hole")
ERROR_ANSWERS = {
    "http500": (500, "InternalServerError", "Internal server error"),
    "http503": (503, "ServiceUnavailable", "Service unavailable"),
    "throttle": (400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded."),
}


def dynamodb_error(status: int, code: str, message: str) -> bytes:
    """An error answer as DynamoDB sends it: JSON with a namespaced __type, and its crc32."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    head = f"HTTP/1.1 {status} Error\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: FAULT\r\nx-amz-crc32: {crc32(body)}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP/1.1 message (head + Content-Length body) from `sock`, or None when the peer closed."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
    head = bytes(buffer[:end]).decode("latin-1")
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")), 0)
    while len(buffer) < end + 4 + length:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
    message = bytes(buffer[: end + 4 + length])
    del buffer[: end + 4 + length]
    return message


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class FaultInjector:
    """127.0.0.1:<free port> -> upstream; `schedule` applies to `operation`'s attempts in arrival order."""

    def __init__(self, upstream_url: str, operation: str, schedule: list[str]):
        parsed = urlparse(upstream_url)
        self.upstream = (parsed.hostname, parsed.port)
        self.operation = operation.encode()
        self.schedule = schedule
        self.injected: Counter[str] = Counter()
        """Attempts of `operation` per fault name ("pass" included)."""
        self.attempts = 0
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Stop accepting; black-holed connections are closed."""
        self._listener.close()
        for sock in self._held:
            reset(sock)

    def _next_fault(self, request: bytes) -> str:
        head = request[: request.find(b"\r\n\r\n")]
        if b"DynamoDB_20120810." + self.operation + b"\r\n" not in head + b"\r\n":
            return "pass-through"
        with self._lock:
            fault = self.schedule[self.attempts % len(self.schedule)]
            self.attempts += 1
            self.injected[fault] += 1
        return fault

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream, buffer, upstream_buffer = None, bytearray(), bytearray()
        try:
            while (request := read_message(client, buffer)) is not None:
                fault = self._next_fault(request)
                if fault == "black_hole":
                    self._held.append(client)
                    return
                if fault == "reset_before":
                    reset(client)
                    return
                if fault in ERROR_ANSWERS:
                    client.sendall(dynamodb_error(*ERROR_ANSWERS[fault]))
                    continue
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=30)
                upstream.sendall(request)
                answer = read_message(upstream, upstream_buffer)
                if answer is None:
                    reset(client)
                    return
                if not self._answer(client, answer, fault):
                    return
        except OSError:
            pass
        finally:
            if upstream is not None:
                upstream.close()
            if client not in self._held:
                client.close()

    @staticmethod
    def _answer(client: socket.socket, answer: bytes, fault: str) -> bool:
        """Send the real answer the way `fault` says; False when the connection is finished."""
        body_at = answer.find(b"\r\n\r\n") + 4
        half = body_at + (len(answer) - body_at) // 2
        if fault in ("latency", "spike"):
            time.sleep(ADDED_LATENCY if fault == "latency" else SPIKE)
        if fault == "slow_body":
            client.sendall(answer[:body_at])
            pieces = [answer[start : start + 8] for start in range(body_at, len(answer), 8)]
            for piece in pieces:
                time.sleep(SLOW_BODY / len(pieces))
                client.sendall(piece)
            return True
        if fault == "reset_mid":
            client.sendall(answer[:half])
            time.sleep(0.05)
            reset(client)
            return False
        if fault == "truncated":
            client.sendall(answer[:half])
            client.shutdown(socket.SHUT_WR)
            return False
        client.sendall(answer)
        return True
