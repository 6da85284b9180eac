"""`ddb-harness run`: target up, tables ready, Locust in a child process, results in results/<scenario>-<UTC>/.

Locust runs as its own process (`python -m locust`) so every Locust feature (web UI, master and
workers, CSV) works as documented. This process owns the embedded server: it stops it after
Locust has flushed its files, also on Ctrl+C, SIGINT/SIGTERM/SIGHUP or an error
(harness.run.supervisor watches the run meanwhile).
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.durations import parse_duration
from harness.errors import BadInput
from harness.metrics.interruption import SIGNAL, read_interruption
from harness.metrics.results_files import LOCUST_STATS
from harness.run.processes import master_role_args, run_processes, worker_role_args
from harness.run.session import Target, open_target, setup
from harness.run.supervisor import DISK_FLOOR_BYTES, Supervisor, Watched, free_bytes, megabytes
from harness.scenario import Scenario
from harness.target.local import free_port

log = logging.getLogger(__name__)

LOCUSTFILES = Path(__file__).resolve().parents[2] / "locustfiles"
CSV_PREFIX = "locust"


@dataclass(frozen=True)
class RunOptions:
    """What the command line may override for one run."""

    web: bool = False
    users: int | None = None
    spawn_rate: float | None = None
    run_time: str | None = None
    endpoint_url: str | None = None
    allow_aws: bool = False
    results_root: Path = Path("results")
    locustfile: Path | None = None
    extra_locust_args: tuple[str, ...] = ()
    workers: int = 0
    """Local worker processes under a local master (0: one standalone Locust process)."""
    master: bool = False
    """Run only the master role, waiting for `expect_workers` workers from other machines."""
    expect_workers: int = 1
    worker: bool = False
    """Run only a worker role for the master at master_host."""
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    capacity_gate: bool = False
    """The endpoint_url is a capacity gate whose tokens the Locust processes lease."""


def check_results_root(results_root: Path) -> None:
    """BadInput unless run folders can be written under `results_root` (created if missing) with room to spare.

    Checked before anything starts: a file is created and removed there, and DISK_FLOOR_BYTES must be free.
    """
    try:
        results_root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=results_root, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise BadInput(f"--results-dir {results_root}: cannot write there ({exc.strerror or exc})") from None
    free = free_bytes(results_root)
    if free < DISK_FLOOR_BYTES:
        raise BadInput(f"--results-dir {results_root}: only {megabytes(free)} free there; a run needs at least {megabytes(DISK_FLOOR_BYTES)}")


def new_run_dir(results_root: Path, scenario: Scenario) -> Path:
    """results/<scenario>-<UTC timestamp>/, created; a numeric suffix if two runs start in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = results_root / f"{scenario.name}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    candidate.mkdir(parents=True)
    return candidate


def locust_command(scenario_path: Path, scenario: Scenario, run_dir: Path, target: Target, options: RunOptions) -> list[str]:
    """The `python -m locust` command line for this run."""
    locustfile = options.locustfile or LOCUSTFILES / "scenario.py"
    command = [
        sys.executable, "-m", "locust",
        "-f", str(locustfile),
        "--scenario", str(scenario_path),
        "--skip-setup",
        "--users", str(options.users or scenario.load.users),
        "--spawn-rate", str(options.spawn_rate or scenario.load.spawn_rate),
        "--csv", str(run_dir / CSV_PREFIX),
        "--csv-full-history",
        "--stop-timeout", str(parse_duration(scenario.load.stop_timeout)),
        "--html", str(run_dir / "locust_report.html"),
        "--logfile", str(run_dir / "locust.log"),
    ]  # fmt: skip
    command += endpoint_args(target)
    if target.server is not None:
        command.append("--embedded-target")
    if options.allow_aws:
        command.append("--allow-aws")
    if not options.web:  # with the web UI, the run starts and stops from the browser
        command += ["--headless", "--run-time", str(options.run_time or f"{scenario.load.run_seconds}s")]
    return command + list(options.extra_locust_args)


def endpoint_args(target: Target) -> list[str]:
    """Where a Locust process sends requests, and whether that is a capacity gate to lease tokens from."""
    if not target.connection.endpoint_url:
        return []
    return ["--endpoint-url", target.connection.endpoint_url] + (["--capacity-gate"] if target.connection.capacity_gate else [])


def worker_command(scenario_path: Path, target: Target, options: RunOptions, master_host: str, port: int) -> list[str]:
    """The `python -m locust` command line of one worker: no setup, no files of its own."""
    locustfile = options.locustfile or LOCUSTFILES / "scenario.py"
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--scenario", str(scenario_path), "--skip-setup"]
    command += endpoint_args(target)
    if options.allow_aws:
        command.append("--allow-aws")
    if options.users:
        command += ["--users", str(options.users)]  # sizes the worker's connection pool (it runs at most that many)
    return command + worker_role_args(master_host, port)


