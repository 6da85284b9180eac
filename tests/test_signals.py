"""Stop signals sent to one process of a real `ddb-harness run` alone, as a supervisor or a script sends them.

Each run has ddb-harness, the embedded DynamoDB Local and a standalone Locust process, plus the
process that gets the signal when it is another: the capacity gate (a PROVISIONED table), or a
worker (a master and two workers). That process gets SIGINT, SIGTERM or SIGHUP; the run must then
end with every result file written and the interruption in the report, or (a worker) go on
without it and say so, and leave no process.

Five runs cover every process and every signal; DDB_HARNESS_SIGNAL_MATRIX=full runs every
signal against every process, headless and with --web (30 runs).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import signal
import subprocess
import sys
import termios
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from conftest import write_scenario
from support.waiting import wait_for
from test_run_e2e import read_rows, run_dir_of

from harness.target.local import free_port

HARNESS = [sys.executable, "-m", "harness.cli"]
PROCESSES = ("cli", "master", "worker", "gate", "dynamodb-local")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
QUICK = [
    ("headless", signal.SIGINT, "worker"),  # then SIGTERM to the master ends it
    ("headless", signal.SIGHUP, "gate"),
    ("headless", signal.SIGHUP, "cli"),
    ("web", signal.SIGTERM, "cli"),
    ("web", signal.SIGINT, "dynamodb-local"),
]
CASES = list(itertools.product(("headless", "web"), SIGNALS, PROCESSES)) if os.environ.get("DDB_HARNESS_SIGNAL_MATRIX") == "full" else QUICK
RESULT_FILES = (
    "locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust_report.html", "harness_latency.csv",
    "harness_requests.csv", "harness_attempts.csv", "harness_run.json", "report.md", "report.html", "summary.json",
)  # fmt: skip
WORKER_GONE_WAIT = 8  # the harness says a worker is lost once the run has gone on 3 s without it


def signal_scenario(tmp_path, table_name: str, gated: bool):
    data = {
        "name": "signals",
        "target": {"kind": "local"},
        "tables": [{
            "name": table_name, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"},
            **({"billing_mode": "PROVISIONED", "capacity": {"read": 1000, "write": 50}} if gated else {}), "dataset": {"model": "ring", "size": 50, "seed": 0},
        }],
        "workload": {"mix": [{"task": "walk_ring", "table": table_name}]},
        "load": {"users": 2, "spawn_rate": 2, "run_time": "2m", "wait_time": {"constant": 0.01}, "stop_timeout": "5s"},
    }  # fmt: skip
    return write_scenario(tmp_path, data)


def role_of(process: psutil.Process) -> str:
    command = " ".join(process.cmdline())
    if "DynamoDBLocal" in command:
        return "dynamodb-local"
    if "harness.gate" in command:
        return "gate"
    return "worker" if "--worker" in command else "master" if "locust" in command else "other"  # "master": the main Locust process


def family_of(pid: int) -> dict[str, list[psutil.Process]]:
    roles: dict[str, list[psutil.Process]] = {"cli": [psutil.Process(pid)]}
    for child in psutil.Process(pid).children(recursive=True):
        roles.setdefault(role_of(child), []).append(child)
    return roles


def requests_counted(results) -> int:
    """Requests in the run's stats CSV so far (Locust rewrites it every 2 s)."""
    try:
        return sum(int(row["Request Count"]) for row in read_rows(next(results.glob("*/locust_stats.csv"))) if row["Name"] == "Aggregated")
    except (StopIteration, OSError, ValueError, KeyError):
        return 0


def total_requests_at(run_dir, moment: float) -> int:
    rows = [row for row in read_rows(run_dir / "locust_stats_history.csv") if row["Name"] == "Aggregated" and int(row["Timestamp"]) <= moment]
    return int(rows[-1]["Total Request Count"]) if rows else 0


def expected_exit(mode: str, signum: int, victim: str) -> int:
    if victim in ("gate", "dynamodb-local"):
        return 4  # a process the run needs ended: it stops early
    if mode == "web":
        return 0  # a --web run ends by a signal: it keeps its own code
    return 128 + signum


