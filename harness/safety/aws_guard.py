"""Real AWS only on purpose: which runs reach Amazon DynamoDB, the opt-in they need, the plan shown first.

A run is real AWS when its requests go to AWS: a `kind: aws` target (without --endpoint-url), or
an endpoint whose host is AWS's (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`; any case,
port or scheme). It needs --allow-aws or `confirm: true` in the scenario's target. Without either,
`require_opt_in` (called by session.open_target, so by every command and locustfile) raises
BadInput before anything is contacted. With it, `review` (run and setup) checks the cost ceiling
(harness.safety.cost_ceiling) against --max-cost before any request, then reads the account (STS
GetCallerIdentity, short timeout) and the tables (DescribeTable, ListTagsOfResource), checks again,
and returns the plan's lines, all before anything is created. Credentials are never printed.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.durations import parse_duration
from harness.errors import BadInput, HarnessError, TableConflict, error_code
from harness.redact import redact
from harness.safety.cost_ceiling import ON_DEMAND_BASIS, PROVISIONED_BASIS, Ceiling, UnitPrices, estimate, load_writes
from harness.scenario import Scenario, TableSpec
from harness.target import ownership, tables
from harness.target.client import USER_AGENT, Connection, make_client

AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
STS_TIMEOUT_S = 3.0
"""How long the plan waits for STS GetCallerIdentity (credential lookup included) before saying 'unknown'."""
FALLBACK_PRICING_REGION = "us-east-1"


def is_aws_host(url: str) -> bool:
    """True when the URL's host is AWS's: *.amazonaws.com, *.amazonaws.com.cn or *.api.aws (any case, port, scheme)."""
    text = url.strip()
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname or ""
    except ValueError:
        return False
    host = host.rstrip(".")
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in AWS_HOST_SUFFIXES)


def aws_connection(scenario: Scenario, endpoint_url: str | None = None) -> Connection | None:
    """The connection of a run whose requests go to real AWS (the default credential chain), or None."""
    target = scenario.target
    url = endpoint_url or (target.url if target.kind == "endpoint" else None)
    profile = getattr(target, "profile", None)
    if url:
        return Connection(target.region, url, local_credentials=False, profile=profile) if is_aws_host(url) else None
    if target.kind == "aws":
        return Connection(target.region, None, local_credentials=False, profile=profile)
    return None


def require_opt_in(scenario: Scenario, endpoint_url: str | None, allow_aws: bool) -> Connection | None:
    """The run's real-AWS connection (None when it is not real AWS); BadInput without an opt-in. Contacts nothing."""
    connection = aws_connection(scenario, endpoint_url)
    if connection is None or allow_aws or getattr(scenario.target, "confirm", False):
        return connection
    how = "pass --allow-aws or add `confirm: true` to its target" if hasattr(scenario.target, "confirm") else "pass --allow-aws"
    raise BadInput(f"scenario {scenario.name!r} would run against real AWS DynamoDB ({where(connection)}, {connection.region}): {how} (requests cost money)")


def where(connection: Connection) -> str:
    """The endpoint's host[:port] without user info or path, or AWS's default endpoint."""
    if not connection.endpoint_url:
        return "AWS's default endpoint"
    parts = urlsplit(connection.endpoint_url if "://" in connection.endpoint_url else "//" + connection.endpoint_url)
    try:
        port = parts.port
    except ValueError:  # out of range: the connection will say so
        port = None
    return f"endpoint {parts.hostname}" + (f":{port}" if port else "")


def usd(value: float) -> str:
    """Dollars as the plan prints them: cents from $1 up, four decimals below."""
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


# ---- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TablePlan:
    """What the run will do to one table, as read from AWS before anything is created."""

    spec: TableSpec
    action: str
    created: bool
    """Created (or recreated) by the run: its dataset loads with `load: auto`, and it is a new table."""
    existing: dict | None = None
    """DescribeTable's answer for a table that is reused."""

    @property
    def loads(self) -> bool:
        """True when the run loads the table's dataset (`always`, or `auto` on a table it creates)."""
        dataset = self.spec.dataset
        return dataset is not None and (dataset.load == "always" or (dataset.load == "auto" and self.created))


