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
CONDITIONAL_CODES = frozenset({"ConditionalCheckFailedException"})
TRANSACTION_CANCELED_CODE = "TransactionCanceledException"
# CancellationReasons codes: "None" for an item that was fine, else why the transaction was cancelled.
CONFLICT_REASON = "TransactionConflict"
# The API model names the PartiQL duplicate-key error DuplicateItemException; DynamoDB Local answers DuplicateItem.
VALIDATION_CODES = frozenset({"ValidationException", "SerializationException", "DuplicateItemException", "DuplicateItem"})

THROTTLED = "throttled"
CONDITIONAL = "conditional"
TRANSACTION_CONFLICT = "transaction_conflict"
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


class TransactionCanceledError(ConditionalCheckError):
    """TransactionCanceledException not caused by throttling; its text lists CancellationReasons in order.

    A ConditionalCheckError (outcome conditional) as every cancelled transaction was before this
    class existed; `reasons` holds one code per item of the request ("None" for items that were fine).
    """

    def __init__(self, code: str, message: str, reasons: tuple[str, ...] = ()):
        super().__init__(code, message)
        self.reasons = reasons


class TransactionConflictError(TransactionCanceledError):
    """A transaction cancelled because another request was changing one of its items (TransactionConflict)."""

    outcome = TRANSACTION_CONFLICT


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
    if code == TRANSACTION_CANCELED_CODE:
        return any(reason in THROTTLED_ITEM_CODES for reason in cancellation_reasons(error))
    return False


def cancellation_reasons(error: dict) -> tuple[str, ...]:
    """The CancellationReasons codes of botocore's parsed TransactionCanceledException, in request order."""
    return tuple((reason or {}).get("Code") or "None" for reason in error.get("CancellationReasons") or [])


def cancelled_transaction(code: str, message: str, error: dict) -> TransactionCanceledError:
    """TransactionConflictError when any item conflicted, else TransactionCanceledError.

    The text is the reason codes only (`[None, ConditionalCheckFailed]`): Locust groups failures
    by text, and DynamoDB's message varies in wording between DynamoDB and DynamoDB Local.
    """
    reasons = cancellation_reasons(error)
    text = f"[{', '.join(reasons)}]" if reasons else message
    kind = TransactionConflictError if CONFLICT_REASON in reasons else TransactionCanceledError
    return kind(code, text, reasons)


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
        if code == TRANSACTION_CANCELED_CODE:
            return cancelled_transaction(code, message, exc.response)  # type: ignore[attr-defined]
        if code in CONDITIONAL_CODES:
            return ConditionalCheckError(code, message)
        if code in VALIDATION_CODES:
            return RequestValidationError(code, message)
        return DynamoDBError(code, message)
    from botocore.exceptions import ChecksumError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    # ChecksumError: the answer arrived damaged or cut short (its x-amz-crc32 does not match), still so after retries
    if isinstance(exc, (BotoConnectionError, HTTPClientError, ChecksumError, ConnectionError, TimeoutError)):
        return ConnectionFailure(type(exc).__name__, redact(str(exc)))
    return DynamoDBError(type(exc).__name__, redact(str(exc)))