@dataclass
class Played:
    """One run of the matrix: how it ended, and what the test needs to judge it."""

    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    run_dir: Path | None = None
    signalled_at: float = 0.0
    family: list = field(default_factory=list)
    problem: str = ""
    """What went wrong before the run could be judged (it did not start, the worker's run stopped)."""


def play(mode: str, signum: int, victim: str, folder: Path) -> Played:
    """Start a run, send `signum` to its `victim` once requests are counted, and wait for its end."""
    results, played = folder / "results", Played()
    command = HARNESS + ["run", str(signal_scenario(folder, f"test-{uuid.uuid4().hex[:12]}", gated=victim == "gate")), "--results-dir", str(results)]
    command += ["--workers", "2"] if victim == "worker" else []
    if mode == "web":
        command += ["--web", "--", "--autostart", "--web-host", "127.0.0.1", "--web-port", str(free_port())]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        if not wait_for(lambda: requests_counted(results) > 0, 120):
            played.problem = "the run did not start"
            return played
        roles = family_of(process.pid)
        played.family = [member for members in roles.values() for member in members]
        if not ({"cli", "master", "dynamodb-local", victim} <= set(roles) and len(roles.get("worker", [])) == (2 if victim == "worker" else 0)):
            played.problem = f"not the processes expected: {roles}"
        played.signalled_at = time.time()
        roles[victim][0].send_signal(signum)
        if victim == "worker":
            time.sleep(WORKER_GONE_WAIT)
            if process.poll() is not None:
                played.problem = "the run did not go on without the worker"
            roles["master"][0].send_signal(signal.SIGTERM)  # then end it from the master
        played.stdout, played.stderr = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        played.returncode = process.returncode
    played.run_dir = run_dir_of(results)
    return played


@pytest.fixture(scope="module")
def matrix(endpoint, tmp_path_factory) -> dict:
    """Every case of CASES played at once (a few at a time): they wait on other processes most of the time."""
    with ThreadPoolExecutor(max_workers=min(len(CASES), 6)) as pool:
        futures = {case: pool.submit(play, *case, tmp_path_factory.mktemp("signal")) for case in CASES}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("mode, signum, victim", CASES, ids=[f"{mode}-{signal.Signals(signum).name}-{victim}" for mode, signum, victim in CASES])
