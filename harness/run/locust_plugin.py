"""Locust hooks: the harness's command-line options and the init/quit listeners a locustfile registers.

`register(events, user_classes)` is all a locustfile calls. At init the scenario is read, the
target reached (or the embedded server started), tables and data prepared (not on workers, and
not when `ddb-harness run` already did it), and the User classes configured from the mix.
"""

from __future__ import annotations

import atexit
import logging
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import gevent
from botocore.exceptions import BotoCoreError, ClientError
from locust.rpc import Message
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from harness.datasets import ring
from harness.durations import parse_duration
from harness.errors import HarnessError
from harness.gate.estimates import catalog_of, estimated_units
from harness.metrics.locust_hooks import install as install_metrics
from harness.metrics.results_files import HARNESS_WORKERS
from harness.redact import aws_error_line
from harness.run import locust_counts, locust_signals, worker_pauses
from harness.run.final_stats import write_final_stats
from harness.run.open_model import install as install_open_model
from harness.run.partition import Partition
from harness.run.partition import install as install_partition
from harness.run.session import Target, open_target, setup
from harness.run.web_charts import install as install_web_charts
from harness.run.web_tab import MASTER_LAG_SECONDS, STANDALONE_LAG_SECONDS
from harness.run.web_tab import install as install_web_tab
from harness.run.worker_health import WorkerHealth
from harness.run.worker_tally import WorkerTally
from harness.safety import aws_guard
from harness.scenario import RingDataset, Scenario, load_scenario, max_fan_out
from harness.target.client import Connection, shared_client
from harness.target.tables import create_table_request
from harness.workload.arrivals import ArrivalDispatcher

log = logging.getLogger(__name__)

WORKER_QUIT_GRACE_SECONDS = 10.0
"""At the end of a distributed run, how long past stop_timeout the master waits for workers' final reports."""


@dataclass
class RunContext:
    """What every User of this process shares: the scenario, where to send requests, the ring keys."""

    scenario: Scenario
    connection: Connection
    pool_size: int
    ring_keys: dict[str, list[str]] = field(default_factory=dict)
    partition: Partition = field(default_factory=Partition)
    """This process's share of the work (worker index and count), set by the master at run start."""
    user_count: int = 0
    """Users this process has started: each user's ordinal within the process."""
    arrivals: ArrivalDispatcher | None = None
    """Open model: this process's schedule of task starts (harness.workload.arrivals); None in a closed-model run."""

    def client(self):
        """The process's one DynamoDB client (harness.target.client's cache): every User and the metrics share it.
        Behind a capacity gate, it decides requests here with leased tokens (harness.gate.in_process)."""
        wrap = None
        if self.connection.capacity_gate:
            from harness.gate.in_process import gated_client  # gevent-only: loaded by gated runs alone

            wrap = gated_client
        return shared_client(self.connection, self.scenario.client, pool=self.pool_size, wrap=wrap)

    def next_user_ordinal(self) -> int:
        """A new user's ordinal within this process (0, 1, 2, ...)."""
        self.user_count += 1
        return self.user_count - 1


def add_arguments(parser) -> None:
    """The harness's options on Locust's command line (and in its web UI)."""
    group = parser.add_argument_group("ddb-harness")
    # env_var: Locust maps LOCUST_* variables only onto options that declare one (containers configure through them).
    group.add_argument("--scenario", default="", env_var="LOCUST_SCENARIO", help="Scenario YAML file (required)")
    group.add_argument("--endpoint-url", default="", env_var="LOCUST_ENDPOINT_URL", help="Send requests to this running DynamoDB endpoint instead of the scenario's target")
    group.add_argument(
        "--capacity-gate", action="store_true", default=False, env_var="LOCUST_CAPACITY_GATE",
        help="The --endpoint-url is a ddb-harness capacity gate: users lease its tokens and send requests straight to its DynamoDB",
    )  # fmt: skip
    group.add_argument(
        "--embedded-target", action="store_true", default=False, env_var="LOCUST_EMBEDDED_TARGET",
        help="The --endpoint-url is the DynamoDB Local ddb-harness run started for this run (recorded as the target used)",
    )  # fmt: skip
    group.add_argument("--skip-setup", action="store_true", default=False, env_var="LOCUST_SKIP_SETUP", help="Tables and data are ready: do not create or load them")
    group.add_argument("--allow-aws", action="store_true", default=False, env_var="LOCUST_ALLOW_AWS", help="Allow a scenario whose target is real AWS")


def capacity_estimate(scenario: Scenario):
    """The capacity gate's estimate of a PartiQL answer's units, for targets that report none (DynamoDB Local)."""
    catalog = catalog_of([create_table_request(table) for table in scenario.tables])
    return partial(estimated_units, catalog=catalog)


def ring_keys_of(scenario: Scenario) -> dict[str, list[str]]:
    """The walk order of every ring table, recomputed from the dataset's size and seed."""
    return {
        table.name: ring.ring_keys(table.dataset.size, table.dataset.seed)
        for table in scenario.tables
        if isinstance(table.dataset, RingDataset)
    }


