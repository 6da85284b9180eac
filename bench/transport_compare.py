"""HTTP transports for the fast path, CPU µs per request against the null endpoint (a benchmark, not a test).

    .venv/bin/python -m bench.transport_compare [--seconds 3] [--runs 5]

Under gevent's monkey-patching (as in Locust), one greenlet sends the same GetItem request
(raw bytes, no signing) back to back, pinned to CPU 0 with the null endpoint on CPU 1:
  gevent socket           sendall + recv on a bare socket: the floor
  harness Transport       harness/fastpath/transport.py (own pool, llhttp parser, raw head)
  geventhttpclient pool   geventhttpclient's ConnectionPool + HTTPSocketPoolResponse
  geventhttpclient client geventhttpclient.HTTPClient.request (what FastHttpUser builds on)
Prints the median CPU µs per request of the runs.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from geventhttpclient import HTTPClient  # noqa: E402
from geventhttpclient.connectionpool import ConnectionPool  # noqa: E402
from geventhttpclient.response import HTTPSocketPoolResponse  # noqa: E402

from bench.run import CLIENT_CPU, null_endpoint  # noqa: E402
from bench.workloads import cpu_seconds, pin_to  # noqa: E402
from harness.fastpath.transport import Transport  # noqa: E402

BODY = b'{"TableName": "bench", "Key": {"primary_key": {"S": "key#1"}}, "ReturnConsumedCapacity": "INDEXES"}'
HEADERS = {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"}


def raw_request(port: int) -> bytes:
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {len(BODY)}\r\n\r\n"
    return head.encode() + BODY


def senders(port: int) -> dict:
    request = raw_request(port)
    bare = socket.create_connection(("127.0.0.1", port))
    bare.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def bare_socket():
        bare.sendall(request)
        bare.recv(65536)  # the null endpoint's answer arrives in one segment

    transport = Transport(f"http://127.0.0.1:{port}/", 4, 2, 10)
    pool = ConnectionPool("127.0.0.1", port, "127.0.0.1", port, size=4)

    def geventhttpclient_pool():
        sock = pool.get_socket()
        sock.sendall(request)
        HTTPSocketPoolResponse(sock, pool, method="POST").read()

    client = HTTPClient("127.0.0.1", port, concurrency=4)
    return {
        "gevent socket": bare_socket,
        "harness Transport": lambda: transport.send(request),
        "geventhttpclient pool": geventhttpclient_pool,
        "geventhttpclient client": lambda: client.request("POST", "/", body=BODY, headers=HEADERS).read(),
    }


def cpu_us_per_request(send, seconds: float) -> float:
    for _ in range(200):
        send()
    cpu, started, count = cpu_seconds(), time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        send()
        count += 1
    return (cpu_seconds() - cpu) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pin_to(CLIENT_CPU)
    with null_endpoint() as (url, _):
        measured: dict[str, list[float]] = {}
        for _ in range(args.runs):
            for label, send in senders(int(url.rsplit(":", 1)[1])).items():
                measured.setdefault(label, []).append(cpu_us_per_request(send, args.seconds))
    for label, values in measured.items():
        print(f"{label:24s} {statistics.median(values):7.1f} CPU µs/request  (median of {args.runs}; min {min(values):.1f}, max {max(values):.1f})")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
