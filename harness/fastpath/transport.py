"""HTTP/1.1 keep-alive connections to one endpoint: a small socket pool and geventhttpclient's C parser.

Requests are raw bytes (harness.fastpath.request writes what botocore's urllib3/http.client stack
writes); responses are parsed by geventhttpclient's llhttp binding, the parser of Locust's
FastHttpUser, with the fewest Python callbacks possible. Sockets are the standard library's, so
under Locust (monkey-patched) they are gevent's cooperative sockets and in a plain threaded
process (the `ddb-harness setup` loader) ordinary blocking ones: one pool serves both.
geventhttpclient's own ConnectionPool and response classes are not used: they cost more CPU per
request than everything else of the fast path together (bench/README.md, "Transport").

Like urllib3 under botocore, the pool never blocks: it keeps at most `pool_size` idle connections,
opens another when all are busy, and checks that an idle connection is still open before reusing
it. Errors become botocore's exceptions, so retries and error classification treat both paths alike.
"""

from __future__ import annotations

import socket
import ssl
from collections import deque
from typing import NamedTuple
from urllib.parse import urlsplit

from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import get_cert_path
from gevent.monkey import get_original
from geventhttpclient._parser import HTTPParseError, HTTPResponseParser

BLOCK_SIZE = 64 * 1024  # one recv holds most DynamoDB responses whole
_poll = get_original("select", "poll")  # never gevent's: a zero-timeout poll must not yield


class RawResponse(NamedTuple):
    """An HTTP response: status, headers (lower-cased names, last value wins, as botocore reports them), body."""

    status: int
    headers: dict
    body: bytes

    @property
    def status_code(self) -> int:
        """The name botocore's retry checkers read (AWSResponse.status_code)."""
        return self.status

    @property
    def content(self) -> bytes:
        """The name botocore's retry checkers read (AWSResponse.content)."""
        return self.body


class ResponseParser(HTTPResponseParser):
    """llhttp finds the end of the message (Content-Length or chunked) and the body; Python code runs
    only for the body and the end of headers and message. Header lines are read from the raw head
    afterwards (`headers_from`), once llhttp has validated them, rather than by one Python callback
    per name and value."""

    _on_header_field = _on_header_value = staticmethod({}.get)  # C-level no-ops returning None

    def __init__(self):
        super().__init__()
        self.body: list[bytes] = []
        self.headers_complete = False
        self.complete = False

    def _on_message_begin(self) -> None:
        pass

    def _on_status(self, status: str) -> None:
        pass

    def _on_headers_complete(self) -> bool:
        self.headers_complete = True
        return False  # a body follows (POST answers always may have one)

    def _on_body(self, data) -> None:
        self.body.append(bytes(data))

    def _on_message_complete(self) -> None:
        self.complete = True


def headers_from(head: bytes) -> dict:
    """Header names lower-cased, values stripped, from a raw response head; a repeated header keeps its last value."""
    headers = {}
    for line in head[: head.find(b"\r\n\r\n")].decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")  # llhttp rejects whitespace before the colon
        headers[name.lower()] = value.strip()
    return headers


class Connection:
    """One keep-alive socket and a poller to see whether the server closed it while idle."""

    __slots__ = ("sock", "_poller")

    def __init__(self, sock):
        self.sock = sock
        self._poller = _poll()
        self._poller.register(sock.fileno(), 1)  # POLLIN: an idle keep-alive socket has nothing to read

    def is_open(self) -> bool:
        """True unless the server closed the idle connection (or sent something unasked)."""
        return not self._poller.poll(0)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Transport:
    """Sends raw requests to one endpoint URL over pooled keep-alive connections."""

    def __init__(self, url: str, pool_size: int, connect_timeout: float, read_timeout: float, verify: bool | str = True):
        parts = urlsplit(url)
        self.url = url
        self._tls = parts.scheme == "https"
        self._address = (parts.hostname, parts.port or (443 if self._tls else 80))
        self._ssl_context = _ssl_context(verify) if self._tls else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = pool_size
        self._idle: deque[Connection] = deque()

    def send(self, request: bytes) -> RawResponse:
        """Write `request` on a pooled connection and read the whole response.

        Raises EndpointConnectionError / ConnectTimeoutError (no connection), ConnectionClosedError
        (the connection broke or the answer was not HTTP) or ReadTimeoutError, like botocore.
        """
        connection = self._checkout()
        try:
            sent = connection.sock.send(request)  # one send writes a whole request nearly always; cheaper than sendall under gevent
            if sent < len(request):
                connection.sock.sendall(memoryview(request)[sent:])
            parser, head = self._read(connection.sock)
        except socket.timeout as exc:
            connection.close()
            raise ReadTimeoutError(endpoint_url=self.url, error=exc) from None
        except (OSError, HTTPParseError) as exc:
            connection.close()
            raise ConnectionClosedError(endpoint_url=self.url, error=exc) from None
        if parser.should_keep_alive() and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.close()
        return RawResponse(parser.get_code(), headers_from(head), b"".join(parser.body))

    def _read(self, sock) -> tuple[ResponseParser, bytes]:
        """The parsed response and its raw bytes up to the end of the headers (at least)."""
        parser, head = ResponseParser(), b""
        while not parser.complete:
            data = sock.recv(BLOCK_SIZE)
            if not parser.headers_complete:
                head += data
            parser.feed(data)
            if not data and not parser.complete:
                raise ConnectionResetError("connection closed before the response was complete")
        return parser, head

    def _checkout(self) -> Connection:
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                return self._connect()
            if connection.is_open():
                return connection
            connection.close()

    def _connect(self) -> Connection:
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout)
        except socket.timeout as exc:
            raise ConnectTimeoutError(endpoint_url=self.url, error=exc) from None
        except OSError as exc:
            raise EndpointConnectionError(endpoint_url=self.url, error=exc) from None
        # The socket options botocore's urllib3 connections use: no Nagle delay, keep-alive probes.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if self._tls:
            try:
                sock = self._ssl_context.wrap_socket(sock, server_hostname=self._address[0])
            except (OSError, ssl.SSLError) as exc:
                sock.close()
                raise EndpointConnectionError(endpoint_url=self.url, error=exc) from None
        sock.settimeout(self._read_timeout)
        return Connection(sock)

    def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            self._idle.pop().close()


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """Certificate checks as botocore's `verify`: a CA bundle path, True (botocore's default bundle) or False (none)."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=get_cert_path(verify))