def prepare(environment, runner, user_classes) -> Target | None:
    """Read the scenario, reach the target, prepare tables (master/standalone only), configure Users."""
    options = environment.parsed_options
    if not options.scenario:
        raise HarnessError("--scenario is required (a scenario YAML file)")
    scenario = load_scenario(options.scenario)
    is_worker = isinstance(runner, WorkerRunner)
    target = open_target(scenario, endpoint_url=options.endpoint_url or None, allow_aws=options.allow_aws, capacity_gate=options.capacity_gate)
    if not (is_worker or options.skip_setup):
        # plain `locust -f`: the real-AWS plan ddb-harness prints before a run (nothing for local targets)
        for line in aws_guard.review(scenario, options.endpoint_url or None, options.allow_aws, None, options.run_time or scenario.load.run_seconds):
            log.info("%s", line)
        setup(scenario, target)
    for user_class in user_classes:
        user_class.configure(scenario)
    _default_load_options(options, scenario)
    environment.stop_timeout = float(options.stop_timeout or 0)  # Environment read the option before init set it
    users = options.num_users or scenario.load.users
    environment.harness_run = RunContext(scenario, target.connection, pool_size=max(users * max_fan_out(scenario), 10), ring_keys=ring_keys_of(scenario))
    install_partition(environment, environment.harness_run.partition)
    if is_worker:
        WorkerTally(environment.harness_run.partition).install(environment)
    # Created now so the attempt listener sees every HTTP attempt the Users will make through it.
    embedded = target.server is not None or options.embedded_target
    recorder = install_metrics(environment, runner, environment.harness_run.client(), scenario, target.connection, capacity_estimate(scenario), embedded)
    if scenario.load.is_open or scenario.load.stages:
        environment.harness_run.arrivals = install_open_model(environment, runner, scenario.load)
    if getattr(environment, "web_ui", None) is not None:  # the live "DynamoDB" tab, only where a web UI runs
        install_web_tab(environment, recorder, scenario, distributed=isinstance(runner, MasterRunner))
        charts = install_web_charts(environment, recorder, scenario, lag_seconds=MASTER_LAG_SECONDS if isinstance(runner, MasterRunner) else STANDALONE_LAG_SECONDS)
        log.info("DynamoDB charts (capacity vs provisioned, throttles per second): %s on the web UI", charts)
    if options.csv_prefix and not is_worker:
        atexit.register(write_final_stats, environment, options.csv_prefix)
    locust_signals.install(_role(runner), Path(options.csv_prefix).parent if options.csv_prefix and not is_worker else None, options)
    if not is_worker:
        locust_counts.install(environment)
    if isinstance(runner, MasterRunner):
        worker_pauses.allow_pauses()
        worker_pauses.install(environment, runner, Path(options.csv_prefix).parent if options.csv_prefix else None, headless=bool(options.headless))
        _watch_workers(environment, runner)
        _quit_once_workers_have(runner)
    if target.connection.capacity_gate:
        from harness.gate.in_process import close_all

        environment.events.quitting.add_listener(lambda **_: close_all())  # leases back, last counts reported
    return target


def _role(runner) -> str:
    """master, worker or standalone: how this Locust process names itself in logs and the interruption record."""
    if isinstance(runner, MasterRunner):
        return "master"
    return "worker" if isinstance(runner, WorkerRunner) else "standalone"


def _quit_once_workers_have(runner) -> None:
    """Master: quit only once every worker has sent its final report, so its last requests are counted.

    Locust's MasterRunner.quit sends `quit` and waits a fixed 0.5 s for the workers' final
    reports; a worker still finishing in-flight requests (retries, --stop-timeout) reports later
    and its last requests were lost. Here the master sends `quit`, then waits until each worker
    has answered with its own `quit` (after its final report) or stop_timeout + 10 s have passed.
    """
    quit_now = runner.quit

    def quit_when_workers_are_done() -> None:
        runner.stop(send_stop_to_client=False)
        for client in list(runner.clients.all):
            runner.server.send_to_client(Message("quit", None, client.id))
        deadline = time.monotonic() + float(runner.environment.stop_timeout or 0) + WORKER_QUIT_GRACE_SECONDS
        while time.monotonic() < deadline and any(client.state != STATE_MISSING for client in runner.clients.all):
            gevent.sleep(0.05)
        quit_now()

    runner.quit = quit_when_workers_are_done


def _watch_workers(environment, runner) -> None:
    """Master: keep track of workers and write harness_workers.json at the end (when there is a run folder)."""
    health = WorkerHealth()
    health.install(environment)
    prefix = environment.parsed_options.csv_prefix
    if prefix:
        path = Path(prefix).parent / HARNESS_WORKERS
        environment.events.quitting.add_listener(lambda **_: health.write(path, runner))


def _default_load_options(options, scenario: Scenario) -> None:
    """Users, spawn rate and run time come from the scenario unless given on the command line."""
    if options.num_users is None:
        options.num_users = scenario.load.users
    if options.spawn_rate is None:
        options.spawn_rate = scenario.load.spawn_rate
    if options.run_time is None and options.headless:
        options.run_time = scenario.load.run_seconds
    if not options.stop_timeout:
        options.stop_timeout = parse_duration(scenario.load.stop_timeout)


def register(events, user_classes) -> None:
    """Add the options and listeners to Locust's events for these User classes."""
    events.init_command_line_parser.add_listener(add_arguments)

    def on_init(environment, runner, **_):
        try:
            target = prepare(environment, runner, user_classes)
        except HarnessError as exc:
            log.error("%s", exc)
            sys.exit(exc.exit_code)
        except (BotoCoreError, ClientError) as exc:  # e.g. AWS refusing setup: one scrubbed line, no traceback
            log.error("%s", aws_error_line(exc))
            sys.exit(1)
        environment.events.quit.add_listener(lambda **__: target.close())
        # Locust starts its --run-time timer right after init, from the event loop's cached clock, which has
        # not moved since the loop was created during imports: without this the run ends that much early.
        gevent.get_hub().loop.update_now()

    events.init.add_listener(on_init)
