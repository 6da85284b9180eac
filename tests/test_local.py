"""The embedded local target (harness.target.local): real DynamoDB Local and moto server processes, started and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import psutil
import pytest
from conftest import REPO

from harness.errors import HarnessError
from harness.scenario import ClientSettings
from harness.target.client import Connection, make_client
from harness.target.local import start_local

MISSING_JAVA = "/nonexistent/bin/java"
GONE_WITHIN_SECONDS = 10.0


def client_for(endpoint: str):
    return make_client(Connection("us-east-1", endpoint), ClientSettings())


def port_refuses(endpoint: str) -> bool:
    address = urlparse(endpoint)
    try:
        socket.create_connection((address.hostname, address.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def is_gone(pid: int) -> bool:
    """True when the process no longer runs (a zombie waiting for its reaper counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until_gone(pid: int, timeout: float = GONE_WITHIN_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_gone(pid):
            return True
        time.sleep(0.1)
    return is_gone(pid)


def test_dynamodb_local_starts_answers_and_stops(tmp_path):
    server = start_local(log_dir=tmp_path)
    try:
        assert server.kind == "dynamodb-local", server.warnings
        assert server.log_path.parent == tmp_path
        assert "TableNames" in client_for(server.endpoint).list_tables()
        assert any("listens on every interface" in warning for warning in server.warnings)
    finally:
        server.stop()

    assert server.process.poll() is not None
    assert is_gone(server.process.pid)
    assert port_refuses(server.endpoint)
    server.stop()  # stopping twice is harmless


def test_moto_is_the_fallback_without_java(tmp_path, monkeypatch):
    monkeypatch.setenv("DDB_HARNESS_JAVA", MISSING_JAVA)
    server = start_local(log_dir=tmp_path)
    try:
        assert server.kind == "moto"
        warnings = " ".join(server.warnings)
        assert "Java is not installed" in warnings
        assert "PartiQL" in warnings and "ConsumedCapacity" in warnings
        client = client_for(server.endpoint)
        client.create_table(
            TableName="moto-check",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="moto-check", Item={"pk": {"S": "a"}, "value": {"N": "1"}})
        assert client.get_item(TableName="moto-check", Key={"pk": {"S": "a"}})["Item"] == {
            "pk": {"S": "a"},
            "value": {"N": "1"},
        }
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert port_refuses(server.endpoint)


def test_server_dies_with_a_killed_harness_process():
    script = (
        "from harness.target.local import start_local; s = start_local(); "
        "print(s.process.pid, flush=True); import time; time.sleep(60)"
    )
    harness_process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    java_pid = None
    try:
        line = harness_process.stdout.readline()
        assert line.strip().isdigit(), f"the harness process printed {line!r}"
        java_pid = int(line)
        assert "java" in psutil.Process(java_pid).name()
        assert not is_gone(java_pid)

        harness_process.send_signal(signal.SIGKILL)  # no atexit, no finally: only PR_SET_PDEATHSIG is left
        harness_process.wait(10)

        assert wait_until_gone(java_pid), f"DynamoDB Local (pid {java_pid}) outlived the killed harness"
    finally:
        harness_process.kill()
        harness_process.wait()
        harness_process.stdout.close()
        if java_pid is not None and not is_gone(java_pid):
            os.kill(java_pid, signal.SIGKILL)


def test_neither_server_can_start_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DDB_HARNESS_JAVA", MISSING_JAVA)
    monkeypatch.setitem(sys.modules, "moto.server", None)  # makes `import moto.server` raise ImportError

    with pytest.raises(HarnessError) as raised:
        start_local(log_dir=tmp_path)

    message = str(raised.value)
    assert "\n" not in message
    assert "Java" in message and "moto" in message
    assert not list(tmp_path.glob("*.log"))  # nothing was spawned
