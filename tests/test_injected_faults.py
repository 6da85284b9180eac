"""Faults a real endpoint and network produce, injected on a schedule between a real run and DynamoDB Local.

One user walks the ring through tests/support/fault_injector.py, whose schedule gives its GetItem
attempts added latency, a spike, a slow body, resets before and in the middle of an answer, a
truncated body, HTTP 500 and 503, a throttle and a black hole. The schedule faults both attempts
of a request (max_attempts 2) for the errors, so each ends as a failed request of its own outcome
after one SDK retry. Every injected fault must come back as exactly one counted outcome.
The run uses the fast path (the default client); DDB_HARNESS_FAULTS_CLIENT=boto3 runs it through boto3.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import scenario_data, write_scenario
from hdrh.histogram import HdrHistogram
from support.fault_injector import ADDED_LATENCY, FAULTS, SLOW_BODY, SPIKE, FaultInjector
from test_run_e2e import read_rows, run_dir_of

HARNESS = [sys.executable, "-m", "harness.cli"]
CLIENT = os.environ.get("DDB_HARNESS_FAULTS_CLIENT", "fast")
READ_TIMEOUT = 2.0
RUN_SECONDS = 12
DELAYS = ("latency", "spike", "slow_body")
ERRORS = ("reset_before", "reset_mid", "truncated", "http500", "http503", "throttle", "black_hole")
# The failure text each error fault ends as (Locust groups failures by text; the class names the outcome).
OUTCOME_TEXT = {
    "reset_before": "ConnectionFailure('ConnectionClosedError",
    "reset_mid": "ConnectionFailure('ConnectionClosedError",
    # boto3 reads a cut body without complaint; DynamoDB's x-amz-crc32 check then finds it damaged
    "truncated": "ConnectionFailure('ConnectionClosedError" if CLIENT == "fast" else "ConnectionFailure('ChecksumError",
    "black_hole": "ConnectionFailure('ReadTimeoutError",
    "http500": "DynamoDBError('InternalServerError",
    "http503": "DynamoDBError('ServiceUnavailable",
    "throttle": "ThrottledError('ProvisionedThroughputExceededException",
}


def schedule() -> list[str]:
    """Three passes before each fault; three slow attempts in a row for added latency, one for the other delays, two (a request and its retry) for each error."""
    plan: list[str] = []
    for fault in FAULTS:
        plan += ["pass"] * 3 + [fault] * (3 if fault == "latency" else 1 if fault in DELAYS else 2)
    return plan


def requests_at_least(run_dir, milliseconds: float) -> int:
    """GetItem requests (failed ones included) that took at least this long, from the run's HDR histogram (microseconds)."""
    row = next(row for row in read_rows(run_dir / "harness_histograms.csv") if (row["type"], row["name"]) == ("GetItem", "walk_ring"))
    histogram = HdrHistogram.decode(row["encoded"])
    return sum(item.count_at_value_iterated_to for item in histogram.get_recorded_iterator() if item.value_iterated_to >= milliseconds * 1000)


