"""The AWS guard: which runs are real AWS, the opt-in they need, the cost ceiling, --max-cost and the plan.

End-to-end runs reach real-looking AWS endpoints (`http://dynamodb.us-east-1.amazonaws.com`)
through a local stub used as HTTP proxy (botocore honours HTTP_PROXY for http:// endpoints), so
nothing leaves the machine and the stub counts every request that would have reached AWS.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, write_scenario
from counting_stub import ACCOUNT, CountingDynamoDB, aws_proxy_env
from test_run_e2e import read_rows, run_dir_of

from harness.cli import main
from harness.datasets.ring import ring_keys
from harness.errors import BadInput
from harness.run import runner
from harness.safety import aws_guard
from harness.safety.cost_ceiling import UnitPrices, estimate, item_size, on_demand_units
from harness.scenario import parse_scenario

HARNESS = [sys.executable, "-m", "harness.cli"]
AWS_URL = "http://dynamodb.us-east-1.amazonaws.com"
PRICES = UnitPrices(read_per_million=0.125, write_per_million=0.625, rcu_hour=0.00013, wcu_hour=0.00065)  # us-east-1, pricing.yaml
RING = "guard-ring"


# ---- host detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://dynamodb.us-east-1.amazonaws.com",
        "https://dynamodb.eu-west-1.amazonaws.com/",
        "HTTPS://DynamoDB.US-EAST-1.AmazonAWS.com:443",
        "http://dynamodb.us-east-1.amazonaws.com:8000/some/path",
        "https://dynamodb.cn-north-1.amazonaws.com.cn",
        "https://dynamodb.us-east-1.api.aws",
        "https://vpce-0a1b2c.dynamodb.us-east-1.vpce.amazonaws.com",
        "https://dynamodb-fips.us-gov-west-1.amazonaws.com",
        "https://user:password@dynamodb.us-east-1.amazonaws.com",
        "https://dynamodb.us-east-1.amazonaws.com.",  # fully qualified, trailing dot
        "dynamodb.us-east-1.amazonaws.com:443",  # no scheme
    ],
)
def test_aws_hosts_are_recognised(url):
    assert aws_guard.is_aws_host(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://dynamodb-local:8000",
        "http://dynamodb.us-east-1.amazonaws.com.example.org",
        "http://notamazonaws.com",
        "https://my.api.aws.example",
        "http://amazonaws.com.cn.example",
        "http://[::1]:8000",
        "http://[bad",
    ],
)
def test_other_hosts_are_not_aws(url):
    assert not aws_guard.is_aws_host(url)


def scenario(target: dict, tables: list[dict] | None = None, load: dict | None = None):
    data = {
        "name": "guard",
        "target": target,
        "tables": tables or [{"name": RING, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": 10, "load": "never"}}],
        "workload": {"mix": [{"task": "walk_ring", "table": (tables or [{"name": RING}])[0]["name"], "steps": 1}]},
        "load": load or {"users": 1, "run_time": "2s", "stop_timeout": "3s"},
    }
    return parse_scenario(yaml.safe_dump(data), source=Path("guard.yaml"))


def test_which_runs_are_real_aws():
    aws = scenario({"kind": "aws", "region": "eu-west-1", "profile": "perf"})
    connection = aws_guard.aws_connection(aws)
    assert connection.endpoint_url is None and connection.region == "eu-west-1"
    assert not connection.local_credentials and connection.profile == "perf"
    assert aws_guard.aws_connection(aws, "http://127.0.0.1:8000") is None  # redirected to a local server: nothing reaches AWS
    local = scenario({"kind": "local"})
    assert aws_guard.aws_connection(local) is None
    assert not aws_guard.aws_connection(local, AWS_URL).local_credentials  # an AWS host signs with the real credential chain
    assert aws_guard.aws_connection(scenario({"kind": "endpoint", "url": AWS_URL})).endpoint_url == AWS_URL
    assert aws_guard.aws_connection(scenario({"kind": "endpoint", "url": "http://localhost:8000"})) is None


def test_real_aws_needs_an_opt_in():
    aws = scenario({"kind": "aws", "region": "eu-west-1"})
    with pytest.raises(BadInput, match="--allow-aws or add `confirm: true`"):
        aws_guard.require_opt_in(aws, None, allow_aws=False)
    assert aws_guard.require_opt_in(aws, None, allow_aws=True) is not None
    assert aws_guard.require_opt_in(scenario({"kind": "aws", "region": "eu-west-1", "confirm": True}), None, False) is not None
    assert aws_guard.require_opt_in(scenario({"kind": "endpoint", "url": AWS_URL, "confirm": True}), None, False) is not None
    with pytest.raises(BadInput, match="endpoint dynamodb.us-east-1.amazonaws.com"):
        aws_guard.require_opt_in(scenario({"kind": "endpoint", "url": AWS_URL}), None, False)
    with pytest.raises(BadInput, match=r"pass --allow-aws \(requests cost money\)"):  # a local scenario has no confirm field
        aws_guard.require_opt_in(scenario({"kind": "local"}), AWS_URL, False)
    assert aws_guard.require_opt_in(scenario({"kind": "local"}), None, False) is None


# ---- cost ceiling --------------------------------------------------------------------------


def test_on_demand_units_follow_dynamodbs_limits():
    assert on_demand_units(30, 4_000) == 30 * 4_000
    assert on_demand_units(45 * 60, 4_000) == 4_000 * 1_800 + 8_000 * 900  # doubles after 30 minutes
    assert on_demand_units(4 * 3600, 12_000) == 12_000 * 1800 + 24_000 * 1800 + 40_000 * 6 * 1800  # never above the quota
    assert on_demand_units(60, 40_000, grows=False) == 2_400_000
    assert on_demand_units(0, 4_000) == 0


def test_item_size_counts_names_and_values():
    assert item_size({"pk": {"S": "abc"}}) == 5
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 1 byte per two digits, plus 1: rounded up
    assert item_size({"m": {"M": {"a": {"S": "x"}}}}) == 1 + 3 + 2


PROVISIONED_TLOG = {
    "name": "tlog",
    "attributes": {"requestid": "N", "GSI_1_PK": "S", "GSI_1_SK": "S"},
    "key": {"hash": "requestid"},
    "billing_mode": "PROVISIONED",
    "capacity": {"read": 5000, "write": 5000},
    "gsis": [{"name": "GSI_1", "key": {"hash": "GSI_1_PK", "range": "GSI_1_SK"}, "projection": {"type": "KEYS_ONLY"}, "capacity": {"read": 3000, "write": 5000}}],
    "dataset": {"model": "logfile", "size": 1000, "shards": 10},
}


def tlog_scenario(**changes):
    table = {**PROVISIONED_TLOG, **changes}
    data = {"name": "tlog", "target": {"kind": "aws", "region": "us-east-1"}, "tables": [table], "workload": {"mix": [{"task": "sharded_gsi_query", "table": "tlog", "index": "GSI_1"}]}}
    return parse_scenario(yaml.safe_dump(data), source=Path("tlog.yaml"))


def test_provisioned_ceiling_is_capacity_times_price_times_whole_hours():
    ceiling = estimate(tlog_scenario(), run_seconds=60, prices=PRICES)
    hour = (5000 + 3000) * 0.00013 + (5000 + 5000) * 0.00065
    assert ceiling.billed_hours == 1 and ceiling.usd == pytest.approx(hour)
    assert ceiling.provisioned_per_hour_usd == pytest.approx(hour)
    assert estimate(tlog_scenario(), run_seconds=3601, prices=PRICES).usd == pytest.approx(2 * hour)


def test_provisioned_ceiling_counts_the_schedules_highest_capacity_and_a_slow_load():
    scheduled = tlog_scenario(capacity_schedule=[{"after": "30s", "read": 9000, "write": 100, "gsis": {"GSI_1": {"read": 10, "write": 8000}}}])
    resources = {resource.index: resource for resource in estimate(scheduled, 60, PRICES).resources}
    assert (resources[""].read_units, resources[""].write_units) == (9000, 5000)
    assert (resources["GSI_1"].read_units, resources["GSI_1"].write_units) == (3000, 8000)
    slow = tlog_scenario(capacity={"read": 1, "write": 1}, gsis=[{**PROVISIONED_TLOG["gsis"][0], "capacity": {"read": 1, "write": 1}}])
    assert estimate(slow, 60, PRICES).billed_hours == 1  # 1,000 items at 1 WCU: 1,000 s of load + 60 s
    bigger = tlog_scenario(capacity={"read": 1, "write": 1}, gsis=[{**PROVISIONED_TLOG["gsis"][0], "capacity": {"read": 1, "write": 1}}], dataset={"model": "logfile", "size": 4000, "shards": 10})
    assert estimate(bigger, 60, PRICES).billed_hours == 2  # 4,000 s of load + 60 s


def test_on_demand_ceiling_is_a_new_tables_limits_times_the_run_plus_the_load():
    on_demand = tlog_scenario(billing_mode="PAY_PER_REQUEST", capacity=None, gsis=[{**PROVISIONED_TLOG["gsis"][0], "capacity": None}])
    ceiling = estimate(on_demand, run_seconds=60, prices=PRICES)
    run_per_resource = 60 * 12_000 / 1e6 * 0.125 + 60 * 4_000 / 1e6 * 0.625
    load = 1000 * 1 / 1e6 * 0.625  # 1,000 log items of one write unit each, on the table and on GSI_1
    assert ceiling.usd == pytest.approx(2 * (run_per_resource + load))
    assert ceiling.billed_hours == 0 and ceiling.provisioned_per_hour_usd == 0
    assert estimate(on_demand, 60, PRICES, loaded=set()).usd == pytest.approx(2 * run_per_resource)
    existing = {"tlog": {"TableName": "tlog", "OnDemandThroughput": {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": -1}, "GlobalSecondaryIndexes": [{"IndexName": "GSI_1"}]}}
    resources = {resource.index: resource for resource in estimate(on_demand, 60, PRICES, loaded=set(), existing=existing).resources}
    assert (resources[""].read_units, resources[""].write_units) == (6_000, 2_400_000)  # its own maximum; no maximum: the quota
    assert (resources["GSI_1"].read_units, resources["GSI_1"].write_units) == (2_400_000, 2_400_000)


# ---- the command line, no network ---------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name fails the command and is recorded."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture
def no_runs(monkeypatch):
    started = []
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: started.append(args) or pytest.fail("a run started"))
    return started


def invoke(*args):
    try:
        cli = CliRunner(mix_stderr=False)
    except TypeError:
        cli = CliRunner()
    return cli.invoke(main, [str(arg) for arg in args])


def scenario_file(tmp_path, target: dict, load: str = "never") -> Path:
    data = dict(
        name="guard",
        target=target,
        tables=[{"name": RING, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": 10, "seed": 0, "load": load}}],
        workload={"mix": [{"task": "walk_ring", "table": RING, "steps": 1}]},
        load={"users": 2, "spawn_rate": 10, "run_time": "3s", "stop_timeout": "5s"},
        client={"retries": {"mode": "legacy", "max_attempts": 3}},
    )
    return write_scenario(tmp_path, data)


@pytest.mark.parametrize("command", ["run", "setup", "teardown"])
def test_aws_target_without_opt_in_is_one_line_exit_2_and_no_network(tmp_path, no_network, no_runs, command):
    path = scenario_file(tmp_path, {"kind": "aws", "region": "eu-west-1"})
    result = invoke(command, path, "--results-dir", tmp_path / "r") if command == "run" else invoke(command, path)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "Error: scenario 'guard' would run against real AWS DynamoDB (AWS's default endpoint, eu-west-1): "
        "pass --allow-aws or add `confirm: true` to its target (requests cost money)"
    ]
    assert no_network == [] and no_runs == [] and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "target, flags",
    [
        ({"kind": "endpoint", "url": "https://dynamodb.us-east-1.amazonaws.com"}, []),
        ({"kind": "local"}, ["--endpoint-url", "https://dynamodb.us-east-1.amazonaws.com"]),
        ({"kind": "endpoint", "url": "http://127.0.0.1:8000"}, ["--endpoint-url", "http://DYNAMODB.us-east-1.amazonaws.com:80"]),
    ],
)
def test_an_endpoint_on_an_aws_host_triggers_the_guard(tmp_path, no_network, no_runs, target, flags):
    path = scenario_file(tmp_path, target)
    result = invoke("run", path, *flags)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert "would run against real AWS DynamoDB (endpoint dynamodb.us-east-1.amazonaws.com" in line and "--allow-aws" in line
    assert no_network == [] and no_runs == []


def test_an_opted_in_run_above_max_cost_is_refused_before_any_request(tmp_path, no_network, no_runs):
    path = scenario_file(tmp_path, {"kind": "endpoint", "url": "https://dynamodb.us-east-1.amazonaws.com", "confirm": True})
    result = invoke("run", path, "--max-cost", "0.001")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "Error: estimated cost ceiling $0.0320 is above --max-cost $0.0010 for scenario 'guard' on real AWS in us-east-1: nothing was created"
    ]  # 8 s (run 3 s + stop timeout 5 s) x (12,000 RRU x $0.125 + 4,000 WRU x $0.625 per million)
    assert no_network == [] and no_runs == []
    (tmp_path / "loads").mkdir()
    loads = scenario_file(tmp_path / "loads", {"kind": "endpoint", "url": "https://dynamodb.us-east-1.amazonaws.com", "confirm": True}, "auto")
    result = invoke("setup", loads, "--max-cost", "0")  # setup alone costs its load: 10 items x 1 WRU
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "Error: estimated cost ceiling $0.0000 is above --max-cost $0.0000 for scenario 'guard' on real AWS in us-east-1: nothing was created"
    ]
    assert no_network == []


def test_max_cost_is_ignored_for_local_targets(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: calls.append(args) or sys.exit(0))
    result = invoke("run", scenario_file(tmp_path, {"kind": "local"}), "--max-cost", "0")
    assert result.exit_code == 0 and len(calls) == 1
    assert result.stdout == ""  # no plan for a local target


@pytest.mark.parametrize("value", ["-1", "ten", ""])
def test_max_cost_must_be_a_non_negative_number(tmp_path, no_runs, value):
    for command in ("run", "setup"):
        result = invoke(command, REPO / "scenarios" / "roundtrip.yaml", "--max-cost", value)
        assert result.exit_code == 2
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "--max-cost" in errors[0] and "Traceback" not in result.stderr


# ---- end to end: an AWS-looking endpoint reached through the stub as HTTP proxy -----------


def run_through_proxy(tmp_path, stub, *flags, command="run", env=None, load="never"):
    path = scenario_file(tmp_path, {"kind": "local"}, load)
    args = HARNESS + [command, str(path), "--endpoint-url", AWS_URL, *flags]
    if command == "run":
        args += ["--results-dir", str(tmp_path / "results")]
    environment = env or aws_proxy_env(stub, AWS_ACCESS_KEY_ID="AKIDGUARDTEST", AWS_SECRET_ACCESS_KEY="guard-test-secret")
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environment)


def ring_stub(existing: bool = True) -> CountingDynamoDB:
    spec = load_scenario_tables()
    return CountingDynamoDB(spec if existing else [], {RING: ring_keys(10, 0)})


def load_scenario_tables():
    data = {"tables": [{"name": RING, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring", "size": 10, "seed": 0}}]}
    data["workload"] = {"mix": [{"task": "walk_ring", "table": RING}]}
    return list(parse_scenario(yaml.safe_dump(data), source=Path("x.yaml")).tables)


def test_below_max_cost_nothing_reaches_the_endpoint(tmp_path):
    with ring_stub() as stub:
        done = run_through_proxy(tmp_path, stub, "--allow-aws", "--max-cost", "0.01")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        "Error: estimated cost ceiling $0.0320 is above --max-cost $0.0100 for scenario 'guard' on real AWS in us-east-1: nothing was created"
    ]
    assert done.stdout == ""
    assert sum(stub.attempts.values()) == 0  # not even STS or DescribeTable
    assert not (tmp_path / "results").exists()


def test_without_opt_in_nothing_reaches_the_endpoint(tmp_path):
    with ring_stub() as stub:
        done = run_through_proxy(tmp_path, stub)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and "--allow-aws" in done.stderr
    assert sum(stub.attempts.values()) == 0


def test_above_max_cost_the_plan_is_printed_and_the_run_proceeds(tmp_path):
    with ring_stub() as stub:
        done = run_through_proxy(tmp_path, stub, "--allow-aws", "--max-cost", "5")
    assert done.returncode == 0, done.stderr[-3000:]
    plan = done.stdout.split("type ")[0]
    assert plan.startswith("AWS plan: real Amazon DynamoDB, requests cost money (opted in with --allow-aws)\n")
    assert "  region: us-east-1; endpoint dynamodb.us-east-1.amazonaws.com\n" in plan
    assert f"  account: {ACCOUNT} (credentials: env; never printed)\n" in plan
    assert f"  table {RING}: reuse; on-demand (no capacity set)\n" in plan
    # the table exists: bounded by the 40,000 units/s quota from the start, 8 s x (40,000 x $0.125 + 40,000 x $0.625) / 1e6
    assert "  cost ceiling: $0.2400 (run 3 s + stop timeout 5 s; --max-cost $5.00)\n" in plan
    assert "  prices: us-east-1 from shipped pricing.yaml" in plan
    assert stub.attempts["sts:GetCallerIdentity"] == 1
    assert stub.attempts["DescribeTable"] == 2  # the plan's, then the setup's; nothing created or updated
    assert {"CreateTable", "UpdateTable", "DeleteTable", "BatchWriteItem"}.isdisjoint(stub.attempts)
    rows = {(row["Type"], row["Name"]): row for row in read_rows(run_dir_of(tmp_path / "results") / "locust_stats.csv")}
    assert int(rows[("GetItem", "walk_ring")]["Request Count"]) == stub.attempts["GetItem"] > 0  # all through the proxy
    assert stub.access_key_ids == {"AKIDGUARDTEST"}  # signed with the environment's credentials, not DynamoDB Local's dummy ones


def test_setup_prints_the_plan_then_creates_and_loads(tmp_path):
    with ring_stub(existing=False) as stub:
        done = run_through_proxy(tmp_path, stub, "--allow-aws", "--max-cost", "1", command="setup", load="auto")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert f"  table {RING}: create; on-demand (no capacity set); load 10 items" in lines
    assert "  cost ceiling: $0.0000 (setup only, no run; --max-cost $1.00)" in lines  # 10 write units: $0.00000625
    assert lines[-1] == f"table {RING}: created"
    assert stub.attempts["CreateTable"] == 1 and stub.written[RING] == 10
    assert lines.index(f"  table {RING}: create; on-demand (no capacity set); load 10 items") < lines.index(f"table {RING}: created")


# ---- the plan's parts ----------------------------------------------------------------------


def test_account_is_unknown_with_a_reason_when_sts_does_not_answer(monkeypatch):
    connection = aws_guard.aws_connection(scenario({"kind": "aws", "region": "us-east-1"}))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # nothing listens there
    assert aws_guard.caller_identity(connection, timeout=5) == ("unknown (NoCredentialsError)", "none found")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPLANTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "plan-test-secret")
    assert aws_guard.caller_identity(connection, timeout=5) == ("unknown (EndpointConnectionError)", "env")
    monkeypatch.setattr(aws_guard.boto3.session, "Session", lambda **_: __import__("time").sleep(3))
    assert aws_guard.caller_identity(connection, timeout=0.2) == ("unknown (no answer from STS within 0.2 s)", "not resolved in time")


def provisioned_ring(read: int = 5, write: int = 5, recreate: bool = False):
    table = {"name": RING, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "billing_mode": "PROVISIONED",
             "capacity": {"read": read, "write": write}, "recreate": recreate, "dataset": {"model": "ring", "size": 10}}  # fmt: skip
    return scenario({"kind": "aws", "region": "us-east-1"}, tables=[table]).tables[0]


def test_the_plan_says_what_ensure_table_will_do_to_each_table():
    from harness.scenario import ClientSettings
    from harness.target.client import Connection, make_client
    from harness.target.ownership import OWNER_TAGS

    with CountingDynamoDB([provisioned_ring(5, 5)]) as stub:
        client = make_client(Connection("us-east-1", stub.url), ClientSettings(kind="boto3"))
        assert aws_guard.plan_table(client, provisioned_ring(5, 5)).action == "reuse"
        not_ours = aws_guard.plan_table(client, provisioned_ring(50, 10))
        assert not_ours.action.startswith("reuse, capacity left as it is") and not not_ours.created and not not_ours.loads
        stub.tags[stub.tables[RING]["TableArn"]] = OWNER_TAGS
        assert aws_guard.plan_table(client, provisioned_ring(50, 10)).action == "reuse, update capacity to 50 RCU / 10 WCU"
        on_demand = scenario({"kind": "aws", "region": "us-east-1"}, tables=[{"name": RING, "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "recreate": True, "dataset": {"model": "ring"}}]).tables[0]
        recreated = aws_guard.plan_table(client, on_demand)  # another billing mode is another schema; ours, and recreate: true
        assert recreated.action.startswith("delete and recreate") and recreated.created and recreated.loads
        del stub.tags[stub.tables[RING]["TableArn"]]
        with pytest.raises(aws_guard.TableConflict, match="nothing was created or changed"):
            aws_guard.plan_table(client, on_demand)
        assert {"CreateTable", "UpdateTable", "DeleteTable", "TagResource"}.isdisjoint(stub.attempts)  # the plan only reads


def test_plain_locust_against_aws_logs_the_plan_before_setup(tmp_path):
    """`locust -f` with the harness's locustfile has no --max-cost, but shows the same plan first."""
    path = scenario_file(tmp_path, {"kind": "local"})
    with ring_stub() as stub:
        environment = aws_proxy_env(stub, AWS_ACCESS_KEY_ID="AKIDGUARDTEST", AWS_SECRET_ACCESS_KEY="guard-test-secret")
        command = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles" / "roundtrip.py"), "--scenario", str(path),
                   "--endpoint-url", AWS_URL, "--allow-aws", "--headless", "-t", "2s"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "AWS plan: real Amazon DynamoDB, requests cost money (opted in with --allow-aws)" in done.stderr
    assert f"table {RING}: reuse; on-demand (no capacity set)" in done.stderr
    assert "guard-test-secret" not in done.stderr + done.stdout
    assert stub.attempts["GetItem"] > 0
