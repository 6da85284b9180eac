"""Errors the harness raises for the user to read, and the one place DynamoDB errors are classified."""

from __future__ import annotations

from harness.redact import redact

# Error codes DynamoDB answers when a request exceeds capacity or a service rate.
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)
# A cancelled transaction whose items were refused for capacity is a throttle, not a failed condition.
THROTTLED_ITEM_CODES = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError"})
CONDITIONAL_CODES = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
# The API model names the PartiQL duplicate-key error DuplicateItemException; DynamoDB Local answers DuplicateItem.
VALIDATION_CODES = frozenset({"ValidationException", "SerializationException", "DuplicateItemException", "DuplicateItem"})

THROTTLED = "throttled"
CONDITIONAL = "conditional"
VALIDATION = "validation"
CONNECTION = "connection"
OTHER = "other"


class HarnessError(Exception):
    """A problem the user can fix (bad input, missing tool, unsafe request): shown as one line."""

    exit_code = 1


class BadInput(HarnessError):
    """Bad scenario or command-line input."""

    exit_code = 2


class TableConflict(HarnessError):
    """A table exists with another schema, or is not ours to change."""


class DynamoDBError(Exception):
    """A failed DynamoDB request as Locust reports it: its class says the outcome, its text the cause."""

    outcome = OTHER

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class ThrottledError(DynamoDBError):
    """ProvisionedThroughputExceededException, ThrottlingException and friends, after SDK retries."""

    outcome = THROTTLED


class ConditionalCheckError(DynamoDBError):
    """ConditionalCheckFailedException or a cancelled transaction."""

    outcome = CONDITIONAL


class RequestValidationError(DynamoDBError):
    """ValidationException and other malformed-request answers."""

    outcome = VALIDATION


class ConnectionFailure(DynamoDBError):
    """The endpoint could not be reached or did not answer in time."""

    outcome = CONNECTION


def error_code(exc: BaseException) -> str | None:
    """The DynamoDB error code carried by a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def is_throttled_answer(code: str | None, error: dict) -> bool:
    """True for a throttling error code, or a TransactionCanceledException whose CancellationReasons name a throttle.

    `error` is botocore's parsed error response (it carries CancellationReasons at the top level).
    """
    if code in THROTTLE_CODES:
        return True
    if code == "TransactionCanceledException":
        return any((reason or {}).get("Code") in THROTTLED_ITEM_CODES for reason in error.get("CancellationReasons") or [])
    return False


def classify(exc: BaseException) -> DynamoDBError:
    """Turn any exception from a DynamoDB call into the DynamoDBError subclass that names its outcome."""
    if isinstance(exc, DynamoDBError):
        return exc
    code = error_code(exc)
    if code is not None:
        # redacted: signature errors quote signed headers (the session token) and the Authorization header
        message = redact(exc.response.get("Error", {}).get("Message", ""))  # type: ignore[attr-defined]
        if is_throttled_answer(code, exc.response):  # type: ignore[attr-defined]
            return ThrottledError(code, message)
        if code in CONDITIONAL_CODES:
            return ConditionalCheckError(code, message)
        if code in VALIDATION_CODES:
            return RequestValidationError(code, message)
        return DynamoDBError(code, message)
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    if isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)):
        return ConnectionFailure(type(exc).__name__, redact(str(exc)))
    return DynamoDBError(type(exc).__name__, redact(str(exc)))
