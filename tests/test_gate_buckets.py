"""The capacity gate's model (harness.gate.buckets, items, plans, wire) with an injected clock: no server, no sleeping."""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.gate import plans, wire
from harness.gate.buckets import KEY_SWEEP_SECONDS, READ, WRITE, CapacityModel, Demand, Limits, TableLimits, Throttle
from harness.gate.catalog import table_info
from harness.wire import items

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/"


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def provisioned(name: str, read: float, write: float, gsis: dict[str, tuple[float, float]] | None = None) -> TableLimits:
    indexes = tuple(Limits(index, f"{ARN}{name}/index/{index}", read=r, write=w) for index, (r, w) in (gsis or {}).items())
    return TableLimits(Limits(name, ARN + name, read=read, write=write), indexes)


def on_demand(name: str, max_read: float | None = None, max_write: float | None = None) -> TableLimits:
    return TableLimits(Limits(name, ARN + name, max_read=max_read, max_write=max_write))


def model_with(*tables: TableLimits, clock: FakeClock | None = None, **options) -> tuple[CapacityModel, FakeClock]:
    clock = clock or FakeClock()
    model = CapacityModel(clock=clock, **options)
    for table in tables:
        model.configure(table)
    return model, clock


def write(table: str, units: float = 1.0, key: str | None = None, index: str | None = None) -> Demand:
    return Demand(table, index, WRITE, units, key)


def admitted_count(model: CapacityModel, demands: list[Demand], attempts: int) -> int:
    return sum(1 for _ in range(attempts) if not model.admit(demands))


# ---- provisioned capacity and burst --------------------------------------------------------


def test_a_new_table_starts_with_300_seconds_of_burst_then_refuses():
    model, _ = model_with(provisioned("tlog", 5, 5))
    assert admitted_count(model, [write("tlog")], 2000) == 1500  # 5 WCU x 300 s, then empty
    refused = model.admit([write("tlog")])
    assert refused == [Throttle("TableWriteProvisionedThroughputExceeded", ARN + "tlog")]


def test_the_sustained_rate_is_the_provisioned_rate():
    model, clock = model_with(provisioned("tlog", 5, 5), burst_seconds=2)
    admitted_count(model, [write("tlog")], 100)  # spend the burst
    admitted = 0
    for _ in range(10_000):  # a request every 10 ms for 100 s
        clock.advance(0.01)
        admitted += not model.admit([write("tlog")])
    assert admitted == pytest.approx(500, abs=1)


def test_unused_capacity_accumulates_up_to_the_burst_window_only():
    model, clock = model_with(provisioned("tlog", 5, 5), burst_seconds=300)
    admitted_count(model, [write("tlog")], 2000)
    clock.advance(100)
    assert admitted_count(model, [write("tlog")], 2000) == 500
    clock.advance(10_000)  # far longer than 300 s: still only 300 s worth
    assert admitted_count(model, [write("tlog")], 5000) == 1500


def test_a_shortened_burst_window_holds_that_many_seconds():
    model, _ = model_with(provisioned("tlog", 5, 5), burst_seconds=2)
    assert admitted_count(model, [write("tlog")], 100) == 10


def test_cost_is_charged_after_the_fact_and_the_debt_refuses_until_refilled():
    model, clock = model_with(provisioned("tlog", 5, 5), burst_seconds=1)
    assert model.admit([write("tlog", units=25)]) == []  # 5 tokens were there: admitted, bucket at -20
    clock.advance(4.0)
    assert model.admit([write("tlog")])  # -20 + 20 = 0: still empty
    clock.advance(0.01)
    assert model.admit([write("tlog")]) == []


def test_a_refund_gives_capacity_back():
    model, _ = model_with(provisioned("tlog", 5, 5), burst_seconds=1)
    model.admit([write("tlog", units=5)])
    assert model.admit([write("tlog")])
    model.charge("tlog", None, WRITE, -5)
    assert model.admit([write("tlog")]) == []


def test_reads_and_writes_have_their_own_buckets():
    model, _ = model_with(provisioned("tlog", 5, 5), burst_seconds=1)
    model.admit([write("tlog", units=5)])
    assert model.admit([write("tlog")])
    assert model.admit([Demand("tlog", None, READ, 0.5)]) == []


