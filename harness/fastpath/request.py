"""The bytes botocore puts on the wire for one attempt of a DynamoDB call.

botocore's AWSPreparedRequest carries, in this order: X-Amz-Target, Content-Type, User-Agent,
X-Amz-Date, X-Amz-Security-Token (session credentials only), Authorization,
amz-sdk-invocation-id, amz-sdk-request, Content-Length; http.client then writes the request
line, Host and `Accept-Encoding: identity` before them. This module writes the same bytes.
"""

from __future__ import annotations

import random
from typing import NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

from botocore.auth import _host_from_url
from botocore.utils import normalize_url_path

from harness.fastpath.signing import CONTENT_TYPE, SigV4Signer

SDK_REQUEST_KEYS = ("ttl", "attempt", "max")  # botocore.handlers.add_retry_headers
# uuid.UUID(version=4): version nibble 4 (bits 76-79), variant bits 10 (bits 62-63).
UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
UUID4_SET = (4 << 76) | (0x8000 << 48)
_random_bits = random.getrandbits


class Endpoint(NamedTuple):
    """Where one operation's requests go: the request URL (botocore's, path included), Host header, path, canonical path."""

    url: str
    host: str
    path: str
    canonical_path: str


def endpoint_for(url: str) -> Endpoint:
    """The Endpoint of a URL as botocore derives it (path '/' unless the endpoint URL has one)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    request_url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return Endpoint(request_url, _host_from_url(url), path, quote(normalize_url_path(path), safe="/~"))


def new_invocation_id() -> str:
    """amz-sdk-invocation-id: a fresh UUID version 4 per call, the same for all its attempts (as botocore).

    botocore writes str(uuid.uuid4()); this is the same format from Python's PRNG, which spares
    the os.urandom system call (the id correlates attempts, it is no secret).
    """
    bits = _random_bits(128) & UUID4_CLEAR | UUID4_SET
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def sdk_request_header(retries: dict) -> str:
    """amz-sdk-request from the call's retry context: 'attempt=1; max=3', 'ttl=...; attempt=2; max=3'."""
    return "; ".join(f"{key}={retries[key]}" for key in SDK_REQUEST_KEYS if key in retries)


def encode_request(
    signer: SigV4Signer,
    credentials,
    endpoint: Endpoint,
    target: str,
    user_agent: str,
    date: str,
    body: bytes,
    invocation_id: str,
    sdk_request: str,
) -> bytes:
    """One signed attempt as raw HTTP/1.1 bytes: request line, headers, body.

    `credentials` are frozen (access_key, secret_key, token); `date` is the X-Amz-Date value.
    """
    authorization = signer.authorization(credentials, endpoint.host, endpoint.canonical_path, target, date, body)
    token = f"X-Amz-Security-Token: {credentials.token}\r\n" if credentials.token else ""
    head = (
        f"POST {endpoint.path} HTTP/1.1\r\n"
        f"Host: {endpoint.host}\r\n"
        "Accept-Encoding: identity\r\n"
        f"X-Amz-Target: {target}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\n"
        f"User-Agent: {user_agent}\r\n"
        f"X-Amz-Date: {date}\r\n"
        f"{token}"
        f"Authorization: {authorization}\r\n"
        f"amz-sdk-invocation-id: {invocation_id}\r\n"
        f"amz-sdk-request: {sdk_request}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