@pytest.fixture(scope="module")
def faulted_run(endpoint, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("faults")
    data = scenario_data("roundtrip.yaml")
    data["tables"][0]["name"] = table = f"faults-{int(time.time() * 1000)}"
    data["tables"][0]["dataset"]["size"] = 50
    data["workload"]["mix"][0]["table"] = table
    data["client"] = {"kind": CLIENT, "connect_timeout": 1, "read_timeout": READ_TIMEOUT, "retries": {"mode": "legacy", "max_attempts": 2}}
    data["load"] = {"users": 1, "spawn_rate": 1, "run_time": f"{RUN_SECONDS}s", "wait_time": {"constant": 0.01}, "stop_timeout": "10s"}
    path = write_scenario(tmp_path, data)
    injector = FaultInjector(endpoint, "GetItem", schedule())
    results = tmp_path / "results"
    try:
        started = time.monotonic()
        done = subprocess.run(HARNESS + ["run", str(path), "--endpoint-url", injector.url, "--results-dir", str(results)], capture_output=True, text=True, timeout=RUN_SECONDS + 90)
        elapsed = time.monotonic() - started
    finally:
        injector.close()
    print(f"injected: {dict(injector.injected)}; run took {elapsed:.1f} s")
    return done, run_dir_of(results), injector


def test_every_injected_fault_is_one_counted_outcome(faulted_run):
    done, run_dir, injector = faulted_run
    assert done.returncode == 1, done.stderr[-3000:]  # Locust's code when requests failed
    injected = injector.injected
    assert all(injected[fault] > 0 for fault in FAULTS), injected  # the run went through the whole schedule
    failures: dict[str, int] = {}
    for row in read_rows(run_dir / "locust_failures.csv"):
        assert (row["Method"], row["Name"]) == ("GetItem", "walk_ring"), row
        prefix = next(text for text in set(OUTCOME_TEXT.values()) if row["Error"].startswith(text))
        failures[prefix] = failures.get(prefix, 0) + int(row["Occurrences"])
    expected: dict[str, int] = {}
    for fault in ERRORS:
        assert injected[fault] % 2 == 0, injected  # both attempts of each request
        expected[OUTCOME_TEXT[fault]] = expected.get(OUTCOME_TEXT[fault], 0) + injected[fault] // 2
    assert failures == expected
    stats = {(row["Type"], row["Name"]): row for row in read_rows(run_dir / "locust_stats.csv")}
    get_items = stats[("GetItem", "walk_ring")]
    succeeded = int(get_items["Request Count"]) - int(get_items["Failure Count"])
    assert succeeded == injected["pass"] + sum(injected[fault] for fault in DELAYS)
    assert int(get_items["Failure Count"]) == sum(injected[fault] for fault in ERRORS) // 2


def test_every_attempt_and_sdk_retry_is_counted_once(faulted_run):
    _, run_dir, injector = faulted_run
    injected = injector.injected
    attempts = next(row for row in read_rows(run_dir / "harness_attempts.csv") if row["operation"] == "GetItem")
    assert int(attempts["attempts"]) == injector.attempts
    assert int(attempts["throttled_attempts"]) == injected["throttle"]
    assert int(attempts["error_attempts"]) == sum(injected[fault] for fault in ERRORS if fault != "throttle")
    requests = next(row for row in read_rows(run_dir / "harness_requests.csv") if (row["type"], row["name"]) == ("GetItem", "walk_ring"))
    failed_requests = sum(injected[fault] for fault in ERRORS) // 2
    # one SDK retry per failed request, none for the others; botocore does not say how many attempts a call took
    # when it ends in a connection error, so through boto3 those retries are not in the count
    unreported = 0 if CLIENT == "fast" else sum(injected[fault] for fault in ("reset_before", "reset_mid", "truncated", "black_hole")) // 2
    assert int(requests["retries"]) == failed_requests - unreported
    assert int(requests["throttled_requests"]) == injected["throttle"] // 2
    assert int(requests["failures"]) == failed_requests - injected["throttle"] // 2


def test_latency_includes_the_delays_and_a_black_hole_ends_at_read_timeout(faulted_run):
    done, run_dir, injector = faulted_run
    injected = injector.injected
    slow = injected["latency"] + injected["spike"] + injected["slow_body"] + injected["black_hole"] // 2
    assert requests_at_least(run_dir, min(ADDED_LATENCY, SLOW_BODY, SPIKE) * 1000 * 0.95) >= slow
    assert requests_at_least(run_dir, SPIKE * 1000 * 0.95) >= injected["spike"] + injected["black_hole"] // 2
    latency = next(row for row in read_rows(run_dir / "harness_latency.csv") if (row["type"], row["name"]) == ("GetItem", "walk_ring"))
    two_timeouts = 2 * READ_TIMEOUT * 1000  # a black-holed request: both attempts end at read_timeout
    assert two_timeouts * 0.95 <= float(latency["max_ms"]) < two_timeouts + 2000
    history = [int(row["Timestamp"]) for row in read_rows(run_dir / "locust_stats_history.csv")]
    assert history[-1] - history[0] <= RUN_SECONDS + 2 * READ_TIMEOUT + 3  # the run ended on time: nothing hung
