"""A null DynamoDB endpoint: keep-alive HTTP/1.1 on loopback, fixed valid answers, almost no CPU.

    .venv/bin/python -m bench.null_endpoint [--port 0]      # prints "PORT <n>", serves until killed

Every response is precomputed per operation (X-Amz-Target) with a correct x-amz-crc32, so the
server does little more than find the end of each request; the bench reports its CPU share to
show it is never the bottleneck. It answers GetItem, PutItem, Query (10 items when the request
says "Limit": 10, else 1), ExecuteStatement and BatchWriteItem with bodies shaped like DynamoDB's
(ConsumedCapacity included) and any other operation with `{}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from email.utils import formatdate
from zlib import crc32

TARGET_PREFIX = b"X-Amz-Target: DynamoDB_20120810."
CONTENT_LENGTH = b"content-length:"
REQUEST_ID = "NULLENDPOINT0000000000000000000000000000000000000000"[:52]
TABLE = "bench"

QUERY_10 = b"Query10"
"""A Query with "Limit":10 in its body gets 10 items."""
ITEM = {
    "primary_key": {"S": "key#1"},
    "next_primary_key": {"S": "key#1"},
    "status": {"S": "SHIPPED"},
    "amount": {"N": "125.5"},
    "payload": {"S": "x" * 200},
}
BODIES = {
    b"GetItem": {"ConsumedCapacity": {"CapacityUnits": 0.5, "TableName": TABLE}, "Item": ITEM},
    b"PutItem": {"ConsumedCapacity": {"CapacityUnits": 1.0, "TableName": TABLE}},
    b"Query": {"ConsumedCapacity": {"CapacityUnits": 0.5, "TableName": TABLE}, "Count": 1, "Items": [ITEM], "ScannedCount": 1},
    b"ExecuteStatement": {"ConsumedCapacity": {"CapacityUnits": 1.0, "TableName": TABLE}, "Items": []},
    b"BatchWriteItem": {"ConsumedCapacity": [{"CapacityUnits": 25.0, "TableName": TABLE}], "UnprocessedItems": {}},
    QUERY_10: {
        "ConsumedCapacity": {"CapacityUnits": 1.0, "TableName": TABLE},
        "Count": 10,
        "Items": [{**ITEM, "primary_key": {"S": f"key#{number}"}} for number in range(10)],
        "ScannedCount": 10,
    },
}


def response_bytes(body: dict, date: str) -> bytes:
    """A complete HTTP response with DynamoDB's headers for a JSON body."""
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Server: Server\r\n"
        f"Date: {date}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(data)}\r\n"
        "Connection: keep-alive\r\n"
        f"x-amzn-RequestId: {REQUEST_ID}\r\n"
        f"x-amz-crc32: {crc32(data)}\r\n\r\n"
    )
    return head.encode() + data


class Responses:
    """Precomputed responses per operation, rebuilt once a second for the Date header."""

    def __init__(self):
        self._second = -1
        self._by_operation: dict[bytes, bytes] = {}
        self._default = b""

    def for_operation(self, operation: bytes) -> bytes:
        second = int(time.time())
        if second != self._second:
            date = formatdate(second, usegmt=True)
            self._by_operation = {name: response_bytes(body, date) for name, body in BODIES.items()}
            self._default = response_bytes({}, date)
            self._second = second
        return self._by_operation.get(operation, self._default)


class NullDynamoDB(asyncio.Protocol):
    """One keep-alive connection: answer every complete request in the buffer."""

    responses = Responses()

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes):
        buffer = self.buffer + data if self.buffer else data
        out = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = _content_length(head)
            if len(buffer) < end + 4 + length:
                break
            operation = _operation(head)
            if operation == b"Query" and b'"Limit":10' in buffer[end + 4 : end + 4 + length].replace(b" ", b""):
                operation = QUERY_10
            out.append(self.responses.for_operation(operation))
            buffer = buffer[end + 4 + length :]
        self.buffer = buffer
        if out:
            self.transport.write(b"".join(out))


def _content_length(head: bytes) -> int:
    start = head.lower().find(CONTENT_LENGTH)
    if start < 0:
        return 0
    start += len(CONTENT_LENGTH)
    stop = head.find(b"\r\n", start)
    return int(head[start : stop if stop >= 0 else len(head)])


def _operation(head: bytes) -> bytes:
    start = head.find(TARGET_PREFIX)
    if start < 0:
        return b""
    start += len(TARGET_PREFIX)
    stop = head.find(b"\r\n", start)
    return head[start : stop if stop >= 0 else len(head)]


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:port (0: any free port), print the port, serve forever."""
    server = await asyncio.get_running_loop().create_server(NullDynamoDB, "127.0.0.1", port, reuse_address=True)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
