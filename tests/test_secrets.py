"""Credentials never leak: not to the terminal, not into any file of the run folder.

Runs sign with recognisable credentials (from the environment, or from a profile in temporary
AWS config files) and reach an AWS-looking endpoint through a local stub used as HTTP proxy
(tests/counting_stub.py). The stub fails requests the way AWS words signature errors:
InvalidSignatureException quotes the canonical request it expected, signed headers and so the
session token included; IncompleteSignatureException echoes the Authorization header, access key
id included. Those texts reach Locust's failure table, its CSVs, the report and the logs, unless
the harness scrubs them (harness/redact.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_scenario
from counting_stub import CountingDynamoDB, aws_proxy_env

from harness.datasets.ring import ring_keys
from harness.scenario import load_scenario

HARNESS = [sys.executable, "-m", "harness.cli"]
AWS_URL = "http://dynamodb.us-east-1.amazonaws.com"
RING = "secret-ring"
# Recognisable, and shaped unlike real keys, so only the harness's knowledge of them can scrub them
ACCESS_KEY_ID = "LEAKCANARYKEYID7F3A2B"
SECRET_ACCESS_KEY = "leak-canary-secret-access-key-9b1e2d5f"
SESSION_TOKEN = "leak-canary-session-token-4c8d0e6a1f"
PROFILE_KEY_ID = "PROFILECANARYKEY5E0C"
PROFILE_SECRET = "profile-canary-secret-key-0a7b3c"
PROFILE_TOKEN = "profile-canary-session-token-2d9e4f"
SECRETS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, PROFILE_KEY_ID, PROFILE_SECRET, PROFILE_TOKEN)


def scenario(tmp_path: Path, target: dict) -> Path:
    data = {
        "name": "secrets",
        "target": target,
        "client": {"retries": {"mode": "legacy", "max_attempts": 2}},
        "tables": [{"name": RING, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": 10, "seed": 0, "load": "never"}}],
        "workload": {"mix": [{"task": "walk_ring", "table": RING, "steps": 1}]},
        "load": {"users": 2, "spawn_rate": 10, "run_time": "2s", "stop_timeout": "5s", "wait_time": {"constant": 0.01}},
    }
    return write_scenario(tmp_path, data)


def signature_errors(operation: str, number: int, attempt: int) -> str | None:
    """Two GetItems in three fail on their signature, worded as AWS words it."""
    if operation != "GetItem":
        return None
    return [None, "InvalidSignatureException", "IncompleteSignatureException"][number % 3]


def second_describe_fails(operation: str, number: int, attempt: int) -> str | None:
    """The plan reads the table; the setup that follows is refused on its signature."""
    return "InvalidSignatureException" if operation == "DescribeTable" and number >= 1 else None


def assert_nothing_leaked(done: subprocess.CompletedProcess, *folders: Path) -> list[Path]:
    """No credential in stdout, stderr, or any file below `folders`; returns the files read."""
    for secret in SECRETS:
        assert secret not in done.stdout, secret
        assert secret not in done.stderr, secret
    files = [path for folder in folders if folder.exists() for path in folder.rglob("*") if path.is_file()]
    for path in files:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, (secret, path)
    return files


ENV_CREDENTIALS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN}


def run(tmp_path: Path, stub: CountingDynamoDB, path: Path, env: dict, *flags: str) -> subprocess.CompletedProcess:
    command = HARNESS + ["run", str(path), "--results-dir", str(tmp_path / "results"), *flags]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)


def test_environment_credentials_never_leak_from_a_failing_run(tmp_path):
    path = scenario(tmp_path, {"kind": "local"})
    with CountingDynamoDB(load_scenario(path).tables, {RING: ring_keys(10, 0)}, fault=signature_errors) as stub:
        done = run(tmp_path, stub, path, aws_proxy_env(stub, **ENV_CREDENTIALS), "--endpoint-url", AWS_URL, "--allow-aws")
    assert done.returncode == 1, done.stderr[-3000:]  # requests failed
    assert stub.security_tokens == {SESSION_TOKEN} and stub.access_key_ids == {ACCESS_KEY_ID}  # the run really signed with them
    assert stub.faults_sent[("GetItem", "InvalidSignatureException")] and stub.faults_sent[("GetItem", "IncompleteSignatureException")]
    files = assert_nothing_leaked(done, tmp_path / "results")
    names = {path.name for path in files}
    assert {"locust_stats.csv", "locust_failures.csv", "report.md", "report.html", "summary.json", "harness.log", "locust.log", "harness_run.json"} <= names
    failures = next(path for path in files if path.name == "locust_failures.csv").read_text()
    assert "InvalidSignatureException" in failures and "IncompleteSignatureException" in failures  # the errors were recorded, scrubbed
    assert "x-amz-security-token:<redacted>" in failures and "Credential=<redacted>" in failures


def test_environment_credentials_never_leak_when_setup_fails(tmp_path):
    path = scenario(tmp_path, {"kind": "local"})
    with CountingDynamoDB(load_scenario(path).tables, {RING: ring_keys(10, 0)}, fault=second_describe_fails) as stub:
        done = run(tmp_path, stub, path, aws_proxy_env(stub, **ENV_CREDENTIALS), "--endpoint-url", AWS_URL, "--allow-aws")
    assert done.returncode == 1, done.stderr[-3000:]
    assert stub.faults_sent[("DescribeTable", "InvalidSignatureException")] >= 1 and "GetItem" not in stub.attempts
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert "InvalidSignatureException" in error and "DescribeTable" in error
    assert_nothing_leaked(done, tmp_path / "results")


@pytest.mark.parametrize("fault", [signature_errors, second_describe_fails], ids=["failing requests", "failing setup"])
def test_profile_credentials_never_leak(tmp_path, fault):
    (tmp_path / "credentials").write_text(
        f"[canary]\naws_access_key_id = {PROFILE_KEY_ID}\naws_secret_access_key = {PROFILE_SECRET}\naws_session_token = {PROFILE_TOKEN}\n"
    )
    (tmp_path / "config").write_text("[profile canary]\nregion = us-east-1\n")
    path = scenario(tmp_path, {"kind": "aws", "region": "us-east-1", "profile": "canary", "confirm": True})
    with CountingDynamoDB(load_scenario(path).tables, {RING: ring_keys(10, 0)}, fault=fault) as stub:
        env = aws_proxy_env(
            stub, AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
            AWS_ENDPOINT_URL_DYNAMODB=AWS_URL,  # kind: aws has no endpoint of its own: botocore's variable sends it to the proxy
        )  # fmt: skip
        done = run(tmp_path, stub, path, env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert stub.security_tokens == {PROFILE_TOKEN} and stub.access_key_ids == {PROFILE_KEY_ID}
    assert "credentials: shared-credentials-file; never printed" in done.stdout
    assert "Traceback" not in done.stderr
    assert_nothing_leaked(done, tmp_path / "results")
