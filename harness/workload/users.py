"""Locust Users for DynamoDB: one shared client per process, one timing path, one request event per logical operation.

Stats keys are stable: `request_type` is the DynamoDB operation (GetItem, ExecuteStatement, Scan,
Query) and `name` the logical step. Outcomes travel in `exception` (ThrottledError,
ConditionalCheckError, ...) and `context`, never in names.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from locust import User, between, constant, constant_throughput
from locust.user.task import LOCUST_STATE_STOPPING, LOCUST_STATE_WAITING

from harness.errors import DynamoDBError, classify
from harness.ops.result import OpResult
from harness.scenario import WaitTime


def wait_time_from(spec: WaitTime) -> Callable:
    """The Locust wait_time function for a scenario's wait_time."""
    if spec.between is not None:
        return between(*spec.between)
    if spec.constant_throughput is not None:
        return constant_throughput(spec.constant_throughput)
    return constant(spec.constant)


def scheduled_wait(closed_wait: Callable) -> Callable:
    """Open model: wait for the next scheduled start of the process's arrivals (harness.workload.arrivals).

    While no rate is set (a closed-model stage), the scenario's own wait time applies. The user is
    WAITING meanwhile, so a stop ends it at once without losing a start: a start it has not taken
    stays in the queue and is counted as unstarted.
    """

    def wait_time(user: DynamoDBUser) -> float:
        arrivals = user.harness.arrivals
        if arrivals is not None:  # take() also waits while the run stops: no unscheduled task slips in
            user.awaiting_start = True
            try:
                lag_ms = arrivals.take()
            finally:
                user.awaiting_start = False
            if lag_ms is not None:
                user.start_lag_ms = lag_ms
                return 0
        user.start_lag_ms = None
        return closed_wait(user)

    return wait_time


class DynamoDBUser(User):
    """Base of every harness User: owns the process's client and the one `_call` timing path."""

    abstract = True

    def __init__(self, environment):
        super().__init__(environment)
        self.harness = environment.harness_run
        """The RunContext the harness hooks attached at init: scenario, connection, ring keys."""
        self.client = self.harness.client()
        self.rng = random.Random()
        """Per-user randomness for new keys (seeded from the OS, so users never collide)."""
        self.ordinal = self.harness.next_user_ordinal()
        """This user's number within its process; with the partition it places the user in the run."""
        self.last_failure: DynamoDBError | None = None
        """The failure of this user's last failed request (a chain reports it again on its composite row)."""
        self.start_lag_ms: float | None = None
        """Open model: how late the task in progress started after its intended time (None: closed model)."""
        self.awaiting_start = False
        """Open model: waiting for a scheduled start, which a stop may interrupt at once."""

    def stop(self, force: bool = False) -> bool:
        """Stop this user; a waiting one ends when its wait does, never inside a request.

        Locust kills a waiting user at once, but when its wait is ending (wait_time 0 nearly
        always is) it resumes first and the kill lands in its next request, which the server
        may have served and nobody counted. Marked stopping instead, Locust's own check after
        the wait ends it cleanly; a forced stop (and stop_timeout running out) still kills. A user
        waiting for a scheduled start (open model) is killed at once: it has taken no start yet.
        """
        if not force and self._state == LOCUST_STATE_WAITING and not self.awaiting_start:
            self._state = LOCUST_STATE_STOPPING
            return False
        return super().stop(force)

    def _call(self, request_type: str, name: str, operation: Callable[..., OpResult], *args: Any, **kwargs: Any) -> OpResult | None:
        """Run one access pattern with the shared client, time it, fire one request event; None when it failed."""
        start = time.perf_counter()
        try:
            result = operation(self.client, *args, **kwargs)
        except Exception as exc:  # classified and reported; StopUser and GreenletExit are not Exceptions
            elapsed_ms = (time.perf_counter() - start) * 1000
            failure = self.last_failure = classify(exc)
            self._fire(request_type, name, elapsed_ms, None, failure, _retries_of(exc))
            return None
        result.elapsed_ms = (time.perf_counter() - start) * 1000
        self._fire(request_type, name, result.elapsed_ms, result, None, result.retry_attempts)
        return result

    def _fire(self, request_type: str, name: str, response_time: float, result: OpResult | None, failure: DynamoDBError | None, retries: int) -> None:
        """The only place a request event is fired."""
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=response_time,
            response_length=result.response_bytes if result else 0,
            response=result,
            exception=failure,
            context={
                "outcome": failure.outcome if failure else "ok",
                "calls": result.calls if result else 1,
                "retry_attempts": retries,
                "consumed_capacity": result.consumed if result else [],
                "start_lag_ms": self.start_lag_ms,
            },
        )

    def _fire_composite(self, request_type: str, name: str, response_time: float, result: OpResult, failure: DynamoDBError | None = None) -> None:
        """Report a step made of several requests already reported one by one (a ring lap, a chain)."""
        self._fire(request_type, name, response_time, result, failure, result.retry_attempts)


def _retries_of(exc: BaseException) -> int:
    """The SDK's retries before `exc`: from the error response, or (a connection error of the fast path) the exception."""
    if isinstance(getattr(exc, "retry_attempts", None), int):
        return exc.retry_attempts
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    return 0
