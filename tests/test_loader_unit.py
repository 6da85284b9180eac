"""load_items against a stubbed DynamoDB client: request shape, re-sends, throttling, errors, threads."""

from __future__ import annotations

import itertools
import random
import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from harness.target import loader
from harness.target.loader import BATCH_WRITE_MAX_ITEMS, LoadReport, load_items

TABLE = "loader-test"
TINY_BACKOFF = 0.001


@pytest.fixture
def client():
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def make_items(count: int, start: int = 0) -> list[dict]:
    return [{"pk": {"S": f"key{n}"}, "payload": {"N": str(n)}} for n in range(start, start + count)]


def put_requests(items: list[dict]) -> list[dict]:
    return [{"PutRequest": {"Item": item}} for item in items]


def batch_write_params(items: list[dict]) -> dict:
    return {"RequestItems": {TABLE: put_requests(items)}, "ReturnConsumedCapacity": "TOTAL"}


def accepted_response(capacity_units: float, unprocessed: list[dict] | None = None) -> dict:
    return {
        "UnprocessedItems": {TABLE: put_requests(unprocessed)} if unprocessed else {},
        "ConsumedCapacity": [{"TableName": TABLE, "CapacityUnits": capacity_units}],
    }


def load_stubbed(client, items, **options) -> LoadReport:
    return load_items(client, TABLE, items, workers=1, progress=False, max_backoff=TINY_BACKOFF, **options)


# --- stubbed, one sender: the exact sequence of calls ---


def test_sixty_items_go_in_three_calls_of_twenty_five_twenty_five_and_ten(client):
    items = make_items(60)
    with Stubber(client) as stubber:
        for batch, units in ((items[:25], 25.0), (items[25:50], 25.0), (items[50:], 10.0)):
            stubber.add_response("batch_write_item", accepted_response(units), batch_write_params(batch))
        report = load_stubbed(client, iter(items))
        stubber.assert_no_pending_responses()
    assert BATCH_WRITE_MAX_ITEMS == 25
    assert (report.items, report.batches, report.resent_items, report.consumed_wcu) == (60, 3, 0, 60.0)


def test_unprocessed_items_are_sent_again_in_the_next_call(client):
    items = make_items(30)
    left_over = [items[3], items[17], items[24]]
    with Stubber(client) as stubber:
        stubber.add_response("batch_write_item", accepted_response(22.0, left_over), batch_write_params(items[:25]))
        stubber.add_response("batch_write_item", accepted_response(1.0, left_over[2:]), batch_write_params(left_over))
        stubber.add_response("batch_write_item", accepted_response(1.0), batch_write_params(left_over[2:]))
        stubber.add_response("batch_write_item", accepted_response(5.0), batch_write_params(items[25:]))
        report = load_stubbed(client, items)
        stubber.assert_no_pending_responses()
    assert (report.items, report.batches, report.resent_items, report.consumed_wcu) == (30, 4, 4, 29.0)


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_a_throttled_call_is_sent_again_and_nothing_is_lost(client, code):
    items = make_items(40)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "batch_write_item",
            service_error_code=code,
            http_status_code=400,
            expected_params=batch_write_params(items[:25]),
        )
        stubber.add_response("batch_write_item", accepted_response(25.0), batch_write_params(items[:25]))
        stubber.add_response("batch_write_item", accepted_response(15.0), batch_write_params(items[25:]))
        report = load_stubbed(client, items)
        stubber.assert_no_pending_responses()
    assert (report.items, report.batches, report.resent_items, report.consumed_wcu) == (40, 3, 25, 40.0)


def test_other_errors_propagate_and_stop_the_load(client):
    items = make_items(60)
    with Stubber(client) as stubber:
        stubber.add_response("batch_write_item", accepted_response(25.0), batch_write_params(items[:25]))
        stubber.add_client_error(
            "batch_write_item",
            service_error_code="ValidationException",
            service_message="Provided list of item keys contains duplicates",
            http_status_code=400,
            expected_params=batch_write_params(items[25:50]),
        )
        with pytest.raises(ClientError) as raised:
            load_stubbed(client, items)
        stubber.assert_no_pending_responses()
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_re_sends_back_off_exponentially_with_jitter_up_to_the_cap(client, monkeypatch):
    slept = []
    monkeypatch.setattr(loader.time, "sleep", slept.append)
    items = make_items(5)
    with Stubber(client) as stubber:
        for _ in range(6):
            stubber.add_response("batch_write_item", accepted_response(0.0, items), batch_write_params(items))
        stubber.add_response("batch_write_item", accepted_response(5.0), batch_write_params(items))
        report = load_items(client, TABLE, items, workers=1, progress=False, max_backoff=0.5)
    assert report.resent_items == 30
    ceilings = [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]
    assert len(slept) == len(ceilings)
    assert all(ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(slept, ceilings, strict=False))


