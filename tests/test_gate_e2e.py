"""The capacity gate for real: its own process in front of the session's DynamoDB Local, driven by boto3 and the loader."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError
from conftest import insert_orders_scenario, scenario_data, write_scenario
from test_run_e2e import read_rows, run_dir_of

from harness.datasets import logfile
from harness.errors import ThrottledError, classify
from harness.gate import start_gate
from harness.gate.wire import INDEX_MESSAGE
from harness.run import runner
from harness.run.session import capacity_emulated, open_target
from harness.scenario import ClientSettings, RetrySettings, TableSpec, load_scenario
from harness.target import tables
from harness.target.capacity_schedule import CapacitySchedule
from harness.target.client import Connection, make_client
from harness.target.loader import load_items

GSI = "host-requestid-gsi"
SUSTAINED_WRITES_PER_SECOND = 5.0
OBSERVE_SECONDS = 34.0  # a ~1 s burst, then 30 s at the provisioned rate
SETTLE_SECONDS = 3.0  # after the burst, before the sustained window starts


@pytest.fixture
def start_gate_at(endpoint, tmp_path):
    """Start gates in front of the session's DynamoDB Local (stopped after the test)."""
    started = []

    def start(burst_seconds: float):
        gate = start_gate(endpoint, burst_seconds=burst_seconds, log_dir=tmp_path)
        started.append(gate)
        return gate

    yield start
    for gate in started:
        gate.stop()


def client_to(url: str, max_attempts: int = 3):
    return make_client(Connection("us-east-1", url), ClientSettings(retries=RetrySettings(max_attempts=max_attempts)))


def gate_stats(gate) -> dict:
    with urllib.request.urlopen(gate.endpoint + "/gate/stats", timeout=10) as answer:
        return json.load(answer)


def tlog_spec(name: str, table_units: tuple[int, int], gsi_units: tuple[int, int], schedule: list[dict] = ()) -> TableSpec:
    """The workshop's Exercise 1 table: requestid key, GSI host + requestid projecting bytessent."""
    return TableSpec.model_validate(
        {
            "capacity_schedule": list(schedule),
            "name": name,
            "attributes": {"requestid": "N", "host": "S"},
            "key": {"hash": "requestid"},
            "billing_mode": "PROVISIONED",
            "capacity": {"read": table_units[0], "write": table_units[1]},
            "gsis": [
                {
                    "name": GSI,
                    "key": {"hash": "host", "range": "requestid"},
                    "projection": {"type": "INCLUDE", "non_key_attributes": ["bytessent"]},
                    "capacity": {"read": gsi_units[0], "write": gsi_units[1]},
                }
            ],
        }
    )


class StopLoad(Exception):
    """Raised into the loader once the test has seen enough."""


class RecordingClient:
    """Passes BatchWriteItem through and records when how many items were accepted; stops the load at a deadline."""

    def __init__(self, client, deadline: float):
        self.client = client
        self.deadline = deadline
        self.accepted: list[tuple[float, int]] = []

    def batch_write_item(self, **kwargs):
        if time.monotonic() > self.deadline:
            raise StopLoad()
        sent = sum(len(requests) for requests in kwargs["RequestItems"].values())
        try:
            response = self.client.batch_write_item(**kwargs)
        except ClientError:
            self.accepted.append((time.monotonic(), 0))
            raise
        unprocessed = sum(len(requests) for requests in response.get("UnprocessedItems", {}).values())
        self.accepted.append((time.monotonic(), sent - unprocessed))
        return response


def sustained_rate(accepted: list[tuple[float, int]], after: float) -> tuple[float, float, int]:
    """Items per second between the first and the last accepting call after `after` (each call drains the bucket)."""
    calls = [(moment, count) for moment, count in accepted if moment >= after and count > 0]
    first, last = calls[0][0], calls[-1][0]
    items = sum(count for moment, count in calls[1:])
    return items / (last - first), last - first, items


