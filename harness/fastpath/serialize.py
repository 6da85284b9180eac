"""Request bodies, byte for byte what botocore's JSON serializer writes for DynamoDB.

botocore builds a new dict from the parameters in their own order and `json.dumps` it with the
default separators. In DynamoDB's input model the only member it transforms is a blob
(AttributeValue `B` and the items of `BS`: base64 text); tests/test_fastpath_identity.py checks
the model still says so. So the body is `json.dumps(params)` unless a blob may be present, and
then botocore's own serializer writes it.
"""

from __future__ import annotations

import json

from botocore.serialize import create_serializer

# A key "B" or "BS" in the JSON text: a binary attribute value may be present (or just an
# attribute called B: a false alarm only costs the slower, exact path).
BLOB_KEYS = (b'"B": ', b'"BS": ')

_botocore_serializer = create_serializer("json", include_validation=False)


def serialize_body(operation_model, params: dict) -> tuple[bytes, bool]:
    """The JSON body botocore sends for `params` of `operation_model` (validation off, as the harness configures).

    The flag says whether the body is plain `json.dumps(params)`, so that decoding it gives back
    a dict equal to `params`; False when botocore's serializer wrote it (blobs).
    """
    try:
        body = json.dumps(params).encode()
    except TypeError:  # bytes (a blob) or another type botocore converts
        return botocore_body(operation_model, params), False
    if BLOB_KEYS[0] in body or BLOB_KEYS[1] in body:
        return botocore_body(operation_model, params), False
    return body, True


def botocore_body(operation_model, params: dict) -> bytes:
    """botocore's own serialization of `params` (the exact path for bodies with blobs)."""
    return _botocore_serializer.serialize_to_request(params, operation_model)["body"]
