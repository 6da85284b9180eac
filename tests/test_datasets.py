"""The dataset generators: deterministic, well-formed keys, the shapes the workloads rely on."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter

import pytest
from conftest import WORKSHOP_DATA

from harness import datasets
from harness.datasets import logfile, orders, ring, template

SMALL_LOG = WORKSHOP_DATA / "logfile_small1.csv"

ORDER_PK = re.compile(r"^ACCOUNT#ACCOUNT(\d+)#CUSTOMER#CUSTOMER(\d+)$")
ORDER_SK = re.compile(
    r"^STATUS#(PENDING|PROCESSED|SHIPPED|DELIVERED|CANCELLED)#ORDER#"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GSI_1_SK = re.compile(r"^(\d{3})#(\d{4}-\d{2}-\d{2})#(\d{2})$")

GENERATORS = {
    "orders": lambda seed: orders.generate_items(300, seed),
    "ring": lambda seed: ring.generate_items(300, seed),
    "logfile": lambda seed: logfile.generate_items(300, seed),
}


def wire_types(item: dict) -> dict:
    """{attribute: DynamoDB type} of a wire-format item."""
    return {name: next(iter(value)) for name, value in item.items()}


# --- every model ---


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_gives_identical_items_in_identical_order(name):
    assert list(GENERATORS[name](7)) == list(GENERATORS[name](7))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_different_seeds_give_different_items(name):
    assert list(GENERATORS[name](7)) != list(GENERATORS[name](8))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_items_are_wire_format_with_the_declared_attribute_types(name):
    declared = datasets.model(name).ATTRIBUTE_TYPES
    for item in GENERATORS[name](1):
        assert wire_types(item) == declared
        assert all(isinstance(value, str) for attribute in item.values() for value in attribute.values())


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generation_does_not_touch_the_global_random(name):
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    list(GENERATORS[name](5))
    assert random.random() == expected_next


def test_model_returns_the_module_and_lists_known_names_when_unknown():
    assert datasets.model("ring") is ring
    assert datasets.MODELS == {"orders": orders, "ring": ring, "logfile": logfile, "template": template}
    with pytest.raises(ValueError, match="logfile, orders, ring, template"):
        datasets.model("customers")


# --- orders ---


def test_order_keys_match_the_pattern_and_are_unique():
    items = list(orders.generate_items(2000, seed=3, accounts=5, customers=7))
    keys = {(item["pk"]["S"], item["sk"]["S"]) for item in items}
    assert len(keys) == 2000
    for item in items:
        account, customer = map(int, ORDER_PK.match(item["pk"]["S"]).groups())
        assert 1 <= account <= 5 and 1 <= customer <= 7
        status = ORDER_SK.match(item["sk"]["S"]).group(1)
        assert item["status"]["S"] == status


def test_order_partitions_cover_accounts_and_customers():
    partitions = {item["pk"]["S"] for item in orders.generate_items(2000, seed=3, accounts=5, customers=7)}
    assert len(partitions) == 35


def test_order_attribute_values_are_in_range():
    for item in orders.generate_items(1000, seed=11):
        assert re.fullmatch(r"\d{5}", item["zipcode"]["N"])
        assert re.fullmatch(r"user\d+", item["username"]["S"])
        assert re.fullmatch(r"2021-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", item["datetime"]["S"])
        assert re.fullmatch(r"\d+\.\d{2}", item["amount"]["N"])
        assert 1.00 <= float(item["amount"]["N"]) <= 5000.00


def test_random_order_is_driven_by_the_given_rng_and_fits_generate_items():
    assert orders.random_order(random.Random(5)) == orders.random_order(random.Random(5))
    assert orders.random_order(random.Random(5)) == next(orders.generate_items(1, seed=5))
    assert wire_types(orders.random_order(random.Random(6), accounts=2, customers=2)) == orders.ATTRIBUTE_TYPES


# --- ring ---


@pytest.mark.parametrize("size", [2, 3, 1000])
def test_ring_is_one_cycle_through_every_item_from_any_start(size):
    next_key = {item["primary_key"]["S"]: item["next_primary_key"]["S"] for item in ring.generate_items(size, 9)}
    assert len(next_key) == size
    for start in itertools.islice(next_key, 5):
        seen, key = set(), start
        for _ in range(size):
            assert key not in seen
            seen.add(key)
            key = next_key[key]
        assert key == start
        assert seen == set(next_key)


def test_ring_keys_are_the_items_in_walk_order():
    keys = ring.ring_keys(50, 4)
    items = list(ring.generate_items(50, 4))
    assert keys == [item["primary_key"]["S"] for item in items]
    assert [item["next_primary_key"]["S"] for item in items] == keys[1:] + keys[:1]
    assert all(UUID4.match(key) for key in keys)


@pytest.mark.parametrize("size", [-1, 0, 1])
def test_ring_needs_two_items(size):
    with pytest.raises(ValueError):
        ring.ring_keys(size, 1)
    with pytest.raises(ValueError):
        list(ring.generate_items(size, 1))


# --- logfile: synthetic ---


@pytest.mark.parametrize("shards", [1, 3, 10])
def test_log_items_spread_over_exactly_the_configured_shards(shards):
    items = list(logfile.generate_items(200, seed=2, shards=shards))
    assert {item["GSI_1_PK"]["S"] for item in items} == {f"shard#{n}" for n in range(1, shards + 1)}
    for item in items:
        assert item["GSI_1_PK"]["S"] == f"shard#{int(item['requestid']['N']) % shards + 1}"


def test_log_gsi_sort_key_is_code_date_and_two_digit_hour():
    for item in logfile.generate_items(500, seed=2):
        code, date, hour = GSI_1_SK.match(item["GSI_1_SK"]["S"]).groups()
        assert code == item["responsecode"]["N"]
        assert date == item["date"]["S"]
        assert int(hour) == int(item["hourofday"]["N"])


def test_log_request_ids_are_sequential_and_dates_in_the_four_days():
    items = list(logfile.generate_items(1000, seed=2))
    assert [int(item["requestid"]["N"]) for item in items] == list(range(1, 1001))
    assert {item["date"]["S"] for item in items} == {"2017-07-20", "2017-07-21", "2017-07-22", "2017-07-23"}
    assert {int(item["hourofday"]["N"]) for item in items} == set(range(24))
    assert {item["timezone"]["S"] for item in items} == {"GMT-0700"}


def test_log_response_code_mix_follows_the_workshop_files():
    codes = Counter(int(item["responsecode"]["N"]) for item in logfile.generate_items(20_000, seed=4))
    assert set(codes) <= set(logfile.RESPONSE_CODE_COUNTS)
    assert 0.80 <= codes[200] / 20_000 <= 0.90
    assert 0.08 <= codes[302] / 20_000 <= 0.13
    assert codes[302] > codes[404] > codes[206]


def test_log_bytes_sent_fit_the_response_code():
    for item in logfile.generate_items(5000, seed=4):
        code, sent = int(item["responsecode"]["N"]), int(item["bytessent"]["N"])
        if code in (302, 304):
            assert 0 <= sent <= 5
        if code == 200:
            assert sent >= 300


def test_log_hosts_are_ipv4():
    for item in logfile.generate_items(300, seed=4):
        assert all(0 <= int(part) <= 255 for part in item["host"]["S"].split(".")) and item["host"]["S"].count(".") == 3


# --- logfile: the workshop CSV ---


def test_read_csv_reads_the_workshop_file():
    items = list(logfile.read_csv(SMALL_LOG, shards=10))
    assert len(items) == 500 == logfile.count_csv_rows(SMALL_LOG)
    first = items[0]
    assert first["requestid"] == {"N": "1"}
    assert first["host"] == {"S": "66.249.67.3"}
    assert first["date"] == {"S": "2009-07-20"}
    assert first["hourofday"] == {"N": "20"}
    assert first["method"] == {"S": "GET"}
    assert first["url"]["S"].startswith("/gallery/main.php?g2_controller=exif.SwitchDetailMode")
    assert first["responsecode"] == {"N": "302"}
    assert first["bytessent"] == {"N": "5"}
    assert first["useragent"] == {"S": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    assert first["GSI_1_PK"] == {"S": "shard#2"}
    assert first["GSI_1_SK"] == {"S": "302#2009-07-20#20"}
    assert [int(item["requestid"]["N"]) for item in items] == list(range(1, 501))
    assert all(wire_types(item) == logfile.ATTRIBUTE_TYPES for item in items)


def test_read_csv_stops_at_the_limit():
    assert len(list(logfile.read_csv(SMALL_LOG, limit=7))) == 7
    assert list(logfile.read_csv(SMALL_LOG, limit=0)) == []


def test_read_csv_keeps_commas_inside_quoted_fields_and_pads_the_hour(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        '7,10.0.0.1,2017-07-21,01,GMT-0700,GET,"/search?q=a,b,c",404,312,"Mozilla/5.0 (X11; Linux, x86_64)"\n'
        "\n"
    )
    (item,) = logfile.read_csv(path, shards=4)
    assert item["url"] == {"S": "/search?q=a,b,c"}
    assert item["useragent"] == {"S": "Mozilla/5.0 (X11; Linux, x86_64)"}
    assert item["hourofday"] == {"N": "1"}
    assert item["GSI_1_SK"] == {"S": "404#2017-07-21#01"}
    assert item["GSI_1_PK"] == {"S": "shard#4"}
    assert logfile.count_csv_rows(path) == 1


@pytest.mark.parametrize(
    "bad_row, problem",
    [
        ("3,10.0.0.1,2017-07-21,01,GMT-0700,GET,/,200,99", "columns"),
        ("3,10.0.0.1,2017-07-21,01,GMT-0700,GET,/a,b,200,99,curl", "columns"),
        ("3,10.0.0.1,2017-07-21,01,GMT-0700,GET,/,OK,99,curl", "responsecode"),
        ("3,10.0.0.1,2017-07-21,01,GMT-0700,GET,/,200,-,curl", "bytessent"),
    ],
)
def test_read_csv_names_the_file_and_line_of_a_malformed_row(tmp_path, bad_row, problem):
    path = tmp_path / "broken.csv"
    good_row = "{},10.0.0.1,2017-07-21,01,GMT-0700,GET,/,200,99,curl"
    path.write_text("\n".join([good_row.format(1), good_row.format(2), bad_row, good_row.format(4)]) + "\n")
    items = logfile.read_csv(path)
    assert len([next(items), next(items)]) == 2
    with pytest.raises(ValueError, match=rf"broken\.csv, line 3\b.*{problem}"):
        next(items)


@pytest.mark.parametrize("shards", [0, -2])
def test_shards_must_be_positive(shards):
    with pytest.raises(ValueError):
        list(logfile.generate_items(5, 1, shards=shards))
    with pytest.raises(ValueError):
        list(logfile.read_csv(SMALL_LOG, shards=shards))
