"""The fast path's transport on awkward but legal HTTP: chunked bodies, split writes, closed connections."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from harness.fastpath.transport import Transport

REQUEST = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"


class RawServer:
    """Accepts connections and answers each request with `reply(connection_number, request_number)` bytes, written in `pieces`."""

    def __init__(self, reply, pieces: int = 1, close_after: int | None = None):
        self.reply, self.pieces, self.close_after = reply, pieces, close_after
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection, self.connections), daemon=True).start()

    def _serve(self, connection, number):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with connection:
            for request in range(10**6):
                data = b""
                while not data.endswith(b"{}"):
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                response = self.reply(number, request)
                if response is None:
                    return
                step = max(1, len(response) // self.pieces)
                for start in range(0, len(response), step):
                    connection.sendall(response[start : start + step])
                    time.sleep(0.001)
                if self.close_after is not None and request + 1 >= self.close_after:
                    return

    def close(self):
        self._server.close()


def ok(body: bytes = b'{"Count":1}', extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nx-amzn-RequestId: R\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_chunked_body_is_reassembled():
    body = b'{"Items":[],"Count":0}'
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 5]), body[i : i + 5]) for i in range(0, len(body), 5)) + b"0\r\n\r\n"
    server = RawServer(lambda *_: chunked)
    response = Transport(server.url, 2, 2, 5).send(REQUEST)
    assert response.status == 200 and response.body == body
    server.close()


def test_response_split_into_tiny_writes_keeps_its_headers():
    server = RawServer(lambda *_: ok(extra="x-amz-crc32: 123\r\nX-Long-Header-Name-For-Splitting: some value here\r\n"), pieces=40)
    response = Transport(server.url, 2, 2, 5).send(REQUEST)
    assert response.headers == {"x-amzn-requestid": "R", "x-amz-crc32": "123", "x-long-header-name-for-splitting": "some value here", "content-length": "11"}
    server.close()


def test_keep_alive_reuses_one_connection():
    server = RawServer(lambda *_: ok())
    transport = Transport(server.url, 2, 2, 5)
    for _ in range(5):
        assert transport.send(REQUEST).status == 200
    assert server.connections == 1
    server.close()


def test_connection_the_server_closed_while_idle_is_not_reused():
    server = RawServer(lambda *_: ok(), close_after=1)
    transport = Transport(server.url, 2, 2, 5)
    for _ in range(3):
        assert transport.send(REQUEST).status == 200
        time.sleep(0.05)  # the server closes after each answer; the pool must notice
    assert server.connections == 3
    server.close()


def test_connection_close_header_is_honoured():
    server = RawServer(lambda *_: ok(extra="Connection: close\r\n"))
    transport = Transport(server.url, 2, 2, 5)
    transport.send(REQUEST)
    transport.send(REQUEST)
    assert server.connections == 2
    server.close()


def test_server_closing_mid_response_is_a_connection_closed_error():
    server = RawServer(lambda *_: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial", close_after=1)
    with pytest.raises(ConnectionClosedError):
        Transport(server.url, 2, 2, 5).send(REQUEST)
    server.close()


def test_silent_server_is_a_read_timeout():
    server = RawServer(lambda *_: (time.sleep(2), ok())[1])
    with pytest.raises(ReadTimeoutError):
        Transport(server.url, 2, 2, 0.3).send(REQUEST)
    server.close()


def test_request_larger_than_one_send_is_written_whole():
    server = RawServer(lambda *_: ok())
    big = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8000002\r\n\r\n" + b"x" * 8_000_000 + b"{}"
    assert Transport(server.url, 2, 2, 10).send(big).status == 200  # the server answers only once it has it all
    server.close()
