"""`ddb-harness run`: target up, tables ready, Locust in a child process, results in results/<scenario>-<UTC>/.

Locust runs as its own process (`python -m locust`) so every Locust feature (web UI, master and
workers, CSV) works as documented. This process owns the embedded server: it stops it after
Locust has flushed its files, also on Ctrl+C, SIGTERM or an error.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.durations import parse_duration
from harness.scenario import Scenario
from harness.session import Target, open_target, setup

log = logging.getLogger(__name__)

LOCUSTFILES = Path(__file__).resolve().parent.parent / "locustfiles"
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
    if target.connection.endpoint_url:
        command += ["--endpoint-url", target.connection.endpoint_url]
    if options.allow_aws:
        command.append("--allow-aws")
    if not options.web:  # with the web UI, the run starts and stops from the browser
        command += ["--headless", "--run-time", str(options.run_time or scenario.load.run_time)]
    return command + list(options.extra_locust_args)


def run_locust(command: list[str]) -> int:
    """Run Locust to the end; Ctrl+C reaches it directly, SIGTERM is passed on; returns its exit code."""
    process = subprocess.Popen(command)
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Locust stops itself and writes its files
    previous_term = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def run(scenario_path: Path, scenario: Scenario, options: RunOptions) -> tuple[int, Path]:
    """Run a scenario end to end; returns Locust's exit code and the results folder."""
    run_dir = new_run_dir(options.results_root, scenario)
    shutil.copy(scenario_path, run_dir / "scenario.yaml")
    handler = _log_to(run_dir / "harness.log")
    target = open_target(scenario, endpoint_url=options.endpoint_url, allow_aws=options.allow_aws, log_dir=run_dir)
    try:
        outcome = setup(scenario, target)
        for name, what in outcome.items():
            log.info("table %s: %s", name, what)
        code = run_locust(locust_command(scenario_path.resolve(), scenario, run_dir, target, options))
    finally:
        target.close()
        logging.getLogger().removeHandler(handler)
        handler.close()
    return code, run_dir


def _log_to(path: Path) -> logging.Handler:
    """Send the harness's own log lines to the run folder too."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler
