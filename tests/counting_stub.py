"""A counting DynamoDB stand-in for end-to-end runs: existing tables, ring GetItem, one-page Scan and Query.

It answers what `ddb-harness run` and `setup` send (DescribeTable, CreateTable, TagResource,
ListTagsOfResource, BatchWriteItem) and what the four workloads send, plus STS GetCallerIdentity (query protocol, XML) so the AWS plan
can name an account. It also serves as the far end of an HTTP proxy: botocore sends requests for an
`http://` endpoint through `HTTP_PROXY` with an absolute URL as the path, which is answered the same.

Counting (under one lock, after the answer is written):
- `attempts[operation]`: HTTP requests answered, SDK retries included;
- `invocations[operation]`: distinct `amz-sdk-invocation-id` headers, i.e. SDK calls however often retried;
- `faults_sent[(operation, code)]`: error answers injected by `fault`;
- `written[table]`: items written by ExecuteStatement INSERT, PutItem and BatchWriteItem.
`fault(operation, invocation_number, attempt)` returns an error code from ERRORS (or None) for each
DynamoDB request; invocation_number counts SDK calls per operation from 0, attempt comes from `amz-sdk-request`.
`security_tokens` and `access_key_ids` collect what the requests were signed with.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from typing import Callable

from dynamodb_stub import _Server, read_request, send_json

from harness.scenario import TableSpec
from harness.target import tables

ACCOUNT = "123456789012"
STS_ANSWER = f"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/stub</Arn><UserId>AIDASTUBSTUBSTUB</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult>
  <ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>
""".encode()
# code -> (HTTP status, __type namespace)
ERRORS = {
    "ProvisionedThroughputExceededException": (400, "com.amazonaws.dynamodb.v20120810"),
    "InternalServerError": (500, "com.amazonaws.dynamodb.v20120810"),
    "ResourceNotFoundException": (400, "com.amazonaws.dynamodb.v20120810"),
    "InvalidSignatureException": (400, "com.amazon.coral.service"),
    "IncompleteSignatureException": (400, "com.amazon.coral.service"),
}


def described(spec: TableSpec, created: float = 1767323045.0) -> dict:
    """DescribeTable's Table for a table spec, ACTIVE, with the schema ensure_table compares."""
    request = tables.create_table_request(spec)
    table = {
        "TableName": spec.name,
        "TableArn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{spec.name}",
        "TableStatus": "ACTIVE",
        "CreationDateTime": created,
        "AttributeDefinitions": request["AttributeDefinitions"],
        "KeySchema": request["KeySchema"],
        "BillingModeSummary": {"BillingMode": spec.billing_mode},
        "ItemCount": 0,
    }
    if "ProvisionedThroughput" in request:
        table["ProvisionedThroughput"] = request["ProvisionedThroughput"]
    if request.get("GlobalSecondaryIndexes"):
        table["GlobalSecondaryIndexes"] = [{**index, "IndexStatus": "ACTIVE"} for index in request["GlobalSecondaryIndexes"]]
    return table