def test_update_table_changes_the_rate_and_keeps_the_tokens():
    model, clock = model_with(provisioned("tlog", 5, 5), burst_seconds=300)
    admitted_count(model, [write("tlog")], 2000)
    model.configure(provisioned("tlog", 100, 100))
    assert model.admit([write("tlog")])  # the burst stays spent
    clock.advance(1.0)
    assert admitted_count(model, [write("tlog")], 1000) == 100


def test_unknown_tables_are_never_throttled():
    model, _ = model_with()
    assert admitted_count(model, [write("other", units=10_000)], 100) == 100


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=300),
    units=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=300),
)
def test_admitted_units_never_exceed_burst_plus_rate_times_time(gaps, units):
    """The token bucket's guarantee, whatever the arrivals: what went in <= burst + rate * t + one request."""
    model, clock = model_with(provisioned("tlog", 5, 5), burst_seconds=2)
    started, admitted = clock.now, 0.0
    for gap, cost in zip(gaps, units, strict=False):
        clock.advance(gap)
        if not model.admit([write("tlog", units=cost)]):
            admitted += cost
    assert admitted <= 10 + 5 * (clock.now - started) + max(units)


# ---- GSIs ------------------------------------------------------------------------------------


def test_a_gsi_out_of_write_capacity_throttles_the_table_write():
    model, clock = model_with(provisioned("tlog_gsi_low", 1000, 1000, {"host-gsi": (1, 1)}), burst_seconds=300)
    put = [write("tlog_gsi_low"), write("tlog_gsi_low", index="host-gsi")]
    assert admitted_count(model, put, 1000) == 300  # the GSI's burst, not the table's 300,000
    refused = model.admit(put)
    assert refused == [Throttle("IndexWriteProvisionedThroughputExceeded", ARN + "tlog_gsi_low/index/host-gsi")]
    assert model.level("tlog_gsi_low", None, WRITE) == 300_000 - 300  # the table's capacity is unused
    clock.advance(10)
    assert admitted_count(model, put, 1000) == 10  # then 1 write/s, the GSI's rate


def test_a_write_that_does_not_reach_the_gsi_is_not_held_back():
    model, _ = model_with(provisioned("tlog_gsi_low", 1000, 1000, {"host-gsi": (1, 1)}), burst_seconds=1)
    model.admit([write("tlog_gsi_low"), write("tlog_gsi_low", index="host-gsi", units=5)])
    assert model.admit([write("tlog_gsi_low", index="host-gsi")])
    assert model.admit([write("tlog_gsi_low")]) == []  # an item without the GSI's key attributes


def test_update_table_can_drop_a_gsi():
    model, _ = model_with(provisioned("t01", 5, 5, {"g1": (1, 1)}), burst_seconds=1)
    model.configure(provisioned("t01", 5, 5))
    assert model.limits("t01", "g1") is None
    assert model.admit([write("t01", index="g1", units=100)]) == []


# ---- partitions ------------------------------------------------------------------------------


def test_a_hot_partition_key_throttles_at_1000_wcu_while_other_keys_go_on():
    model, clock = model_with(provisioned("orders", 40_000, 40_000))
    assert admitted_count(model, [write("orders", key="S:hot")], 5000) == 1000
    assert model.admit([write("orders", key="S:hot")]) == [Throttle("TableWriteKeyRangeThroughputExceeded", ARN + "orders")]
    assert model.admit([write("orders", key="S:cold")]) == []
    clock.advance(0.5)
    assert admitted_count(model, [write("orders", key="S:hot")], 5000) == 500


def test_a_hot_partition_key_throttles_reads_at_3000_rcu():
    model, _ = model_with(on_demand("orders"))
    read = [Demand("orders", None, READ, 1.0, "S:hot")]
    assert admitted_count(model, read, 10_000) == 3000
    assert model.admit(read) == [Throttle("TableReadKeyRangeThroughputExceeded", ARN + "orders")]


def test_a_hot_gsi_partition_key_throttles_with_the_index_reason():
    model, _ = model_with(provisioned("tlog", 40_000, 40_000, {"by-shard": (40_000, 40_000)}))
    put = [write("tlog", key="N:1"), write("tlog", index="by-shard", key="S:shard#1")]
    admitted = 0
    for n in range(2000):
        admitted += not model.admit([write("tlog", key=f"N:{n}"), write("tlog", index="by-shard", key="S:shard#1")])
    assert admitted == 1000
    assert model.admit(put) == [Throttle("IndexWriteKeyRangeThroughputExceeded", ARN + "tlog/index/by-shard")]


