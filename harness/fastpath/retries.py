"""botocore's retry policies for the fast path: the same objects botocore builds, called directly.

botocore wires its retry handlers to client events (`needs-retry`, `after-call`, `before-send`);
the fast client calls the very same handler objects after each attempt instead, so `standard`,
`adaptive` and `legacy` behave as configured: attempts, retryable codes (throttling codes, 5xx,
transient codes, connection errors, DynamoDB crc32 mismatches), backoff with jitter (standard:
base 1 s for throttles, 25 ms otherwise for DynamoDB, doubling, capped at 20 s; legacy: 50 ms
doubling), the retry quota and adaptive's client-side rate limiter. The construction mirrors
botocore.client.ClientCreator._register_retries (botocore 1.44).
"""

from __future__ import annotations

import time

from botocore import retryhandler, translate
from botocore.loaders import create_loader
from botocore.retries import adaptive, bucket, quota, standard, throttling

SERVICE_EVENT_NAME = "dynamodb"
ENDPOINT_PREFIX = "dynamodb"
DEFAULT_STANDARD_MAX_ATTEMPTS = 4  # botocore's standard mode default for DynamoDB


class RetryPolicy:
    """Decides after each attempt whether to retry and after what delay, exactly as botocore would."""

    def __init__(self, mode: str, total_max_attempts: int | None):
        self.mode = mode
        self._limiter = None
        self._quota_checker = None
        if mode == "legacy":
            self.max_attempts = total_max_attempts or _legacy_default_attempts()
            self._legacy_handler = _legacy_handler(total_max_attempts)
            self.seeds_max = False  # legacy adds `max` to amz-sdk-request only from the second attempt
        else:
            self.max_attempts = total_max_attempts or DEFAULT_STANDARD_MAX_ATTEMPTS
            self._standard_handler, self._quota_checker = _standard_handler(self.max_attempts)
            self.seeds_max = True
            if mode == "adaptive":
                self._limiter = _rate_limiter()

    def before_send(self) -> None:
        """Adaptive mode: wait for a token of the client-side rate limiter (botocore's before-send)."""
        if self._limiter is not None:
            self._limiter.on_sending_request(request=None)

    def delay(self, attempt: int, operation_model, raw, parsed, exception, context: dict, clean: bool) -> float | None:
        """Seconds to wait before the next attempt, or None when this attempt is final.

        `clean` says the attempt was a 2xx answer whose crc32 matched: no policy retries those,
        so the checks are skipped unless botocore would record MaxAttemptsReached on it.
        """
        kwargs = None
        if not clean or (self.seeds_max and attempt >= self.max_attempts):
            kwargs = _needs_retry_kwargs(attempt, operation_model, raw, parsed, exception, context)
            if self.mode == "legacy":
                delay = self._legacy_handler(**kwargs)
            else:
                delay = self._standard_handler.needs_retry(**kwargs)
        else:
            delay = None
        if self._limiter is not None:
            self._limiter.on_receiving_response(**(kwargs or _needs_retry_kwargs(attempt, operation_model, raw, parsed, exception, context)))
        return delay if delay else None

    def after_call(self, context: dict, raw) -> None:
        """Give retry quota back after a call's final response (botocore's after-call)."""
        if self._quota_checker is not None and raw is not None:
            self._quota_checker.release_retry_quota(context, raw)


def _needs_retry_kwargs(attempt, operation_model, raw, parsed, exception, context) -> dict:
    """The keyword arguments botocore's `needs-retry` event passes its handlers (RawResponse reads like AWSResponse)."""
    response = None if raw is None else (raw, parsed)
    return {
        "response": response,
        "endpoint": None,
        "operation": operation_model,
        "attempts": attempt,
        "caught_exception": exception,
        "request_dict": {"context": context},
    }


def _standard_handler(max_attempts: int):
    """botocore.retries.standard.register_retry_handler, without the event wiring."""
    adapter = standard.RetryEventAdapter()
    detector = standard.ThrottlingErrorDetector(adapter)
    quota_checker = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
            retry_backoff=standard.ExponentialBackoff(service_name=SERVICE_EVENT_NAME, throttling_detector=detector),
        ),
        retry_event_adapter=adapter,
        retry_quota=quota_checker,
        service_name=SERVICE_EVENT_NAME,
    )
    return handler, quota_checker


def _rate_limiter():
    """botocore.retries.adaptive.register_retry_handler, without the event wiring."""
    clock = bucket.Clock()
    return adaptive.ClientRateLimiter(
        rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
        rate_clocker=adaptive.RateClocker(clock),
        token_bucket=bucket.TokenBucket(max_rate=1, clock=clock),
        throttling_detector=standard.ThrottlingErrorDetector(retry_event_adapter=standard.RetryEventAdapter()),
        clock=clock,
    )


def _legacy_config(total_max_attempts: int | None) -> dict:
    original = create_loader().load_data("_retry")
    retries = {} if total_max_attempts is None else {"max_attempts": total_max_attempts - 1}
    return translate.build_retry_config(ENDPOINT_PREFIX, original.get("retry", {}), original.get("definitions", {}), retries)


def _legacy_handler(total_max_attempts: int | None):
    """botocore.client.ClientCreator._register_legacy_retries, without the event wiring."""
    # botocore passes the endpoint prefix where create_retry_handler expects an operation name.
    return retryhandler.create_retry_handler(_legacy_config(total_max_attempts), ENDPOINT_PREFIX)


def _legacy_default_attempts() -> int:
    return _legacy_config(None)["__default__"]["max_attempts"]


def sleep(seconds: float) -> None:
    """time.sleep, looked up at call time so gevent's monkey-patched version is used under Locust."""
    time.sleep(seconds)