class CountingDynamoDB(_Server):
    """Threaded stub on 127.0.0.1:<free port>; `tables` exist from the start, `rings` map a ring table to its walk order."""

    def __init__(self, table_specs: list[TableSpec] = (), rings: dict[str, list[str]] | None = None, fault: Callable[[str, int, int], str | None] | None = None):
        self.tables = {spec.name: described(spec) for spec in table_specs}
        self.next_key = {name: {key: keys[(i + 1) % len(keys)] for i, key in enumerate(keys)} for name, keys in (rings or {}).items()}
        self.fault = fault
        self.attempts: Counter = Counter()
        self.invocations: Counter = Counter()
        self.faults_sent: Counter = Counter()
        self.written: Counter = Counter()
        self.tags: dict[str, list] = {}
        self.security_tokens: set[str] = set()
        self.access_key_ids: set[str] = set()
        self._invocation_numbers: dict[tuple[str, str], int] = {}

    def handle(self, handler) -> None:
        operation, raw = read_request(handler)
        headers = handler.headers
        if not operation and raw.startswith(b"Action=GetCallerIdentity"):
            operation = "sts:GetCallerIdentity"
        with self.lock:
            self._note_credentials(headers)
            invocation = headers.get("amz-sdk-invocation-id", "")
            key = (operation, invocation)
            if key not in self._invocation_numbers:
                self._invocation_numbers[key] = self.invocations[operation]
                self.invocations[operation] += 1
            number = self._invocation_numbers[key]
        attempt = int(re.search(r"attempt=(\d+)", headers.get("amz-sdk-request", "attempt=1")).group(1))
        code = self.fault(operation, number, attempt) if self.fault and operation != "sts:GetCallerIdentity" else None
        if code:
            status, body = self.error(code, headers)
        elif operation == "sts:GetCallerIdentity":
            status, body = 200, STS_ANSWER
        else:
            status, body = self.answer(operation, json.loads(raw or b"{}"))
        if operation == "sts:GetCallerIdentity":
            self._send_xml(handler, status, body)
        else:
            send_json(handler, status, body)
        with self.lock:
            self.attempts[operation] += 1
            if code:
                self.faults_sent[(operation, code)] += 1

    def _note_credentials(self, headers) -> None:
        if headers.get("X-Amz-Security-Token"):
            self.security_tokens.add(headers["X-Amz-Security-Token"])
        found = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
        if found:
            self.access_key_ids.add(found.group(1))

    def answer(self, operation: str, body: dict) -> tuple[int, bytes]:
        table = body.get("TableName", "")
        capacity = {"TableName": table, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}
        if operation == "DescribeTable":
            if table not in self.tables:
                return self.error("ResourceNotFoundException", {}, f"Requested resource not found: Table: {table} not found")
            return 200, json.dumps({"Table": self.tables[table]}).encode()
        if operation == "CreateTable":
            return self.create_table(body)
        if operation == "TagResource":
            with self.lock:
                self.tags[body["ResourceArn"]] = body["Tags"]
            return 200, b"{}"
        if operation == "ListTagsOfResource":
            return 200, json.dumps({"Tags": self.tags.get(body["ResourceArn"], [])}).encode()
        if operation == "GetItem":
            key = body["Key"]["primary_key"]["S"]
            item = {"primary_key": {"S": key}, "next_primary_key": {"S": self.next_key[table][key]}}
            return 200, json.dumps({"Item": item, "ConsumedCapacity": capacity}).encode()
        if operation in ("Scan", "Query"):
            return 200, json.dumps({"Count": 0, "ScannedCount": 0, "Items": [], "ConsumedCapacity": capacity}).encode()
        if operation in ("ExecuteStatement", "PutItem"):
            table = table or re.search(r'"([^"]+)"', body.get("Statement", '""')).group(1)
            with self.lock:
                self.written[table] += 1
            return 200, b"{}"
        if operation == "BatchWriteItem":
            with self.lock:
                for name, requests in body["RequestItems"].items():
                    self.written[name] += len(requests)
            return 200, b'{"UnprocessedItems": {}}'
        return 400, json.dumps({"__type": "com.amazon.coral.service#UnknownOperationException", "message": f"stub: no {operation}"}).encode()

    def create_table(self, body: dict) -> tuple[int, bytes]:
        """CreateTable: the table is ACTIVE at once (the waiter's first DescribeTable finds it)."""
        table = {key: value for key, value in body.items() if key not in ("Tags", "BillingMode")}
        table.update(
            TableArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{body['TableName']}", TableStatus="ACTIVE",
            CreationDateTime=time.time(), BillingModeSummary={"BillingMode": body.get("BillingMode", "PROVISIONED")}, ItemCount=0,
        )  # fmt: skip
        for index in table.get("GlobalSecondaryIndexes", []):
            index["IndexStatus"] = "ACTIVE"
        with self.lock:
            self.tables[body["TableName"]] = table
            self.tags[table["TableArn"]] = body.get("Tags", [])
        return 200, json.dumps({"TableDescription": table}).encode()

    def error(self, code: str, headers, message: str = "stub error") -> tuple[int, bytes]:
        """An error answer; the signature errors quote the request as AWS does (its canonical string, its Authorization)."""
        status, namespace = ERRORS[code]
        if code == "InvalidSignatureException":
            message = canonical_string_message(headers)
        elif code == "IncompleteSignatureException":
            message = f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={headers.get('Authorization', '')}"
        return status, json.dumps({"__type": f"{namespace}#{code}", "message": message}).encode()

    @staticmethod
    def _send_xml(handler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("x-amzn-RequestId", "stub")
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()


def canonical_string_message(headers) -> str:
    """InvalidSignatureException's message as DynamoDB words it: the canonical request it expected, signed header values included."""
    signed = re.search(r"SignedHeaders=([^,\s]+)", headers.get("Authorization", ""))
    names = signed.group(1).split(";") if signed else ["host", "x-amz-date"]
    canonical = "\n".join(["POST", "/", ""] + [f"{name}:{headers.get(name, '')}" for name in names] + ["", ";".join(names), "0" * 64])
    date = headers.get("X-Amz-Date", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    return (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key "
        "and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n"
        f"'{canonical}'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n{date}\n{date[:8]}/us-east-1/dynamodb/aws4_request\n{'0' * 64}'\n"
    )


def aws_proxy_env(stub: CountingDynamoDB, **extra: str) -> dict[str, str]:
    """An environment where every http:// AWS endpoint (DynamoDB and STS) reaches `stub` as its HTTP proxy.

    No AWS_* variable of the caller's survives (no real credentials, profile or endpoint), the
    instance metadata service is off, and STS is sent to http://sts.us-east-1.amazonaws.com, so
    nothing leaves the machine. `extra` adds or overrides variables (credentials, profile...).
    """
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_") and name.lower() not in proxies}
    env.update(
        HTTP_PROXY=stub.url, http_proxy=stub.url, AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_ENDPOINT_URL_STS="http://sts.us-east-1.amazonaws.com",
    )  # fmt: skip
    env.update(extra)
    return env