def test_a_5_wcu_table_loads_fast_until_its_burst_is_spent_then_at_5_items_per_second(start_gate_at, table_name):
    """Workshop Exercise 1, step 3, with a 20 s burst window (100 WCU) so both phases show within ~35 s."""
    gate = start_gate_at(burst_seconds=20)
    client = client_to(gate.endpoint)
    tables.ensure_table(client, tlog_spec(table_name, (5, 5), (5, 5)))
    started = time.monotonic()
    recorder = RecordingClient(client, deadline=started + OBSERVE_SECONDS)
    with pytest.raises(StopLoad):
        load_items(recorder, table_name, logfile.generate_items(2000, seed=1), total=2000, workers=4, progress=False)

    total, burst_done = 0, None
    for moment, count in recorder.accepted:
        total += count
        if total >= 100 and burst_done is None:
            burst_done = moment - started
    assert burst_done is not None and burst_done < 10, f"the 100-WCU burst took {burst_done} s: no fast phase"
    rate, window, items = sustained_rate(recorder.accepted, started + burst_done + SETTLE_SECONDS)
    print(f"burst of 100 items in {burst_done:.2f} s; then {items} items in {window:.1f} s = {rate:.3f} items/s")
    assert window >= 20, f"sustained window only {window:.1f} s"
    assert rate == pytest.approx(SUSTAINED_WRITES_PER_SECOND, rel=0.10)
    reasons = {entry["reason"] for entry in gate_stats(gate)["reasons"]}
    assert reasons and reasons <= {"TableWriteProvisionedThroughputExceeded", "IndexWriteProvisionedThroughputExceeded"}


def test_a_1_wcu_gsi_throttles_the_writes_of_a_1000_wcu_table(start_gate_at, table_name):
    """Workshop Exercise 1, step 7: the GSI's reason, on the GSI's ARN, while the table's capacity is unused."""
    gate = start_gate_at(burst_seconds=5)
    client = client_to(gate.endpoint, max_attempts=1)
    tables.ensure_table(client, tlog_spec(table_name, (1000, 1000), (1, 1)))
    index_arn = client.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"][0]["IndexArn"]
    written, throttles = 0, []
    for item in logfile.generate_items(40, seed=2):
        try:
            client.put_item(TableName=table_name, Item=item)
            written += 1
        except ClientError as exc:
            throttles.append(exc)
    assert 5 <= written < 40 and throttles
    for exc in throttles:
        assert exc.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert exc.response["Error"]["Message"] == INDEX_MESSAGE
        assert exc.response["ThrottlingReasons"] == [{"reason": "IndexWriteProvisionedThroughputExceeded", "resource": index_arn}]
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert isinstance(classify(exc), ThrottledError)
    stats = gate_stats(gate)
    consumed = {(entry["table"], entry["index"], entry["op"]): entry["units"] for entry in stats["consumed"]}
    assert consumed[(table_name, None, "Write")] == written  # one WCU per admitted item, nothing for throttled ones
    table_level = next(entry["write_level"] for entry in stats["resources"] if entry["table"] == table_name and entry["index"] is None)
    assert table_level >= 1000 * 5 - written  # the table's own bucket is all but full
    assert {entry["reason"] for entry in stats["reasons"] if table_name in entry["resource"]} == {"IndexWriteProvisionedThroughputExceeded"}


def test_boto3_retries_a_throttle_as_it_would_against_aws(start_gate_at, table_name):
    gate = start_gate_at(burst_seconds=1)
    client = client_to(gate.endpoint, max_attempts=3)
    tables.ensure_table(client, tlog_spec(table_name, (1, 1), (1000, 1000)))
    padding = {"pad": {"S": "x" * 10 * 1024}}  # 11 WCU: the 1-WCU table then owes 10 s of capacity
    client.put_item(TableName=table_name, Item={"requestid": {"N": "1"}, **padding})
    with pytest.raises(ClientError) as caught:
        client.put_item(TableName=table_name, Item={"requestid": {"N": "2"}})
    assert caught.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2  # botocore's standard mode retried twice (< 3 s)


def test_update_table_capacity_takes_effect_at_once(start_gate_at, table_name):
    gate = start_gate_at(burst_seconds=1)
    client = client_to(gate.endpoint, max_attempts=1)
    tables.ensure_table(client, tlog_spec(table_name, (1, 1), (1000, 1000)))
    client.put_item(TableName=table_name, Item={"requestid": {"N": "1"}, "pad": {"S": "x" * 3000}})  # 3 WCU: the bucket is at -2
    with pytest.raises(ClientError) as caught:
        client.put_item(TableName=table_name, Item={"requestid": {"N": "2"}})
    assert caught.value.response["ThrottlingReasons"][0]["reason"] == "TableWriteProvisionedThroughputExceeded"
    client.update_table(TableName=table_name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1000})
    time.sleep(0.05)  # at 1000 WCU the 2-unit debt is repaid in 2 ms
    for n in range(3, 50):
        client.put_item(TableName=table_name, Item={"requestid": {"N": str(n)}})


