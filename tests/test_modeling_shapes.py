"""Attribute shapes learnt from sample values (harness/modeling/shapes.py), and that they generate what they say."""

from __future__ import annotations

import re

import pytest

from harness.datasets.values import compile_value, mix64
from harness.modeling.shapes import learn, learn_string, with_presence


def strings(*values: str) -> list[dict]:
    return [{"S": value} for value in values]


def render(shape, draws: int = 200) -> list:
    """Values the shape's spec generates, its helper attributes rendered first as a template entity would."""
    helpers = [(name, compile_value(spec)) for name, spec in shape.helpers]
    value = compile_value(shape.spec)
    out = []
    for draw in range(draws):
        fields = {"index": draw}
        for position, (name, helper) in enumerate(helpers):
            fields[name] = helper.render(fields, mix64(draw * 31 + position))
        out.append(value.render(fields, mix64(draw)))
    return out


@pytest.mark.parametrize(
    ("values", "identity", "pattern", "prefix"),
    [
        (["c#12345", "c#12346", "c#12350"], True, r"c#\d+", "c#"),
        (["USER#alice#ORDER#2024-01-02", "USER#bob#ORDER#2024-03-09"], False, r"USER#.+#ORDER#\d{4}-\d\d-\d\d", "USER#"),
        (["o#000101", "o#000102"], True, r"o#\d{6}", "o#"),
        (["POST#2024-01-02T10:00:00Z#p0001", "POST#2024-02-11T09:30:00Z#p0002"], True, r"POST#\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ#p\d{4}", "POST#"),
        (["ORDER|17|x", "ORDER|18|y", "ORDER|19|x"], False, r"ORDER\|\d+\|[xy]", "ORDER|"),
    ],
)
def test_composite_keys_keep_their_constant_parts_and_separators(values, identity, pattern, prefix):
    shape = learn_string("pk", values, identity=identity)
    assert shape.prefix == prefix
    assert all(re.fullmatch(pattern, value) for value in render(shape))


def test_a_numeric_part_of_a_key_is_a_sequence_so_every_item_has_its_own():
    shape = learn_string("pk", ["c#7", "c#9"], identity=True)
    generated = render(shape)
    assert shape.unique and len(set(generated)) == len(generated) and generated[0] == "c#7"


@pytest.mark.parametrize(
    ("values", "generator", "check"),
    [
        (strings("2024-01-02", "2024-03-09"), "datetime", lambda value: "2024-01-02" <= value <= "2024-03-09"),
        (strings("2024-01-02T10:00:00Z", "2024-01-05T08:30:00+00:00"), "datetime", lambda value: re.fullmatch(r"2024-01-0[2-5]T\d\d:\d\d:\d\dZ", value)),
        (strings("6f1c8b1e-0d2a-4c1e-9a51-1f1b2c3d4e5f", "0a1b2c3d-4e5f-4a1b-8c2d-3e4f5a6b7c8d"), "uuid", lambda value: len(value) == 36),
        (strings("GOLD", "SILVER", "GOLD", "BRONZE"), "choice", lambda value: value in ("GOLD", "SILVER", "BRONZE")),
        (strings("ana@shop.example", "ben@shop.example"), "faker", lambda value: "@" in value),
        ([{"N": "3"}, {"N": "42"}, {"N": "7"}], "integer", lambda value: 3 <= value <= 42),
        ([{"N": "19.99"}, {"N": "5.5"}], "decimal", lambda value: 5.5 <= value <= 19.99 and -value.as_tuple().exponent == 2),
        ([{"N": "1704189600"}, {"N": "1709000000"}], "datetime", lambda value: 1704189600 <= value <= 1709000000),
        ([{"BOOL": True}, {"BOOL": False}, {"BOOL": True}], "choice", lambda value: isinstance(value, bool)),
    ],
)
def test_whole_values_get_the_generator_of_their_kind_within_the_samples_range(values, generator, check):
    shape = learn("expires_at" if "N" in values[0] else "email" if "@" in str(values) else "value", values)
    assert generator in shape.spec and all(check(value) for value in render(shape))


def test_maps_are_learnt_entry_by_entry_and_lists_keep_their_lengths():
    maps = [{"M": {"city": {"S": "Austin"}, "zip": {"S": "73301"}}}, {"M": {"city": {"S": "Denver"}}}]
    shape = learn("address", maps)
    assert shape.dynamo_type == "M" and shape.spec["map"]["zip"]["present"] == 0.5
    assert all(isinstance(value["city"], str) for value in render(shape))
    lists = [{"L": [{"N": "1"}, {"N": "2"}]}, {"L": []}, {"L": [{"N": "4"}]}]
    shape = learn("scores", lists)
    assert shape.spec["list"]["min"] == 0 and shape.spec["list"]["max"] == 2
    assert all(len(value) <= 2 and all(1 <= element <= 4 for element in value) for value in render(shape))


def test_presence_writes_the_long_form_with_the_share():
    assert with_presence("PROFILE", 1.0) == "PROFILE"
    assert with_presence("PROFILE", 0.25) == {"constant": "PROFILE", "present": 0.25}
    assert with_presence("EMAIL#{_e}", 0.5) == {"format": "EMAIL#{_e}", "present": 0.5}
    assert with_presence({"integer": {"min": 0, "max": 9}}, 1 / 3) == {"integer": {"min": 0, "max": 9}, "present": 0.33}