def review(scenario: Scenario, endpoint_url: str | None, allow_aws: bool, max_cost: float | None, run_time: str | int | None, web: bool = False) -> list[str]:
    """For a real-AWS run: refuse it without opt-in or above `max_cost`, else return the plan to print. [] otherwise.

    `run_time` None means `setup` (no run). Issues STS GetCallerIdentity, DescribeTable and
    ListTagsOfResource only; BadInput (exit 2) for a refusal, TableConflict for a table the run
    would not be allowed to use, HarnessError when AWS cannot be read.
    """
    connection = require_opt_in(scenario, endpoint_url, allow_aws)
    if connection is None:
        return []  # local targets: no plan, and --max-cost does not apply
    seconds = parse_duration(run_time) + parse_duration(scenario.load.stop_timeout) if run_time is not None else 0
    prices, price_words = prices_for(connection.region)
    _enforce(estimate(scenario, seconds, prices), max_cost, scenario, connection, "")
    account, credentials = caller_identity(connection)
    plans = _read_tables(scenario, connection)
    ceiling = estimate(
        scenario, seconds, prices,
        loaded={plan.spec.name for plan in plans if plan.loads},
        existing={plan.spec.name: plan.existing for plan in plans if plan.existing is not None},
    )  # fmt: skip
    _enforce(ceiling, max_cost, scenario, connection, " after reading its tables")
    opt_in = "--allow-aws" if allow_aws else "confirm: true"
    lines = [
        f"AWS plan: real Amazon DynamoDB, requests cost money (opted in with {opt_in})",
        f"  region: {connection.region}; {where(connection)}",
        f"  account: {account} (credentials: {credentials}; never printed)",
    ]
    lines += [f"  table {plan.spec.name}: {plan.action}; {_capacity_words(plan.spec)}" + (f"; load {load_writes(plan.spec)[0]:,} items" if plan.loads else "") for plan in plans]
    lines += _cost_lines(ceiling, seconds, run_time, web, max_cost, price_words)
    return lines


def _enforce(ceiling: Ceiling, max_cost: float | None, scenario: Scenario, connection: Connection, when: str) -> None:
    if max_cost is not None and ceiling.usd > max_cost:
        raise BadInput(
            f"estimated cost ceiling {usd(ceiling.usd)} is above --max-cost {usd(max_cost)} for scenario {scenario.name!r} "
            f"on real AWS in {connection.region}{when}: nothing was created"
        )


def prices_for(region: str) -> tuple[UnitPrices, str]:
    """The region's prices from harness/report/pricing.yaml (or $DDB_HARNESS_PRICING), else us-east-1's with a note."""
    from harness.report.cost import NoPricesForRegion, load_prices  # pandas: only for real-AWS runs

    path = os.environ.get("DDB_HARNESS_PRICING") or None
    note = ""
    try:
        prices = load_prices(region, path)
    except NoPricesForRegion:
        prices = load_prices(FALLBACK_PRICING_REGION, path)
        note = f"; the file has no prices for {region}: {FALLBACK_PRICING_REGION}'s used"
    words = f"{prices.region} from {prices.file} ({prices.source}, {prices.date}){note}"
    return UnitPrices(prices.read_per_million, prices.write_per_million, prices.rcu_hour, prices.wcu_hour), words


def caller_identity(connection: Connection, timeout: float = STS_TIMEOUT_S) -> tuple[str, str]:
    """(account id or 'unknown (reason)', where the credentials come from), from STS GetCallerIdentity within `timeout`."""
    answer: list[tuple[str, str]] = []

    def ask() -> None:
        source = "none found"
        try:
            session = boto3.session.Session(profile_name=connection.profile) if connection.profile else boto3.session.Session()
            credentials = session.get_credentials()
            source = getattr(credentials, "method", None) or source
            config = Config(user_agent=USER_AGENT, connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})
            account = session.client("sts", region_name=connection.region, config=config).get_caller_identity()["Account"]
            answer.append((account, source))
        except ClientError as exc:
            answer.append((f"unknown ({error_code(exc)})", source))
        except Exception as exc:  # BotoCoreError and the like; never a message: an AWS answer may quote signed headers
            answer.append((f"unknown ({type(exc).__name__})", source))

    thread = threading.Thread(target=ask, daemon=True, name="sts-caller-identity")
    thread.start()
    thread.join(timeout)
    return answer[0] if answer else (f"unknown (no answer from STS within {timeout:g} s)", "not resolved in time")