def test_idle_partition_buckets_are_swept(monkeypatch):
    from harness.gate import buckets

    monkeypatch.setattr(buckets, "KEY_BUCKETS_BEFORE_SWEEP", 100)
    model, clock = model_with(on_demand("orders"))
    for n in range(100):
        model.admit([write("orders", key=f"S:{n}")])
    clock.advance(2)
    model.admit([write("orders", key="S:new")])
    assert len(model._keys) == 1


def test_idle_partition_buckets_are_swept_a_minute_apart_however_few():
    model, clock = model_with(on_demand("orders"))
    for n in range(10):
        model.admit([write("orders", key=f"S:{n}")])
    clock.advance(2)
    model.admit([write("orders", key="S:early")])
    assert len(model._keys) == 11  # refilled, but not a minute since the last sweep
    clock.advance(KEY_SWEEP_SECONDS)
    model.admit([write("orders", key="S:late")])
    assert len(model._keys) == 1


# ---- on-demand -------------------------------------------------------------------------------


def spread_writes(model: CapacityModel, table: str, count: int, start: int = 0) -> int:
    """Writes of 1 WRU to distinct keys (no partition limit in the way): how many were admitted."""
    return sum(1 for n in range(start, start + count) if not model.admit([write(table, key=f"S:{n}")]))


def test_a_new_on_demand_table_takes_4000_writes_and_12000_reads_per_second():
    model, clock = model_with(on_demand("events"))
    assert spread_writes(model, "events", 10_000) == 4000
    refused = model.admit([write("events", key="S:x")])
    assert refused[0].reason == "TableWriteKeyRangeThroughputExceeded"
    reads = sum(1 for n in range(20_000) if not model.admit([Demand("events", None, READ, 1.0, f"S:{n}")]))
    assert reads == 12_000
    clock.advance(1.0)
    assert spread_writes(model, "events", 10_000, start=10_000) == 4000


def test_on_demand_doubles_the_previous_peak_once_it_is_30_minutes_old():
    model, clock = model_with(on_demand("events"), ramp_seconds=1800)
    for second in range(3):
        clock.now = 2000.0 + second
        assert spread_writes(model, "events", 10_000, start=second * 10_000) == 4000
    clock.now = 2000.0 + 1799
    assert spread_writes(model, "events", 10_000, start=100_000) == 4000  # the new peak is not 30 minutes old yet
    clock.now = 2000.0 + 1805
    spread_writes(model, "events", 20_000, start=200_000)  # the allowance rises to double the 4,000 peak...
    clock.advance(1.0)
    assert spread_writes(model, "events", 20_000, start=300_000) == 8000  # ...and a second later the bucket holds it


def test_on_demand_maximum_throughput_refuses_with_its_own_reason():
    model, _ = model_with(on_demand("events", max_write=50))
    assert spread_writes(model, "events", 100) == 50
    assert model.admit([write("events", key="S:z")]) == [Throttle("TableWriteMaxOnDemandThroughputExceeded", ARN + "events")]


# ---- item sizes and units --------------------------------------------------------------------


def test_item_size_follows_dynamodbs_rules():
    assert items.value_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert items.value_size({"N": "123.45"}) == 4  # 5 significant digits -> 3 bytes, +1
    assert items.value_size({"N": "-0.00100"}) == 2
    assert items.value_size({"B": "AAECAw=="}) == 4
    assert items.value_size({"BOOL": True}) == 1 and items.value_size({"NULL": True}) == 1
    assert items.value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert items.value_size({"M": {"k": {"S": "ab"}}}) == 3 + 1 + 1 + 2
    assert items.item_size({"pk": {"S": "a" * 1000}, "n": {"N": "1"}}) == 2 + 1000 + 1 + 2


def test_writes_are_charged_by_1kb_and_reads_by_4kb_eventual_half():
    assert items.write_units(1) == 1 and items.write_units(1024) == 1 and items.write_units(1025) == 2
    assert items.read_units(4096, consistent=True) == 1 and items.read_units(4097, consistent=True) == 2
    assert items.read_units(4097) == 1.0 and items.read_units(100) == 0.5


def test_partition_keys_compare_as_dynamodb_compares_them():
    assert items.key_of({"N": "1"}) == items.key_of({"N": "1.00"}) == items.key_of({"N": "1e0"})
    assert items.key_of({"S": "1"}) != items.key_of({"N": "1"})


