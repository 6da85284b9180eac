"""Responses to the Python structures boto3 returns, and errors to botocore's ClientError.

A success body is `json.loads`ed and its top-level members kept in the output shape's order,
skipping unmodeled and null members, as botocore's JSON parser does. Whenever the body may hold a
binary value (a "B"/"BS" key) or is not a JSON object, and for every error, botocore's own parser
does the work, so those cases are botocore's by construction. DynamoDB sends no unmodeled or
null members below the top level; the fast parse keeps them as sent if one ever did.
"""

from __future__ import annotations

import json
from zlib import crc32

from botocore.parsers import create_parser

CRC32_HEADER = "x-amz-crc32"
REQUEST_ID_HEADER = "x-amzn-requestid"
BLOB_MARKERS = (b'"B"', b'"BS"')

_botocore_parser = create_parser("json")


def crc32_matches(raw) -> bool:
    """True unless the response carries an x-amz-crc32 header that its body does not match."""
    expected = raw.headers.get(CRC32_HEADER)
    return expected is None or crc32(raw.body) == int(expected)


def parse_response(operation_model, output_members: tuple[str, ...], raw) -> dict:
    """The dict boto3 returns for this HTTP response, ResponseMetadata included (RetryAttempts is set by the caller)."""
    if raw.status >= 301:
        return parse_error(operation_model, raw)
    body = raw.body
    if BLOB_MARKERS[0] in body or BLOB_MARKERS[1] in body:
        return botocore_parse(operation_model, raw)
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return botocore_parse(operation_model, raw)
    if not isinstance(data, dict):
        return botocore_parse(operation_model, raw)
    parsed = {name: data[name] for name in output_members if data.get(name) is not None}
    metadata = {}
    request_id = raw.headers.get(REQUEST_ID_HEADER)
    if request_id is not None:
        metadata["RequestId"] = request_id
    metadata["HTTPStatusCode"] = raw.status
    metadata["HTTPHeaders"] = raw.headers
    parsed["ResponseMetadata"] = metadata
    return parsed


def botocore_parse(operation_model, raw) -> dict:
    """botocore's parse of a success response."""
    return _botocore_parser.parse(_response_dict(raw), operation_model.output_shape)


def parse_error(operation_model, raw) -> dict:
    """botocore's parse of an error response, modeled error fields (ThrottlingReasons, CancellationReasons...) at the top level."""
    response = _response_dict(raw)
    parsed = _botocore_parser.parse(response, operation_model.output_shape)
    code = parsed.get("Error", {}).get("Code")
    if code is not None:
        error_shape = operation_model.service_model.shape_for_error_code(code)
        if error_shape is not None:
            parsed.update(_botocore_parser.parse(response, error_shape))
    return parsed


def _response_dict(raw) -> dict:
    return {"headers": raw.headers, "status_code": raw.status, "body": raw.body, "context": {}}
