"""Whether an attempt was throttled, and why (DynamoDB's ThrottlingReasons or the error code)."""

from __future__ import annotations

from harness.errors import is_throttled_answer


def error_code_of(parsed: dict) -> str | None:
    """The error code of a parsed botocore response ({'Error': {'Code': ...}}), None on success."""
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    return error.get("Code") if isinstance(error, dict) else None


def is_throttle(code: str | None, parsed: dict | None = None) -> bool:
    """True for ProvisionedThroughputExceededException, ThrottlingException and the other THROTTLE_CODES,
    and for a transaction cancelled because some of its items were throttled."""
    return is_throttled_answer(code, parsed or {})


def throttle_reason(parsed: dict, code: str) -> str:
    """The reasons DynamoDB gave, joined by ";" (an index resource is named in parentheses), else the code.

    A parsed throttling error may carry 'ThrottlingReasons': [{'reason': 'TableReadProvisionedThroughputExceeded',
    'resource': 'arn:aws:dynamodb:...:table/t'}]; a reason about an index reads
    'IndexWriteProvisionedThroughputExceeded(GSI_1)'.
    """
    reasons = []
    for entry in parsed.get("ThrottlingReasons") or []:
        reason = entry.get("reason") or code
        index = index_of_resource(entry.get("resource") or "")
        reasons.append(f"{reason}({index})" if index else reason)
    return ";".join(reasons) or code


def index_of_resource(arn: str) -> str:
    """The index name in an ARN like arn:aws:dynamodb:r:a:table/t/index/i, else ""."""
    _, found, index = arn.partition("/index/")
    return index.split("/", 1)[0] if found else ""
