"""Token leases (harness.gate.leases) with an injected clock: several processes' LeasedModels against one gate's buckets.

Each exchange goes through JSON both ways, as over HTTP; no server, no sleeping.
"""

from __future__ import annotations

import json

import pytest
from test_gate_buckets import FakeClock

from harness.gate.buckets import WRITE, CapacityModel, Demand
from harness.gate.catalog import table_info
from harness.gate.leases import FLUSH_SECONDS, LEASE_SECONDS, LeaseDesk, LeasedModel
from harness.gate.proxy import Gate, Stats, Upstream

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/"
GSI = "by-host"


def description(name: str, write: float, gsi_write: float | None = None) -> dict:
    table = {
        "TableName": name,
        "TableArn": ARN + name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": write},
    }
    if gsi_write is not None:
        table["GlobalSecondaryIndexes"] = [
            {
                "IndexName": GSI,
                "KeySchema": [{"AttributeName": "host", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": gsi_write},
            }
        ]
    return table


class Shared:
    """One gate (its Gate and model, never forwarding anything) and the processes leasing from it."""

    def __init__(self, *tables: dict, burst_seconds: float = 300.0):
        self.clock = FakeClock()
        self.gate = Gate(Upstream("http://127.0.0.1:9"), CapacityModel(clock=self.clock, burst_seconds=burst_seconds))
        for table in tables:
            self.gate.learn(table)
        self.gate.ensure = lambda name, headers: None  # tables are learned above; unknown ones stay unknown
        self.desk = LeaseDesk(self.gate, {})
        self.tables = tables
        self.exchanges = 0
        self.unreachable = False
        self.answers_lost = 0

    def send(self, message: dict) -> dict:
        if self.unreachable:
            raise ConnectionError("gate unreachable")
        self.exchanges += 1
        answer = json.loads(json.dumps(self.desk.exchange(json.loads(json.dumps(message)))))
        if self.answers_lost:
            self.answers_lost -= 1
            raise ConnectionError("connection lost before the answer")
        return answer

    def process(self) -> LeasedModel:
        model = LeasedModel(self.send, clock=self.clock)
        model.stats = Stats()
        for table in self.tables:
            model.configure(table_info(table).table_limits())
        return model

    def level(self, table: str, index: str | None = None) -> float:
        return self.gate.model.level(table, index, WRITE)


def write(table: str, key: str, units: float = 1.0, gsi: bool = False) -> list[Demand]:
    demands = [Demand(table, None, WRITE, units, key)]
    if gsi:
        demands.append(Demand(table, GSI, WRITE, units, "host-" + key))
    return demands


def test_two_processes_on_one_5_wcu_table_get_its_burst_then_5_writes_per_second_between_them():
    shared = Shared(description("tlog", 5), burst_seconds=20)  # 100 units of burst
    processes = [shared.process(), shared.process()]
    admitted = {0: 0, 1: 0}
    sustained = 0
    step, seconds = 0.01, 60.0
    for tick in range(int(seconds / step)):
        turns = list(enumerate(processes))
        for number, process in turns if tick % 2 else reversed(turns):  # each tries one write every 10 ms, taking turns to go first
            if not process.admit(write("tlog", f"{number}-{tick}")):
                admitted[number] += 1
                sustained += tick * step >= 30
        if tick % int(FLUSH_SECONDS / step) == 0:
            for process in processes:
                process.flush()
        shared.clock.advance(step)
    for process in processes:
        process.close()
    total = sum(admitted.values())
    assert total == pytest.approx(100 + 5 * seconds, abs=2)  # at most one write too many per process
    assert sustained == pytest.approx(5 * 30, abs=2)
    assert min(admitted.values()) > 0.3 * total  # both processes got their share
    assert shared.level("tlog") <= 1.0  # every admitted write was charged to the shared bucket


def test_a_refusal_carries_the_gates_reason_and_a_1_wcu_gsi_holds_back_the_table_write():
    shared = Shared(description("tlog", 1000, gsi_write=1), burst_seconds=5)  # the GSI: 5 units of burst
    process = shared.process()
    admitted = sum(1 for n in range(20) if not process.admit(write("tlog", str(n), gsi=True)))
    assert admitted <= 6
    refused = process.admit(write("tlog", "x", gsi=True))
    assert [(throttle.reason, throttle.resource) for throttle in refused] == [("IndexWriteProvisionedThroughputExceeded", f"{ARN}tlog/index/{GSI}")]
    process.close()
    assert shared.level("tlog") == pytest.approx(1000 * 5 - admitted)  # the table's own capacity is unused but for admitted writes


def test_a_hot_key_one_process_reported_is_refused_in_another_while_other_keys_go_on():
    shared = Shared(description("tlog", 40000))
    one, other = shared.process(), shared.process()
    for _ in range(11):
        assert not one.admit(write("tlog", "hot", units=100.0))  # 1,100 units in a second: over the key's 1,000
    one.flush()
    refused = other.admit(write("tlog", "hot"))
    assert [throttle.reason for throttle in refused] == ["TableWriteKeyRangeThroughputExceeded"]
    assert not other.admit(write("tlog", "cold"))
    shared.clock.advance(1.0)
    other.flush()  # the key has refilled: the next answer no longer names it
    assert not other.admit(write("tlog", "hot"))


def test_a_lease_is_a_slice_of_the_rate_and_what_is_left_goes_back():
    shared = Shared(description("big", 1000))
    full = shared.level("big")
    process = shared.process()
    for n in range(1000):
        assert not process.admit(write("big", str(n)))
    assert shared.exchanges == pytest.approx(1000 / (1000 * LEASE_SECONDS), abs=1)  # one exchange per 50 units
    process.close()
    assert shared.level("big") == pytest.approx(full - 1000)


def test_an_expired_lease_goes_back_at_the_next_flush():
    shared = Shared(description("t", 1000))
    shared.gate.model.charge("t", None, WRITE, 200_000.0)  # far from full, so what comes back shows
    process = shared.process()
    assert not process.admit(write("t", "a"))  # a lease of 50 units (50 ms at 1,000 WCU), 1 spent
    assert process.level("t", None, WRITE) == pytest.approx(49)
    shared.clock.advance(0.6)  # older than LEASE_TTL
    process.flush()
    assert shared.level("t") == pytest.approx(1000 * 300 - 200_000 - 1 + 600)
    assert process.level("t", None, WRITE) == 0


def test_debts_key_usage_and_counts_wait_for_the_next_exchange_when_the_gate_is_unreachable():
    shared = Shared(description("t", 1000))
    process = shared.process()
    assert not process.admit(write("t", "k", units=60.0))  # lease of 60, spent
    process.charge("t", None, WRITE, 40.0, "k")  # DynamoDB reported 100 units: a debt of 40
    process.stats.requests += 3
    shared.unreachable = True
    with pytest.raises(ConnectionError):
        process.flush()
    shared.unreachable = False
    process.flush()
    assert shared.level("t") == pytest.approx(1000 * 300 - 100)
    assert shared.gate.stats.requests == 3
    assert shared.gate.model._keys[("t", None, WRITE, "k")].tokens == pytest.approx(1000 - 100)


def test_a_table_the_gate_does_not_meter_is_never_refused():
    shared = Shared()
    process = shared.process()
    process.configure(table_info(description("unknown-to-the-gate", 1)).table_limits())
    assert all(not process.admit(write("unknown-to-the-gate", str(n))) for n in range(50))
    assert shared.exchanges == 1


def test_a_report_whose_answer_was_lost_is_sent_again_and_counted_once():
    shared = Shared(description("t", 1000))
    process = shared.process()
    assert not process.admit(write("t", "k", units=10.0))
    process.stats.requests += 5
    process.stats.throttled += 2
    process.charge("t", None, WRITE, 90.0, "k")  # a debt of 50 beyond the 50-unit lease
    shared.answers_lost = 1  # the gate applies the report, the answer never arrives
    with pytest.raises(ConnectionError):
        process.flush()
    process.flush()  # sent again: the gate recognises it
    process.close()
    assert shared.gate.stats.requests == 5 and shared.gate.stats.throttled == 2
    assert shared.level("t") == pytest.approx(1000 * 300 - 100)
