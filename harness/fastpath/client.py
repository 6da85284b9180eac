"""FastDynamoDBClient: boto3's data-plane methods at a fraction of boto3's CPU cost.

Each call sends what botocore sends (same body, headers, SigV4 signature, amz-sdk-* headers),
over keep-alive sockets (gevent's under Locust) read by geventhttpclient's HTTP parser, and returns what boto3 returns (same dicts, ResponseMetadata, the same
ClientError subclasses). Control-plane calls, waiters, paginators, `meta` and `exceptions` are
the real boto3 client's, created alongside.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from urllib.parse import urlsplit

from botocore.compat import get_current_datetime
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError, NoCredentialsError

from harness.fastpath.attempts import DAMAGED_ANSWER
from harness.fastpath.parsing import crc32_matches, parse_response
from harness.fastpath.request import Endpoint, encode_request, endpoint_for, new_invocation_id, sdk_request_header
from harness.fastpath.retries import RetryPolicy, sleep
from harness.fastpath.serialize import serialize_body
from harness.fastpath.signing import SigV4Signer, amz_date
from harness.fastpath.transport import Transport

# The operations the harness sends through the fast path; everything else goes to boto3.
FAST_OPERATIONS = (
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "ExecuteStatement", "BatchWriteItem", "BatchGetItem", "TransactWriteItems",
)  # fmt: skip
TTL_FORMAT = "%Y%m%dT%H%M%SZ"
DATE_HEADER_FORMAT = "%a, %d %b %Y %H:%M:%S %Z"


class OperationSpec:
    """What the fast path needs to know about one operation, computed once."""

    __slots__ = ("name", "model", "target", "output_members")

    def __init__(self, operation_model):
        self.name = operation_model.name
        self.model = operation_model
        self.target = f"{operation_model.metadata['targetPrefix']}.{operation_model.name}"
        self.output_members = tuple(operation_model.output_shape.members) if operation_model.output_shape else ()


class FastDynamoDBClient:
    """A DynamoDB client whose data-plane calls skip boto3's request machinery but not its behaviour.

    `boto_client` is a real boto3 DynamoDB client built with the same Config (it answers every
    other method and attribute); `credentials` a botocore Credentials object (refreshable ones
    refresh as in botocore: get_frozen_credentials() per attempt); `fixed_url` the endpoint URL
    when the target gives one (otherwise botocore's endpoint rules are asked once per operation
    and table). Thread- and greenlet-safe: one keep-alive pool per endpoint, at most `pool_size` idle connections.
    """

    def __init__(self, boto_client, credentials, region: str, fixed_url: str | None, pool_size: int, connect_timeout: float, read_timeout: float):
        self._boto = boto_client
        self._credentials = credentials
        self._signer = SigV4Signer(region)
        self._user_agent = boto_client._user_agent_creator.to_string()
        retries = boto_client.meta.config.retries or {}
        self._retry = RetryPolicy(retries.get("mode", "legacy"), retries.get("total_max_attempts"))
        self._read_timeout = read_timeout
        self._transport_args = (pool_size, connect_timeout, read_timeout, _tls_verify(boto_client))
        self._transports: dict[str, object] = {}
        self._lock = threading.Lock()
        self._routed = None
        service_model = boto_client.meta.service_model
        self._specs = {name: OperationSpec(service_model.operation_model(name)) for name in FAST_OPERATIONS}
        self._fixed = endpoint_for(fixed_url) if fixed_url else None
        self._endpoints: dict[tuple, Endpoint] = {}
        self._listeners: list = []
        self._clock = time.time
        """Seconds since the epoch for X-Amz-Date (tests pin it)."""
        self._new_invocation_id = new_invocation_id
        """amz-sdk-invocation-id factory (tests pin it)."""
        self._date_cache = (-1, "")

    # ---- the data plane -----------------------------------------------------------------

    def get_item(self, **params) -> dict:
        """DynamoDB GetItem."""
        return self._invoke("GetItem", params)

    def put_item(self, **params) -> dict:
        """DynamoDB PutItem."""
        return self._invoke("PutItem", params)

    def update_item(self, **params) -> dict:
        """DynamoDB UpdateItem."""
        return self._invoke("UpdateItem", params)

    def delete_item(self, **params) -> dict:
        """DynamoDB DeleteItem."""
        return self._invoke("DeleteItem", params)

    def query(self, **params) -> dict:
        """DynamoDB Query (one page)."""
        return self._invoke("Query", params)

    def scan(self, **params) -> dict:
        """DynamoDB Scan (one page)."""
        return self._invoke("Scan", params)

    def execute_statement(self, **params) -> dict:
        """DynamoDB ExecuteStatement (PartiQL)."""
        return self._invoke("ExecuteStatement", params)

    def batch_write_item(self, **params) -> dict:
        """DynamoDB BatchWriteItem."""
        return self._invoke("BatchWriteItem", params)

    def batch_get_item(self, **params) -> dict:
        """DynamoDB BatchGetItem."""
        return self._invoke("BatchGetItem", params)

    def transact_write_items(self, **params) -> dict:
        """DynamoDB TransactWriteItems."""
        return self._invoke("TransactWriteItems", params)

    # ---- everything else ----------------------------------------------------------------

    def __getattr__(self, name: str):
        """Control plane, waiters, paginators, meta, exceptions: the boto3 client's."""
        return getattr(self._boto, name)

    def add_attempt_listener(self, listener) -> None:
        """Call listener(operation, request body dict, parsed response or error dict, HTTP status or None) after every attempt.

        The request body dict is the call's parameters when they serialize as plain JSON (then
        equal to the decoded body, which botocore's path hands over) and the decoded body otherwise.
        Control-plane calls made through the boto3 client are observed too, through botocore's
        needs-retry event, exactly as harness.fastpath.attempts does for a plain boto3 client.
        """
        from harness.fastpath.attempts import observe_attempts

        self._listeners.append(listener)
        observe_attempts(self._boto, listener)

    def route_through(self, transport) -> None:
        """Send every data-plane request through `transport` (its `send(raw request) -> RawResponse`):
        the in-process capacity gate (harness.gate.in_process)."""
        self._routed = transport

    def close(self) -> None:
        """Close idle connections."""
        for transport in self._transports.values():
            transport.close()

    # ---- one call -----------------------------------------------------------------------

    def _invoke(self, operation: str, params: dict) -> dict:
        spec = self._specs[operation]
        body, plain = serialize_body(spec.model, params)
        endpoint = self._fixed or self._resolve_endpoint(spec, params)
        transport = self._transport(endpoint.url)
        retries = {"attempt": 1, "invocation-id": self._new_invocation_id()}
        if self._retry.seeds_max:
            retries["max"] = self._retry.max_attempts
        context = {"retries": retries}
        # What attempt listeners get as the request body: `params` when the body is plain JSON of
        # them (equal to decoding it, without the cost), else the decoded body.
        attempt, request_body = 1, params if plain else None
        while True:
            self._retry.before_send()
            request = encode_request(
                self._signer, self._frozen_credentials(), endpoint, spec.target,
                self._user_agent, self._amz_date(), body, retries["invocation-id"], sdk_request_header(retries),
            )  # fmt: skip
            try:
                raw, exception = transport.send(request), None
            except (HTTPClientError, BotoConnectionError) as exc:
                raw, exception = None, exc
            parsed = None if raw is None else parse_response(spec.model, spec.output_members, raw)
            clean = raw is not None and raw.status < 300 and crc32_matches(raw)
            if self._listeners:  # before the retry decision: legacy mode re-raises a final attempt's connection error there
                request_body = request_body if request_body is not None else json.loads(body)
                self._notify(spec.name, request_body, raw, parsed, exception)
            try:
                delay = self._retry.delay(attempt, spec.model, raw, parsed, exception, context, clean)
            except (HTTPClientError, BotoConnectionError) as raised:
                if raised is not exception:
                    raise
                delay = None
            if delay is None:
                break
            sleep(delay)
            attempt += 1
            retries["attempt"] = attempt
            if raw is not None:
                self._set_ttl(retries, raw)
        if exception is not None:
            exception.retry_attempts = attempt - 1  # no response carries RetryAttempts: the caller reads it here
            raise exception
        parsed["ResponseMetadata"]["RetryAttempts"] = attempt - 1
        self._retry.after_call(context, raw)
        if raw.status >= 300:
            raise self._boto.exceptions.from_code(parsed.get("Error", {}).get("Code"))(parsed, spec.name)
        return parsed

    def _notify(self, operation: str, request_body: dict, raw, parsed, exception) -> None:
        """Listeners get what harness.fastpath.attempts gives them for a boto3 client (the body decoded once per call)."""
        if raw is not None and not crc32_matches(raw):  # retried as an error: a listener counts it as one
            outcome, status = {"Error": {"Code": DAMAGED_ANSWER, "Message": "x-amz-crc32 does not match the body"}}, raw.status
        elif raw is not None:
            outcome, status = parsed, raw.status
        else:
            outcome, status = {"Error": {"Code": type(exception).__name__, "Message": str(exception)}}, None
        for listener in self._listeners:
            listener(operation, request_body, outcome, status)

    def _frozen_credentials(self):
        """This attempt's credentials (botocore refreshes expiring ones here); NoCredentialsError without any."""
        if self._credentials is None:
            raise NoCredentialsError()
        return self._credentials.get_frozen_credentials()

    def _amz_date(self) -> str:
        """X-Amz-Date for now, formatted once per second."""
        second = int(self._clock())
        cached_second, text = self._date_cache
        if second != cached_second:
            text = amz_date(second)
            self._date_cache = (second, text)  # one assignment: threads never see a mismatched pair
        return text

    def _set_ttl(self, retries: dict, raw) -> None:
        """botocore's `ttl` in amz-sdk-request: when the attempt may expire, on the server's clock."""
        date_header = raw.headers.get("date")
        if not date_header:
            return
        try:
            received = get_current_datetime()
            skew = datetime.datetime.strptime(date_header, DATE_HEADER_FORMAT) - received
            ttl = get_current_datetime() + datetime.timedelta(seconds=self._read_timeout) + skew
            retries["ttl"] = ttl.strftime(TTL_FORMAT)
        except ValueError:
            pass

    def _resolve_endpoint(self, spec: OperationSpec, params: dict) -> Endpoint:
        """botocore's endpoint rules for this operation and table (account-based endpoints on AWS), cached."""
        key = (spec.name, params.get("TableName"))
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            url, _, _ = self._boto._resolve_endpoint_ruleset(spec.model, params, {})
            endpoint = self._endpoints[key] = endpoint_for(url)
        return endpoint

    def _transport(self, url: str):
        if self._routed is not None:
            return self._routed
        transport = self._transports.get(url)
        if transport is None:
            with self._lock:
                transport = self._transports.get(url)
                if transport is None:
                    transport = self._transports[url] = Transport(url, *self._transport_args)
        return transport


def unsupported_reason(boto_client) -> str | None:
    """Why the fast path cannot send what this boto3 client would send, or None.

    botocore sends through an HTTP(S) proxy when the environment or Config(proxies=...) names one
    for the endpoint; the fast path has no proxy support, so such a client stays on boto3.
    """
    url = boto_client.meta.endpoint_url
    proxies = getattr(getattr(boto_client._endpoint, "http_session", None), "_proxy_config", None)
    if proxies is not None and proxies.proxy_url_for(url):
        proxy = urlsplit(proxies.proxy_url_for(url))
        return f"botocore would send through the proxy {proxy.scheme}://{proxy.hostname}:{proxy.port} for {url}"  # no user:password
    return None


def _tls_verify(boto_client):
    """botocore's certificate verification setting for this client: a CA bundle path, True or False."""
    return getattr(getattr(boto_client._endpoint, "http_session", None), "_verify", True)