def test_a_hot_partition_key_is_throttled_item_by_item_in_a_batch(start_gate_at, endpoint, table_name):
    gate = start_gate_at(burst_seconds=300)
    client = client_to(gate.endpoint)
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    big = "x" * 200 * 1024  # 200 WCU per item: 5 fill the key's 1,000 WCU/s
    requests = [{"PutRequest": {"Item": {"pk": {"S": "hot"}, "sk": {"N": str(n)}, "pad": {"S": big}}}} for n in range(10)]
    response = client.batch_write_item(RequestItems={table_name: requests}, ReturnConsumedCapacity="INDEXES")
    unprocessed = response["UnprocessedItems"][table_name]
    assert len(unprocessed) == 5 and unprocessed == requests[5:]
    assert response["ConsumedCapacity"][0]["Table"]["CapacityUnits"] == 5 * 201  # Local's exact charge for the 5 written
    assert client_to(endpoint).scan(TableName=table_name, Select="COUNT")["Count"] == 5
    reasons = {(entry["reason"], entry["count"]) for entry in gate_stats(gate)["reasons"] if entry["resource"].endswith(table_name)}
    assert reasons == {("TableWriteKeyRangeThroughputExceeded", 5)}


def test_consumed_capacity_reaches_the_client_as_it_asked(start_gate_at, endpoint, table_name):
    gate = start_gate_at(burst_seconds=300)
    through, direct = client_to(gate.endpoint), client_to(endpoint)
    tables.ensure_table(through, tlog_spec(table_name, (100, 100), (100, 100)))
    item = {"requestid": {"N": "1"}, "host": {"S": "h"}, "bytessent": {"N": "10"}}
    assert "ConsumedCapacity" not in through.put_item(TableName=table_name, Item=item)
    total = through.put_item(TableName=table_name, Item={**item, "requestid": {"N": "2"}}, ReturnConsumedCapacity="TOTAL")
    assert total["ConsumedCapacity"] == {"TableName": table_name, "CapacityUnits": 2.0}
    indexes = through.get_item(TableName=table_name, Key={"requestid": {"N": "1"}}, ReturnConsumedCapacity="INDEXES")
    assert indexes["ConsumedCapacity"] == direct.get_item(TableName=table_name, Key={"requestid": {"N": "1"}}, ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert indexes["Item"] == item
    assert table_name in through.list_tables()["TableNames"]  # operations the gate does not meter pass through
    listed = through.execute_statement(Statement=f'SELECT * FROM "{table_name}" WHERE requestid = ?', Parameters=[{"N": "2"}])
    assert listed["Items"] == [{**item, "requestid": {"N": "2"}}]


def test_a_capacity_schedule_raises_capacity_with_update_table(client, table_name):
    spec = tlog_spec(table_name, (5, 5), (5, 5), schedule=[{"after": 1, "read": 100, "write": 100, "gsis": {GSI: {"read": 7, "write": 9}}}])
    tables.ensure_table(client, spec)
    schedule = CapacitySchedule(client, spec).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not schedule.applied:
            time.sleep(0.1)
    finally:
        schedule.stop()
    described = client.describe_table(TableName=table_name)["Table"]
    assert described["ProvisionedThroughput"]["WriteCapacityUnits"] == 100
    assert described["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] == 9


def test_capacity_emulation_is_on_by_default_for_provisioned_tables_only(tmp_path):
    data = scenario_data("roundtrip.yaml")  # PAY_PER_REQUEST only
    assert not capacity_emulated(load_scenario(write_scenario(tmp_path, data, "a.yaml")))
    data["target"] = {"kind": "local", "capacity": "emulate"}
    assert capacity_emulated(load_scenario(write_scenario(tmp_path, data, "b.yaml")))
    provisioned = scenario_data("workshop_ex1_gsi_low.yaml")
    provisioned["target"] = {"kind": "local"}
    assert capacity_emulated(load_scenario(write_scenario(tmp_path, provisioned, "c.yaml")))
    provisioned["target"] = {"kind": "local", "capacity": "none"}
    assert not capacity_emulated(load_scenario(write_scenario(tmp_path, provisioned, "d.yaml")))


def test_the_embedded_target_starts_the_gate_and_stops_it_with_the_server(tmp_path):
    data = scenario_data("workshop_ex1_gsi_low.yaml")
    data["target"]["burst_seconds"] = 7
    scenario = load_scenario(write_scenario(tmp_path, data))
    target = open_target(scenario, log_dir=tmp_path)
    try:
        assert target.gate is not None and target.connection.endpoint_url == target.gate.endpoint
        # Locust processes (standalone or workers) lease tokens from it and go straight to DynamoDB Local
        assert runner.endpoint_args(target) == ["--endpoint-url", target.gate.endpoint, "--capacity-gate"]
        assert gate_stats(target.gate)["burst_seconds"] == 7
        assert "TableNames" in client_to(target.connection.endpoint_url).list_tables()
    finally:
        target.close()
    assert target.gate.process.poll() is not None and target.server.process.poll() is not None
    assert (tmp_path / "capacity-gate.log").exists()


def test_the_gate_replaces_kept_alive_connections_the_server_dropped():
    """DynamoDB Local may close idle connections: the next request through each one is sent again on a new one."""
    import gevent
    from gevent.server import StreamServer

    from harness.gate.buckets import CapacityModel
    from harness.gate.proxy import Gate, Stream, Upstream, listen, parse_head, read_body

    answer = b'{"TableNames":[]}'

    def answer_once_then_hang_up(sock, address):
        stream = Stream(sock)
        _, headers = parse_head(stream.head())
        read_body(stream, headers, until_close=False)
        gevent.sleep(0.05)  # both requests in flight at once: two connections end up idle
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)
        sock.close()  # without `Connection: close`: the gate learns it when it reuses the connection

    server = StreamServer(listen(0), answer_once_then_hang_up)
    server.start()
    try:
        gate = Gate(Upstream(f"http://127.0.0.1:{server.server_port}"), CapacityModel())
        request = ({b"x-amz-target": b"DynamoDB_20120810.ListTables"}, b"{}")
        first = [gevent.spawn(gate.handle, *request) for _ in range(2)]
        gevent.joinall(first, raise_error=True)
        assert len(gate.upstream.idle) == 2
        for _ in range(3):
            status, _, body = gate.handle(*request)
            assert (status, body) == (200, answer)
    finally:
        server.stop()


def test_two_workers_leasing_tokens_write_at_the_provisioned_rate_between_them(endpoint, client, start_gate_at, table_name, tmp_path):
    """`ddb-harness run --workers 2 --capacity-gate` on a 5-WCU table (5 units of burst): the workers decide
    their own requests with leased tokens, and together write what the table allows, within 10%."""
    gate = start_gate_at(burst_seconds=1)
    run_seconds = 20
    path = insert_orders_scenario(tmp_path, table_name, 1, write_units=5, run_time=f"{run_seconds}s", max_attempts=1, wait=0.01, stop_timeout="10s")
    command = [sys.executable, "-m", "harness.cli"]
    setup = subprocess.run(command + ["setup", str(path), "--endpoint-url", endpoint], capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr[-3000:]
    results = tmp_path / "results"
    done = subprocess.run(
        command + ["run", str(path), "--endpoint-url", gate.endpoint, "--capacity-gate", "--workers", "2", "--results-dir", str(results)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]  # throttled inserts fail (no retries)
    row = next(row for row in read_rows(run_dir_of(results) / "locust_stats.csv") if row["Type"] == "ExecuteStatement")
    successes = int(row["Request Count"]) - int(row["Failure Count"])
    assert int(row["Failure Count"]) > 10 * successes  # the users asked far more than the table takes
    allowed = 5 + 5 * run_seconds  # the burst, then 5 WCU (every order is under 1 KB: 1 WCU)
    print(f"{successes} inserts in {run_seconds} s, {allowed} allowed")
    assert successes == pytest.approx(allowed, rel=0.10)
    assert tables.item_count(client, table_name) == 1 + successes
    reasons = {entry["reason"] for entry in gate_stats(gate)["reasons"]}
    assert reasons == {"TableWriteProvisionedThroughputExceeded"}
