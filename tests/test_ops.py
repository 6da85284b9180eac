"""Access patterns (harness.ops) against the session's real DynamoDB Local: rings, scans, sharded GSIs, PartiQL."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from harness.datasets import dataset_items, logfile, ring
from harness.datasets.orders import random_order
from harness.errors import RequestValidationError, classify, error_code
from harness.ops import get_ring_item, parallel_scan, partiql_insert_order, sharded_gsi_query, walk_ring
from harness.ops.ring import BrokenRing
from harness.scenario import TableSpec
from harness.target import tables
from harness.target.loader import load_items

RING_SIZE, RING_SEED = 50, 3
LOG_SIZE, LOG_SEED, LOG_SHARDS = 3_000, 11, 10


def create_and_load(client, data: dict) -> TableSpec:
    """A table from a TableSpec dict, created by the harness and loaded with its dataset."""
    spec = TableSpec.model_validate(data)
    assert tables.ensure_table(client, spec) == tables.CREATED
    items, total = dataset_items(spec)
    report = load_items(client, spec.name, items, total=total, progress=False)
    assert report.items == total
    return spec


def logfile_spec(name: str, with_gsi: bool = False) -> dict:
    spec = {
        "name": name,
        "attributes": {"requestid": "N"},
        "key": {"hash": "requestid"},
        "dataset": {"model": "logfile", "size": LOG_SIZE, "seed": LOG_SEED, "shards": LOG_SHARDS},
    }
    if with_gsi:
        spec["attributes"].update({"GSI_1_PK": "S", "GSI_1_SK": "S"})
        spec["gsis"] = [
            {"name": "GSI_1", "key": {"hash": "GSI_1_PK", "range": "GSI_1_SK"}, "projection": {"type": "KEYS_ONLY"}}
        ]
    return spec


def generated_log() -> list[dict]:
    """The same items the table was loaded with, as plain Python values."""
    deserializer = TypeDeserializer()
    return [
        {name: deserializer.deserialize(value) for name, value in item.items()}
        for item in logfile.generate_items(LOG_SIZE, LOG_SEED, shards=LOG_SHARDS)
    ]


# ---- ring ---------------------------------------------------------------------------------


@pytest.fixture
def ring_table(client, table_name) -> str:
    create_and_load(
        client,
        {
            "name": table_name,
            "attributes": {"primary_key": "S"},
            "key": {"hash": "primary_key"},
            "dataset": {"model": "ring", "size": RING_SIZE, "seed": RING_SEED},
        },
    )
    return table_name


def test_walk_ring_one_lap_returns_to_start(client, ring_table):
    start = ring.ring_keys(RING_SIZE, RING_SEED)[0]

    result = walk_ring(client, ring_table, start, RING_SIZE)

    assert result.value == start
    assert result.calls == RING_SIZE
    assert len(result.consumed) == RING_SIZE  # DynamoDB Local answers ConsumedCapacity on GetItem
    assert all(entry["TableName"] == ring_table for entry in result.consumed)
    assert result.capacity_units > 0


def test_walk_ring_shorter_than_a_lap_stops_elsewhere(client, ring_table):
    keys = ring.ring_keys(RING_SIZE, RING_SEED)

    assert walk_ring(client, ring_table, keys[0], 7).value == keys[7]


def test_every_ring_step_visits_a_new_key(client, ring_table):
    key = ring.ring_keys(RING_SIZE, RING_SEED)[0]
    visited = []
    for _ in range(RING_SIZE):
        step = get_ring_item(client, ring_table, key)
        assert step.calls == 1
        assert len(step.consumed) == 1
        visited.append(key)
        key = step.value

    assert len(set(visited)) == RING_SIZE
    assert set(visited) == set(ring.ring_keys(RING_SIZE, RING_SEED))
    assert key == visited[0]


def test_missing_ring_key_is_a_broken_ring(client, ring_table):
    with pytest.raises(BrokenRing, match="no-such-key"):
        get_ring_item(client, ring_table, "no-such-key")


# ---- parallel scan ------------------------------------------------------------------------


@pytest.fixture
def log_table(client, table_name) -> str:
    create_and_load(client, logfile_spec(table_name))
    return table_name


SEGMENT_COUNTS = (1, 4, 7)


def test_parallel_scan_returns_each_item_exactly_once(client, log_table):
    # One table for every segment count: loading it is the slow part on DynamoDB Local.
    for segments in SEGMENT_COUNTS:
        result = parallel_scan(client, log_table, segments=segments, page_limit=200, keep_items=True)
        totals = result.value

        request_ids = [int(item["requestid"]["N"]) for item in totals.items]
        assert totals.count == totals.scanned_count == LOG_SIZE, segments
        assert len(request_ids) == LOG_SIZE, segments
        duplicates = [request_id for request_id, seen in Counter(request_ids).items() if seen > 1]
        assert duplicates == [], segments
        assert set(request_ids) == set(range(1, LOG_SIZE + 1)), segments
        assert totals.pages > segments, segments  # every segment spans several pages at 200 items a page
        assert result.calls == totals.pages, segments
        assert totals.total is None, segments  # no sum asked for

    # The filtered scan of the same table: count and sum as computed from the generated items.
    not_ok = [item for item in generated_log() if item["responsecode"] != 200]
    assert 0 < len(not_ok) < LOG_SIZE
    for segments in SEGMENT_COUNTS:
        totals = parallel_scan(
            client,
            log_table,
            segments=segments,
            page_limit=200,
            filter_expression="responsecode <> :code",
            expression_values={":code": 200},
            sum_attribute="bytessent",
        ).value

        assert totals.count == len(not_ok), segments
        assert totals.scanned_count == LOG_SIZE, segments  # Limit counts items read before the filter
        assert totals.total == sum(Decimal(item["bytessent"]) for item in not_ok), segments
        assert totals.items == [], segments  # keep_items defaults to False
        assert totals.pages > segments, segments


# ---- write-sharded GSI --------------------------------------------------------------------


@pytest.fixture
def sharded_log_table(client, table_name) -> str:
    create_and_load(client, logfile_spec(table_name, with_gsi=True))
    return table_name


def test_sharded_gsi_query_counts_every_shard(client, sharded_log_table):
    expected_per_shard = Counter(
        logfile.gsi_1_pk(item["requestid"], LOG_SHARDS) for item in generated_log() if item["responsecode"] == 404
    )
    scanned = parallel_scan(
        client, sharded_log_table, segments=4, filter_expression="responsecode = :c", expression_values={":c": 404}
    ).value.count

    full = sharded_gsi_query(client, sharded_log_table, "GSI_1", "GSI_1_PK", "GSI_1_SK", LOG_SHARDS, sort_prefix="404#")

    assert scanned > 0
    assert full.value.total == scanned
    assert set(full.value.per_shard) == {f"shard#{number}" for number in range(1, LOG_SHARDS + 1)}
    assert full.value.per_shard == {key: expected_per_shard.get(key, 0) for key in full.value.per_shard}
    assert full.calls >= LOG_SHARDS
    assert {entry["TableName"] for entry in full.consumed} == {sharded_log_table}

    # Reading one shard too few (the workshop's script read 0-9 while writing 1-10) loses a shard
    # silently: why the scenario validator insists the query reads the shards the dataset writes.
    short = sharded_gsi_query(client, sharded_log_table, "GSI_1", "GSI_1_PK", "GSI_1_SK", LOG_SHARDS - 1, sort_prefix="404#")
    last_shard = full.value.per_shard[f"shard#{LOG_SHARDS}"]
    assert last_shard > 0  # with this seed the last shard holds 404s, so losing it shows
    assert f"shard#{LOG_SHARDS}" not in short.value.per_shard
    assert short.value.total == full.value.total - last_shard < full.value.total

    # Without a sort prefix every item of every shard counts, whatever the page size.
    unlimited = sharded_gsi_query(client, sharded_log_table, "GSI_1", "GSI_1_PK", "GSI_1_SK", LOG_SHARDS)
    paged = sharded_gsi_query(client, sharded_log_table, "GSI_1", "GSI_1_PK", "GSI_1_SK", LOG_SHARDS, page_limit=50)
    assert unlimited.value.total == LOG_SIZE
    assert paged.value.per_shard == unlimited.value.per_shard
    assert paged.calls > unlimited.calls


# ---- PartiQL ------------------------------------------------------------------------------


@pytest.fixture
def orders_table(client, table_name) -> str:
    spec = TableSpec.model_validate(
        {"name": table_name, "attributes": {"pk": "S", "sk": "S"}, "key": {"hash": "pk", "range": "sk"}}
    )
    tables.ensure_table(client, spec)
    return table_name


def plain(item: dict) -> dict:
    """Wire format to Python values: numbers compare as Decimals, as DynamoDB normalises them ("12.50" -> "12.5")."""
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def test_partiql_insert_order_writes_the_order(client, orders_table):
    order = random_order(random.Random(7))

    result = partiql_insert_order(client, orders_table, order)

    assert result.value == order
    assert result.calls == 1
    stored = client.get_item(TableName=orders_table, Key={"pk": order["pk"], "sk": order["sk"]}, ConsistentRead=True)
    assert plain(stored["Item"]) == plain(order)
    assert set(stored["Item"]) == set(order)


def test_partiql_insert_of_an_existing_order_is_a_duplicate(client, orders_table):
    order = random_order(random.Random(7))
    partiql_insert_order(client, orders_table, order)

    with pytest.raises(ClientError) as raised:
        partiql_insert_order(client, orders_table, order)

    # The API model calls it DuplicateItemException; DynamoDB Local answers the code DuplicateItem.
    assert error_code(raised.value) == "DuplicateItem"
    classified = classify(raised.value)
    assert isinstance(classified, RequestValidationError)
    assert classified.code == "DuplicateItem"
    assert classified.outcome == "validation"


def test_a_transaction_cancelled_for_capacity_is_throttled_not_a_failed_condition():
    from harness.errors import ConditionalCheckError, ThrottledError
    from harness.metrics.throttling import is_throttle

    def cancelled(*codes):
        response = {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}, "CancellationReasons": [{"Code": code} for code in codes]}
        return ClientError(response, "TransactWriteItems")

    assert isinstance(classify(cancelled("None", "ThrottlingError")), ThrottledError)
    assert isinstance(classify(cancelled("ProvisionedThroughputExceeded")), ThrottledError)
    assert isinstance(classify(cancelled("ConditionalCheckFailed", "None")), ConditionalCheckError)
    assert is_throttle("TransactionCanceledException", cancelled("ThrottlingError").response)
    assert not is_throttle("TransactionCanceledException", cancelled("ConditionalCheckFailed").response)
