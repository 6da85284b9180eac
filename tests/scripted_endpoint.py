"""A raw-socket DynamoDB endpoint for the fast-path tests: records every request's exact bytes, answers from a script.

Requests are kept byte for byte (request line, headers in order, body), so a test can compare
what botocore and the fast path put on the wire. Answers come from `script` (a list consumed in
order) or else `default(operation)`; each answer is (status, extra headers, body bytes) and gets
Content-Type, Content-Length, x-amzn-RequestId and a correct x-amz-crc32 unless given.
"""

from __future__ import annotations

import json
import socket
import threading
from email.utils import formatdate
from zlib import crc32

CONTENT_TYPE = "application/x-amz-json-1.0"
DATE = formatdate(1767323045, usegmt=True)  # a fixed server Date header: Fri, 02 Jan 2026 03:04:05 GMT


def answer(body: dict | bytes | str = b"{}", status: int = 200, **headers: str) -> tuple[int, dict, bytes]:
    """One scripted answer; headers given as keyword arguments use '_' for '-' (x_amz_crc32='1')."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    return status, {name.replace("_", "-"): value for name, value in headers.items()}, body


def error(code: str, message: str = "", status: int = 400, message_key: str = "message", **fields) -> tuple[int, dict, bytes]:
    """A DynamoDB JSON error answer with the namespaced __type DynamoDB sends."""
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", message_key: message, **fields}
    return answer(body, status)


def response_bytes(status: int, headers: dict, body: bytes) -> bytes:
    """An HTTP/1.1 response with DynamoDB's headers (given ones win)."""
    merged = {"x-amzn-RequestId": "REQ0001", "Content-Type": CONTENT_TYPE, "Date": DATE, "x-amz-crc32": str(crc32(body))}
    merged.update(headers)
    merged["Content-Length"] = str(len(body))
    lines = [f"HTTP/1.1 {status} {'OK' if status < 300 else 'Error'}"] + [f"{name}: {value}" for name, value in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class ScriptedEndpoint:
    """Threaded keep-alive server on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, default=lambda operation: answer()):
        self.requests: list[bytes] = []
        self.script: list[tuple[int, dict, bytes]] = []
        self.default = default
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def __enter__(self) -> ScriptedEndpoint:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while True:
                end = buffer.find(b"\r\n\r\n")
                if end >= 0:
                    head = buffer[:end].decode("latin-1")
                    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")), 0)
                    if len(buffer) >= end + 4 + length:
                        request, buffer = buffer[: end + 4 + length], buffer[end + 4 + length :]
                        connection.sendall(self._answer(request, head))
                        continue
                data = connection.recv(65536)
                if not data:
                    return
                buffer += data

    def _answer(self, request: bytes, head: str) -> bytes:
        target = next((line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("x-amz-target:")), "")
        with self._lock:
            self.requests.append(request)
            scripted = self.script.pop(0) if self.script else self.default(target.rpartition(".")[2])
        return response_bytes(*scripted)