def test_progress_prints_one_summary_line(client, capsys):
    items = make_items(3)
    with Stubber(client) as stubber:
        stubber.add_response("batch_write_item", accepted_response(3.0), batch_write_params(items))
        load_items(client, TABLE, items, total=3, workers=1, progress=True)
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith(f"loaded 3 items into {TABLE} in ")
    assert summary.endswith(" items/s)")


def test_empty_input_makes_no_call(client):
    with Stubber(client):
        report = load_stubbed(client, [])
    assert (report.items, report.batches) == (0, 0)


def test_report_rate():
    assert LoadReport(items=100, seconds=4.0, batches=4, resent_items=0, consumed_wcu=100.0).items_per_second == 25.0
    assert LoadReport(items=0, seconds=0.0, batches=0, resent_items=0, consumed_wcu=0.0).items_per_second == 0.0


# --- fake client, many senders: the threading ---


class FlakyTable:
    """A thread-safe stand-in for client.batch_write_item that throttles and leaves items unprocessed at random."""

    def __init__(self, seed: int, fail_on_call: int | None = None):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._fail_on_call = fail_on_call
        self.calls = 0
        self.batch_sizes: list[int] = []
        self.stored: list[str] = []

    def batch_write_item(self, RequestItems, ReturnConsumedCapacity):
        with self._lock:
            self.calls += 1
            (requests,) = RequestItems.values()
            self.batch_sizes.append(len(requests))
            if self.calls == self._fail_on_call:
                raise client_error("ValidationException")
            if self._rng.random() < 0.1:
                raise client_error("ProvisionedThroughputExceededException")
            unprocessed = [request for request in requests if self._rng.random() < 0.2]
            accepted = [request for request in requests if request not in unprocessed]
            self.stored.extend(request["PutRequest"]["Item"]["pk"]["S"] for request in accepted)
            return {
                "UnprocessedItems": {TABLE: unprocessed} if unprocessed else {},
                "ConsumedCapacity": [{"TableName": TABLE, "CapacityUnits": float(len(accepted))}],
            }


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "BatchWriteItem")


@pytest.mark.timeout(30)
def test_parallel_senders_store_every_item_exactly_once():
    table = FlakyTable(seed=1)
    report = load_items(table, TABLE, iter(make_items(2000)), workers=8, progress=False, max_backoff=TINY_BACKOFF)
    assert sorted(table.stored) == sorted(f"key{n}" for n in range(2000))
    assert max(table.batch_sizes) == BATCH_WRITE_MAX_ITEMS
    assert report.items == 2000 and report.consumed_wcu == 2000.0
    assert report.batches == table.calls
    assert report.resent_items == sum(table.batch_sizes) - 2000 > 0


@pytest.mark.timeout(30)
def test_a_failing_sender_stops_an_endless_generator_without_reading_it_all():
    consumed = itertools.count()
    endless_items = ({"pk": {"S": f"key{next(consumed)}"}} for _ in itertools.count())
    table = FlakyTable(seed=2, fail_on_call=20)
    with pytest.raises(ClientError, match="ValidationException"):
        load_items(table, TABLE, endless_items, workers=4, progress=False, max_backoff=TINY_BACKOFF)
    # Only what the bounded queue and the senders in flight can hold was ever generated.
    assert next(consumed) <= 25 * (table.calls + 4 * loader.QUEUED_BATCHES_PER_WORKER + 4 + 1)


@pytest.mark.timeout(30)
def test_a_failing_generator_stops_the_senders_and_propagates():
    def items_then_failure():
        yield from make_items(100)
        raise RuntimeError("source file vanished")

    table = FlakyTable(seed=3)
    with pytest.raises(RuntimeError, match="source file vanished"):
        load_items(table, TABLE, items_then_failure(), workers=4, progress=False, max_backoff=TINY_BACKOFF)
    assert not any(thread.name.startswith("batch-writer") for thread in threading.enumerate())


def test_workers_must_be_positive(client):
    with pytest.raises(ValueError):
        load_items(client, TABLE, make_items(1), workers=0, progress=False)
