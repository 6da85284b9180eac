"""Locust hooks: the harness's command-line options and the init/quit listeners a locustfile registers.

`register(events, user_classes)` is all a locustfile calls. At init the scenario is read, the
target reached (or the embedded server started), tables and data prepared (not on workers, and
not when `ddb-harness run` already did it), and the User classes configured from the mix.
"""

from __future__ import annotations

import atexit
import logging
import sys
from dataclasses import dataclass, field

from locust.runners import WorkerRunner

from harness.client import Connection
from harness.datasets import ring
from harness.durations import parse_duration
from harness.errors import HarnessError
from harness.final_stats import write_final_stats
from harness.scenario import RingDataset, Scenario, load_scenario
from harness.session import Target, open_target, setup

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What every User of this process shares: the scenario, where to send requests, the ring keys."""

    scenario: Scenario
    connection: Connection
    pool_size: int
    ring_keys: dict[str, list[str]] = field(default_factory=dict)


def add_arguments(parser) -> None:
    """The harness's options on Locust's command line (and in its web UI)."""
    group = parser.add_argument_group("ddb-harness")
    group.add_argument("--scenario", default="", help="Scenario YAML file (required)")
    group.add_argument("--endpoint-url", default="", help="Send requests to this running DynamoDB endpoint instead of the scenario's target")
    group.add_argument("--skip-setup", action="store_true", default=False, help="Tables and data are ready: do not create or load them")
    group.add_argument("--allow-aws", action="store_true", default=False, help="Allow a scenario whose target is real AWS")


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
    target = open_target(scenario, endpoint_url=options.endpoint_url or None, allow_aws=options.allow_aws)
    if not (is_worker or options.skip_setup):
        setup(scenario, target)
    for user_class in user_classes:
        user_class.configure(scenario)
    _default_load_options(options, scenario)
    users = options.num_users or scenario.load.users
    environment.harness_run = RunContext(scenario, target.connection, pool_size=max(users, 10), ring_keys=ring_keys_of(scenario))
    if options.csv_prefix and not is_worker:
        atexit.register(write_final_stats, environment, options.csv_prefix)
    return target


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
        environment.events.quit.add_listener(lambda **__: target.close())

    events.init.add_listener(on_init)