# ---- plans -----------------------------------------------------------------------------------

TLOG = table_info(
    {
        "TableName": "tlog",
        "TableArn": ARN + "tlog",
        "KeySchema": [{"AttributeName": "requestid", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "host-gsi",
                "KeySchema": [{"AttributeName": "host", "KeyType": "HASH"}, {"AttributeName": "requestid", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["bytessent"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
    }
)


def log_item(n: int, padding: int = 0) -> dict:
    return {"requestid": {"N": str(n)}, "host": {"S": "h1"}, "bytessent": {"N": "10"}, "url": {"S": "x" * padding}}


def test_put_item_needs_the_table_and_each_gsi_it_reaches():
    plan = plans.plan_for("PutItem", {"TableName": "tlog", "Item": log_item(1, padding=2500)}, {"tlog": TLOG})
    demands = plan.parts[0].demands
    assert [(d.index, d.units, d.key) for d in demands] == [(None, 3.0, "N:1"), ("host-gsi", 1.0, "S:h1")]  # the GSI projects ~30 bytes
    sparse = plans.plan_for("PutItem", {"TableName": "tlog", "Item": {"requestid": {"N": "2"}}}, {"tlog": TLOG})
    assert [d.index for d in sparse.parts[0].demands] == [None]


def test_transactions_reserve_double():
    plan = plans.plan_for("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "tlog", "Item": log_item(1)}}]}, {"tlog": TLOG})
    assert [d.units for d in plan.parts[0].demands] == [2.0, 2.0]


def test_partiql_insert_is_costed_from_its_item():
    request = {"Statement": "INSERT INTO \"tlog\" VALUE {'requestid': ?, 'host': ?, 'url': ?}", "Parameters": [{"N": "7"}, {"S": "h"}, {"S": "y" * 3000}]}
    plan = plans.plan_for("ExecuteStatement", request, {"tlog": TLOG})
    assert [(d.index, d.units, d.key) for d in plan.parts[0].demands] == [(None, 3.0, "N:7"), ("host-gsi", 1.0, "S:h")]


def test_a_query_on_a_gsi_reads_the_gsi_and_its_partition():
    request = {"TableName": "tlog", "IndexName": "host-gsi", "KeyConditionExpression": "#h = :h", "ExpressionAttributeNames": {"#h": "host"}, "ExpressionAttributeValues": {":h": {"S": "h1"}}}
    demand = plans.plan_for("Query", request, {"tlog": TLOG}).parts[0].demands[0]
    assert (demand.index, demand.op, demand.key, demand.units) == ("host-gsi", READ, "S:h1", 0.5)


def test_a_batch_write_is_admitted_item_by_item_and_the_rest_handed_back():
    model, _ = model_with(provisioned("tlog", 5, 5, {"host-gsi": (100, 100)}), burst_seconds=2)  # the table holds 10 WCU
    request = {"RequestItems": {"tlog": [{"PutRequest": {"Item": log_item(n)}} for n in range(25)]}, "ReturnConsumedCapacity": "TOTAL"}
    plan = plans.plan_for("BatchWriteItem", request, {"tlog": TLOG})
    verdicts = [(part, model.admit(part.demands)) for part in plan.parts]
    admitted = [part for part, throttles in verdicts if not throttles]
    refused = [(part, throttles) for part, throttles in verdicts if throttles]
    assert len(admitted) == 10
    assert {throttle.reason for _, throttles in refused for throttle in throttles} == {"TableWriteProvisionedThroughputExceeded"}
    forwarded = plan.restrict(request, admitted)
    assert forwarded["RequestItems"]["tlog"] == request["RequestItems"]["tlog"][:10]
    assert forwarded["ReturnConsumedCapacity"] == "TOTAL"
    answer = plan.merge({"UnprocessedItems": {}}, refused, request)
    assert answer["UnprocessedItems"]["tlog"] == request["RequestItems"]["tlog"][10:]


def test_a_batch_get_hands_back_refused_keys_with_their_table_options():
    model, _ = model_with(provisioned("tlog", 1, 5), burst_seconds=1)
    request = {"RequestItems": {"tlog": {"Keys": [{"requestid": {"N": str(n)}} for n in range(4)], "ConsistentRead": True}}}
    plan = plans.plan_for("BatchGetItem", request, {"tlog": TLOG})
    verdicts = [(part, model.admit(part.demands)) for part in plan.parts]
    admitted = [part for part, throttles in verdicts if not throttles]
    refused = [(part, throttles) for part, throttles in verdicts if throttles]
    assert len(admitted) == 1
    assert plan.restrict(request, admitted)["RequestItems"]["tlog"] == {"Keys": [{"requestid": {"N": "0"}}], "ConsistentRead": True}
    unprocessed = plan.merge({}, refused, request)["UnprocessedKeys"]["tlog"]
    assert unprocessed == {"Keys": [{"requestid": {"N": str(n)}} for n in range(1, 4)], "ConsistentRead": True}


def test_a_throttled_statement_of_a_batch_gets_an_error_entry_in_its_place():
    request = {"Statements": [{"Statement": "INSERT INTO \"tlog\" VALUE {'requestid': ?}", "Parameters": [{"N": str(n)}]} for n in range(3)]}
    plan = plans.plan_for("BatchExecuteStatement", request, {"tlog": TLOG})
    throttles = [Throttle("TableWriteProvisionedThroughputExceeded", ARN + "tlog")]
    answer = plan.merge({"Responses": [{"TableName": "tlog"}, {"TableName": "tlog"}]}, [(plan.parts[1], throttles)], request)
    assert answer["Responses"][0] == {"TableName": "tlog"} and answer["Responses"][2] == {"TableName": "tlog"}
    assert answer["Responses"][1]["Error"]["Code"] == "ProvisionedThroughputExceeded"


def test_settle_charges_the_difference_with_what_dynamodb_reported():
    model, _ = model_with(provisioned("tlog", 5, 5, {"host-gsi": (1, 1)}), burst_seconds=10)
    plan = plans.plan_for("PutItem", {"TableName": "tlog", "Item": log_item(1)}, {"tlog": TLOG})
    assert model.admit(plan.parts[0].demands) == []
    consumed = {"TableName": "tlog", "CapacityUnits": 5.0, "Table": {"CapacityUnits": 4.0}, "GlobalSecondaryIndexes": {"host-gsi": {"CapacityUnits": 1.0}}}
    actual = plans.settle(model, plan, plan.parts, plans.consumed_units(consumed, {"tlog": TLOG}))
    assert actual == {("tlog", None): 4.0, ("tlog", "host-gsi"): 1.0}
    assert model.level("tlog", None, WRITE) == 50 - 4
    assert model.level("tlog", "host-gsi", WRITE) == 10 - 1


# ---- wire ------------------------------------------------------------------------------------


def test_a_throttle_body_is_what_aws_sends():
    throttles = [Throttle("IndexWriteProvisionedThroughputExceeded", ARN + "t/index/g"), Throttle("TableWriteProvisionedThroughputExceeded", ARN + "t")]
    body = json.loads(wire.throttle_body(throttles))
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    assert body["message"].startswith("The level of configured provisioned throughput for one or more global secondary indexes")
    assert body["ThrottlingReasons"][0] == {"reason": "IndexWriteProvisionedThroughputExceeded", "resource": ARN + "t/index/g"}
    headers = dict(wire.response_headers(wire.throttle_body(throttles)))
    assert headers["x-amz-crc32"] == str(zlib.crc32(wire.throttle_body(throttles)))


def test_quota_throttles_are_throttling_exceptions():
    body = json.loads(wire.throttle_body([Throttle("TableWriteMaxOnDemandThroughputExceeded", ARN + "t")]))
    assert body["__type"].endswith("#ThrottlingException")
    assert body["throttlingReasons"] == [{"reason": "TableWriteMaxOnDemandThroughputExceeded", "resource": ARN + "t"}]


def test_consumed_capacity_is_found_without_being_fooled_by_an_attribute_of_that_name():
    answer = {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 2.0}, "Items": [{"ConsumedCapacity": {"S": "x"}}], "Count": 1}
    assert wire.find_consumed(json.dumps(answer).encode()) == {"TableName": "t", "CapacityUnits": 2.0}
    assert wire.find_consumed(b'{"Items":[]}') is None


def test_consumed_capacity_is_shaped_to_what_the_client_asked():
    indexes = [{"TableName": "t", "CapacityUnits": 3.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"g": {"CapacityUnits": 1.0}}}]
    assert wire.shape_consumed(indexes, "TOTAL") == [{"TableName": "t", "CapacityUnits": 3.0}]
    assert wire.shape_consumed(indexes, "NONE") is None
    assert wire.shape_consumed(indexes, "INDEXES") == indexes
