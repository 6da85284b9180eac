"""Every HTTP attempt a client makes, retries included, reported to a listener.

botocore retries throttled requests inside one call (up to 10 attempts by default), so a Locust
request can hide several throttles. botocore's `needs-retry` event fires once per attempt; the
harness's fast client calls listeners the same way. Listeners get
(operation name, request body as a dict, parsed response or error dict, HTTP status or None).
"""

from __future__ import annotations

import json
import zlib
from functools import partial
from typing import Callable

DAMAGED_ANSWER = "ChecksumError"
"""The error code listeners get for an answer whose x-amz-crc32 does not match its body (botocore's exception name)."""

AttemptListener = Callable[[str, dict, dict, "int | None"], None]


def observe_attempts(client, listener: AttemptListener) -> None:
    """Call `listener` after every HTTP attempt `client` makes (boto3 client or the harness's fast client)."""
    if hasattr(client, "add_attempt_listener"):
        client.add_attempt_listener(listener)
        return
    # first: botocore's own retry handler re-raises the connection error of a final attempt, and later handlers never see it
    client.meta.events.register_first("needs-retry.dynamodb", partial(_from_botocore, listener))


def _from_botocore(listener: AttemptListener, response=None, operation=None, request_dict=None, caught_exception=None, **_) -> None:
    """botocore's needs-retry handler: never decides retries itself (returns None)."""
    body = _body(request_dict)
    if response is not None:
        http_response, parsed = response
        if not _crc32_matches(http_response):  # botocore retries it as an error; it is one
            parsed = {"Error": {"Code": DAMAGED_ANSWER, "Message": "x-amz-crc32 does not match the body"}}
        listener(operation.name, body, parsed, http_response.status_code)
    elif caught_exception is not None:
        listener(operation.name, body, {"Error": {"Code": type(caught_exception).__name__, "Message": str(caught_exception)}}, None)


def _crc32_matches(http_response) -> bool:
    """True unless the answer carries an x-amz-crc32 its body does not match (cut short or damaged on the way)."""
    expected = http_response.headers.get("x-amz-crc32")
    if expected is None:
        return True
    try:
        return zlib.crc32(http_response.content) == int(expected)
    except (ValueError, TypeError):
        return False


def _body(request_dict: dict | None) -> dict:
    raw = (request_dict or {}).get("body") or b"{}"
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return {}