def _read_tables(scenario: Scenario, connection: Connection) -> list[TablePlan]:
    """Each table's plan from DescribeTable (and ListTagsOfResource where ownership matters)."""
    try:
        client = make_client(connection, scenario.client.model_copy(update={"kind": "boto3"}))
        return [plan_table(client, spec) for spec in scenario.tables]
    except ClientError as exc:
        raise HarnessError(f"cannot read the scenario's tables on AWS before the run ({error_code(exc)}): nothing was created") from None
    except BotoCoreError as exc:
        raise HarnessError(f"cannot reach AWS DynamoDB before the run ({type(exc).__name__}: {redact(str(exc))}): nothing was created") from None


def plan_table(client, spec: TableSpec) -> TablePlan:
    """What tables.ensure_table will do to this table, decided with the same rules, without changing anything."""
    existing = tables.describe(client, spec.name)
    if existing is None:
        return TablePlan(spec, "create", True)
    wanted = tables.schema_of({**tables.create_table_request(spec), "BillingModeSummary": {"BillingMode": spec.billing_mode}})
    if tables.schema_of(existing) != wanted:
        if spec.recreate and ownership.is_owned(client, existing):
            return TablePlan(spec, "delete and recreate (another schema; created by the harness, recreate: true)", True)
        raise TableConflict(
            f"table {spec.name!r} exists with another schema and the run may not replace it "
            "(recreate: true, and only for tables the harness created): nothing was created or changed"
        )
    updates = tables.capacity_updates(spec, existing)  # the very UpdateTable ensure_table would send
    if not updates:
        return TablePlan(spec, "reuse", False, existing)
    if not ownership.is_owned(client, existing):
        return TablePlan(spec, "reuse, capacity left as it is (it differs from the scenario's, but the harness did not create this table)", False, existing)
    return TablePlan(spec, f"reuse, update capacity to {_update_words(updates)}", False, existing)


def _update_words(updates: dict) -> str:
    words = []
    if "ProvisionedThroughput" in updates:
        words.append(_units(updates["ProvisionedThroughput"]))
    for change in updates.get("GlobalSecondaryIndexUpdates", []):
        words.append(f"GSI {change['Update']['IndexName']} {_units(change['Update']['ProvisionedThroughput'])}")
    return ", ".join(words)


def _units(throughput: dict) -> str:
    return f"{throughput['ReadCapacityUnits']:,} RCU / {throughput['WriteCapacityUnits']:,} WCU"


def _capacity_words(spec: TableSpec) -> str:
    """The provisioned capacity the run sets on a table and its GSIs (or on-demand)."""
    if spec.billing_mode != "PROVISIONED":
        return "on-demand (no capacity set)"
    words = [f"provisioned {spec.capacity.read:,} RCU / {spec.capacity.write:,} WCU"]
    words += [f"GSI {index.name} {index.capacity.read:,} RCU / {index.capacity.write:,} WCU" for index in spec.gsis]
    for change in spec.capacity_schedule:
        words.append(f"after {change.after_seconds} s {change.read:,} RCU / {change.write:,} WCU" + "".join(f", GSI {name} {units.read:,}/{units.write:,}" for name, units in change.gsis.items()))
    return ", ".join(words)


def _cost_lines(ceiling: Ceiling, seconds: float, run_time, web: bool, max_cost: float | None, price_words: str) -> list[str]:
    span = f"run {parse_duration(run_time)} s + stop timeout {seconds - parse_duration(run_time):g} s" if run_time is not None else "setup only, no run"
    limit = f"; --max-cost {usd(max_cost)}" if max_cost is not None else ""
    lines = [f"  cost ceiling: {usd(ceiling.usd)} ({span}{limit})"]
    for resource in ceiling.resources:
        name = resource.table + (f" GSI {resource.index}" if resource.index else "")
        lines.append(f"    {name}: {resource.billing}, at most {usd(resource.usd)}: {resource.basis}")
    if any(resource.billing == "on-demand" for resource in ceiling.resources):
        lines.append(f"  {ON_DEMAND_BASIS}")
    if ceiling.billed_hours:
        lines.append(f"  {PROVISIONED_BASIS}")
    lines.append(f"  prices: {price_words}")
    if web:
        lines.append("  with --web the run lasts until it is stopped: the ceiling assumes the run time above")
    if ceiling.provisioned_per_hour_usd:
        lines.append(f"  the tables stay after the run: their provisioned capacity costs {usd(ceiling.provisioned_per_hour_usd)} per hour until `ddb-harness teardown`")
    return lines