def test_a_signal_to_one_process_ends_the_run_cleanly(mode, signum, victim, matrix):
    played = matrix[(mode, signum, victim)]
    assert not played.problem, played.problem + played.stderr[-3000:]
    stdout, stderr, run_dir = played.stdout, played.stderr, played.run_dir
    name = signal.Signals(signum).name
    expected = expected_exit(mode, signal.SIGTERM if victim == "worker" else signum, victim)
    assert played.returncode == expected, stderr[-3000:]
    assert f"results: {run_dir}" in stdout
    for filename in RESULT_FILES:
        assert (run_dir / filename).exists(), filename
    record = json.loads((run_dir / "harness_interruption.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["interruption"] == record
    assert "Stopped early" in (run_dir / "report.md").read_text()
    assert record["exit_code"] == expected or mode == "web"
    if victim in ("cli", "master"):
        assert (record["signal"], record["process"]) == (name, {"cli": "ddb-harness", "master": "locust standalone"}[victim])
    elif victim == "worker":
        assert record["signal"] == "SIGTERM" and record["process"] == "locust master"
        assert json.loads((run_dir / "harness_workers.json").read_text())["lost"] == 1
        assert "the run goes on without it" in stderr
        at = played.signalled_at
        assert total_requests_at(run_dir, at + WORKER_GONE_WAIT - 1) > total_requests_at(run_dir, at + 1), "requests went on"
    else:
        assert record["cause"] == "process" and ({"gate": "the capacity gate", "dynamodb-local": "DynamoDB Local"}[victim] in record["message"])
        assert name in record["message"], record["message"]
    # counted once: the harness's request counts (merged from the workers) equal Locust's
    locust_rows = {(row["Type"], row["Name"]): int(row["Request Count"]) for row in read_rows(run_dir / "locust_stats.csv") if row["Name"] != "Aggregated"}
    harness_rows = {(row["type"], row["name"]): int(row["requests"]) for row in read_rows(run_dir / "harness_requests.csv")}
    assert locust_rows == harness_rows and locust_rows[("GetItem", "walk_ring")] > 0
    assert stderr.count("Traceback") == 0, stderr[-3000:]
    _, alive = psutil.wait_procs(played.family, timeout=15)
    assert not alive, [member.cmdline() for member in alive]


def test_ctrl_c_in_a_terminal_stops_the_run_once(table_name, tmp_path):
    """A real terminal (a pseudo-terminal whose foreground process group is ddb-harness's): Ctrl+C is passed
    on to Locust once, Locust (in a process group of its own, stdin /dev/null) is not stopped by the
    terminal, and the run ends with its files written."""
    results = tmp_path / "results"
    command = HARNESS + ["run", str(signal_scenario(tmp_path, table_name, gated=False)), "--results-dir", str(results)]
    controller, terminal = os.openpty()

    def take_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the new session's controlling terminal: its group is the foreground one

    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True, preexec_fn=take_terminal)
    os.close(terminal)
    screen = bytearray()
    reader = threading.Thread(target=_drain, args=(controller, screen), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: requests_counted(results) > 0, 90), bytes(screen).decode(errors="replace")[-3000:]
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        os.write(controller, b"\x03")  # Ctrl+C: the terminal sends SIGINT to its foreground process group
        assert process.wait(60) == 130
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(5)
        os.close(controller)
    shown = bytes(screen).decode(errors="replace")
    run_dir = run_dir_of(results)
    locust_log = (run_dir / "locust.log").read_text()
    assert locust_log.count("SIGINT received") == 1 and "received again" not in locust_log + shown, shown[-3000:]
    assert json.loads((run_dir / "harness_interruption.json").read_text())["process"] == "ddb-harness"
    for filename in RESULT_FILES:
        assert (run_dir / filename).exists(), filename
    assert f"results: {run_dir}" in shown
    _, alive = psutil.wait_procs(family, timeout=15)
    assert not alive, [member.cmdline() for member in alive]


def _drain(descriptor: int, into: bytearray) -> None:
    """Read a pseudo-terminal until it closes, so the run never blocks writing to it."""
    while True:
        try:
            data = os.read(descriptor, 65536)
        except OSError:
            return
        if not data:
            return
        into += data


def test_the_first_record_of_an_interruption_wins_and_decides_the_exit_code(tmp_path):
    from harness.metrics.interruption import PROCESS, SIGNAL, read_interruption, record_interruption
    from harness.run.runner import interrupted_exit_code

    assert read_interruption(tmp_path) is None and interrupted_exit_code(1, tmp_path, web=False) == 1
    assert record_interruption(tmp_path, SIGNAL, "SIGTERM sent to ddb-harness", 143, "ddb-harness", signal.SIGTERM)
    assert not record_interruption(tmp_path, SIGNAL, "SIGINT passed on to Locust", 130, "locust standalone", signal.SIGINT)
    assert read_interruption(tmp_path)["signal"] == "SIGTERM"
    assert interrupted_exit_code(0, tmp_path, web=False) == 143
    assert interrupted_exit_code(0, tmp_path, web=True) == 0  # a --web run ends by a signal
    (tmp_path / "harness_interruption.json").unlink()
    record_interruption(tmp_path, PROCESS, "DynamoDB Local (pid 1) exited with code 143 (SIGTERM) during the run", 4, "DynamoDB Local")
    assert interrupted_exit_code(1, tmp_path, web=True) == 4


def test_how_a_process_ended_is_said_in_words():
    assert _finished(-signal.SIGHUP) == "ended by SIGHUP"
    assert _finished(143) == "exited with code 143 (SIGTERM)"  # a JVM's way of saying it
    assert _finished(1) == "exited with code 1"


def _finished(code: int):
    """A real child process that ended with `code` (negative: killed by that signal)."""
    from harness.run.supervisor import ending

    # The signal back to its default first: a parent may ignore it (nohup ignores SIGHUP), and children inherit that.
    script = f"import os, signal; signal.signal({-code}, signal.SIG_DFL); os.kill(os.getpid(), {-code})" if code < 0 else f"raise SystemExit({code})"
    child = subprocess.Popen([sys.executable, "-c", script])
    child.wait()
    return ending(child)