def run_worker(scenario_path: Path, scenario: Scenario, options: RunOptions) -> int:
    """Run only a worker for a master on another machine (the master prepares tables and data)."""
    if scenario.target.kind == "local" and not options.endpoint_url:
        raise BadInput("a worker on another machine cannot use the master's embedded DynamoDB Local: pass --endpoint-url or use an endpoint/aws target")
    target = open_target(scenario, endpoint_url=options.endpoint_url, allow_aws=options.allow_aws, capacity_gate=options.capacity_gate)
    command = worker_command(scenario_path.resolve(), target, options, options.master_host, options.master_port)
    with Supervisor(None) as supervisor:
        return run_processes(command, [], [], supervisor)


def run(scenario_path: Path, scenario: Scenario, options: RunOptions) -> tuple[int, Path]:
    """Run a scenario end to end, report included; returns the exit code (build_run_report) and the results folder."""
    run_dir = new_run_dir(options.results_root, scenario)
    shutil.copy(scenario_path, run_dir / "scenario.yaml")
    handler = _log_to(run_dir / "harness.log")
    with Supervisor(run_dir) as supervisor:
        target = open_target(scenario, endpoint_url=options.endpoint_url, allow_aws=options.allow_aws, log_dir=run_dir, capacity_gate=options.capacity_gate)
        try:
            code = _run_on(target, scenario_path, scenario, options, run_dir, supervisor)
        finally:
            target.close()
            logging.getLogger().removeHandler(handler)
            handler.close()
    return code, run_dir


def _run_on(target: Target, scenario_path: Path, scenario: Scenario, options: RunOptions, run_dir: Path, supervisor: Supervisor) -> int:
    """Tables and data, then Locust under the supervisor's eye, then the report; the run's exit code."""
    supervisor.watched = [Watched(_SERVER_NAMES.get(server.kind, server.kind), server.process) for server in (target.server, target.gate) if server is not None]
    outcome = setup(scenario, target)
    for name, what in outcome.items():
        log.info("table %s: %s", name, what)
    command = locust_command(scenario_path.resolve(), scenario, run_dir, target, options)
    worker_commands: list[list[str]] = []
    if options.workers:
        port = free_port()
        command += master_role_args("127.0.0.1", port, options.workers)
        worker_commands = [worker_command(scenario_path.resolve(), target, options, "127.0.0.1", port) for _ in range(options.workers)]
    elif options.master:
        command += master_role_args("*", options.master_port, options.expect_workers)
    logs = [run_dir / f"locust-worker-{number}.log" for number in range(len(worker_commands))]
    code = run_processes(command, worker_commands, logs, supervisor, ready_file=run_dir / LOCUST_STATS)
    code = build_run_report(code, run_dir)
    code = interrupted_exit_code(code, run_dir, options.web)
    record = read_interruption(run_dir)
    if record and supervisor.stopped_with is None:  # a Locust process stopped the run (ddb-harness said its own reasons)
        log.warning("the run stopped early (%s): %s", record.get("process"), record.get("message"))
    if read_interruption(run_dir) is None and supervisor.stopped_with is not None:  # the record did not fit on the disk
        code = code if options.web and supervisor.stopped_with > 128 else supervisor.stopped_with
    return code


_SERVER_NAMES = {"dynamodb-local": "DynamoDB Local", "moto": "moto's server", "capacity-gate": "the capacity gate"}


def interrupted_exit_code(code: int, run_dir: Path, web: bool) -> int:
    """The exit code of a run that was stopped early: 128 + the signal's number for a headless run a signal stopped
    (a --web run ends that way: it keeps its own code), 4 when a process of the run ended or the disk filled up."""
    record = read_interruption(run_dir)
    if record is None or not isinstance(record.get("exit_code"), int):
        return code
    if record.get("cause") == SIGNAL and web:
        return code
    return record["exit_code"]


EXIT_THRESHOLD_BROKEN = 3
"""Exit code of a run whose Locust process succeeded but which broke one of the scenario's thresholds."""

def build_run_report(locust_code: int, run_dir: Path) -> int:
    """Write the run's report once Locust is done; returns Locust's exit code, or 3 if it was 0 and a threshold broke.

    A report that fails to build never loses the run: one log line, and Locust's files stay as they are.
    """
    try:
        from harness.report import build_report  # pandas and matplotlib load only once there is a run to report

        result = build_report(run_dir)
    except Exception as exc:  # the run's files matter more than its report
        log.error("report not built (%s: %s); Locust's files are in %s", type(exc).__name__, exc, run_dir)
        return locust_code
    for broken in result.broken:
        log.error("threshold broken: %s", broken.describe())
    log.info("report built in %.1f s: %s", result.seconds, run_dir / "report.md")
    return locust_code or (EXIT_THRESHOLD_BROKEN if result.broken else 0)


def _log_to(path: Path) -> logging.Handler:
    """Send the harness's own log lines to the run folder too."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler
