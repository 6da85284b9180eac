"""Maps, lists and local secondary indexes in scenarios: the generators, their validation, and LSIs on a real DynamoDB Local."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from harness.datasets.template import TemplateItems
from harness.datasets.values import compile_value, mix64
from harness.errors import BadInput
from harness.scenario import parse_scenario
from harness.target import tables

ADDRESS = {"map": {"street": {"text": {"min": 5, "max": 20}}, "zip": {"integer": {"min": 10000, "max": 99999}}, "note": {"constant": "x", "present": 0.5}}}
TAGS = {"list": {"item": {"choice": {"values": ["a", "b", "c"]}}, "min": 0, "max": 4}}


def test_a_map_renders_its_entries_each_typed_and_a_sparse_entry_in_about_its_share():
    value = compile_value(ADDRESS)
    rendered = [value.render({}, mix64(draw)) for draw in range(2000)]
    assert value.dynamo_type == "M"
    assert all(isinstance(entry["street"], str) and 5 <= len(entry["street"]) <= 20 for entry in rendered)
    assert all(isinstance(entry["zip"], int) and 10000 <= entry["zip"] <= 99999 for entry in rendered)
    share = sum("note" in entry for entry in rendered) / len(rendered)
    assert 0.45 < share < 0.55
    assert value.render({}, mix64(7)) == value.render({}, mix64(7))


def test_a_list_has_a_length_within_bounds_and_elements_of_its_item_spec():
    value = compile_value(TAGS)
    lengths = {len(value.render({}, mix64(draw))) for draw in range(500)}
    assert value.dynamo_type == "L" and lengths == {0, 1, 2, 3, 4}
    assert all(element in ("a", "b", "c") for draw in range(100) for element in value.render({}, mix64(draw)))


def test_nested_format_strings_read_the_item_and_numbers_stay_numbers_on_the_wire(tmp_path):
    scenario = parse_scenario(
        textwrap.dedent(
            """
            tables:
              - name: nested
                attributes: {pk: S}
                key: {hash: pk}
                dataset:
                  model: template
                  entities:
                    - name: thing
                      count: 3
                      attributes:
                        _n: {sequence: {start: 1}}
                        pk: "T#{_n}"
                        meta: {map: {owner: "T#{_n}", size: {format: "{_n}", type: N}, parts: {list: {item: {integer: {min: 1, max: 9}}, length: 2}}}}
            workload: {mix: [{name: get, op: GetItem, table: nested, pick: {entity: thing}}]}
            """
        ),
        source=tmp_path / "nested.yaml",
    )
    item = TemplateItems(scenario.tables[0].dataset).item_at("thing", 1)
    meta = item["meta"]["M"]
    assert meta["owner"] == {"S": "T#2"} and meta["size"] == {"N": "2"}
    assert [list(element) for element in meta["parts"]["L"]] == [["N"], ["N"]]
    assert Decimal(meta["parts"]["L"][0]["N"]) >= 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("attributes: {pk: S, alt: S}\n    key: {hash: pk}\n    lsis: [{name: by_alt, range: alt}]", "tables[0].lsis: a local secondary index needs a table with a sort key"),
        ("attributes: {pk: S, sk: S}\n    key: {hash: pk, range: sk}\n    lsis: [{name: by_alt, range: alt}]", "tables[0].lsis[0].range: key attribute 'alt' is not in tables[0].attributes"),
        (
            "attributes: {pk: S, sk: S}\n    key: {hash: pk, range: sk}\n    gsis: [{name: by_sk, key: {hash: sk}}]\n    lsis: [{name: by_sk, range: sk}]",
            "index names must be unique across GSIs and LSIs",
        ),
    ],
)
def test_lsi_rules_are_one_line_each(table, message, tmp_path):
    text = f"tables:\n  - name: things\n    {table}\nworkload: {{mix: [{{task: parallel_scan, table: things}}]}}\n"
    with pytest.raises(BadInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(text, source=tmp_path / "x.yaml")


def test_a_list_item_cannot_be_sparse(tmp_path):
    text = (
        "tables:\n  - name: things\n    attributes: {pk: S}\n    key: {hash: pk}\n    dataset:\n      model: template\n"
        "      entities: [{name: t, count: 1, attributes: {pk: x, tags: {list: {item: {constant: a, present: 0.5}, length: 2}}}}]\n"
        "workload: {mix: [{task: parallel_scan, table: things}]}\n"
    )
    with pytest.raises(BadInput, match="expected a list item that is always present"):
        parse_scenario(text, source=tmp_path / "x.yaml")


def lsi_scenario(path: Path, name: str):
    text = f"""
tables:
  - name: {name}
    attributes: {{pk: S, sk: S, created: S}}
    key: {{hash: pk, range: sk}}
    lsis: [{{name: by_created, range: created, projection: {{type: INCLUDE, non_key_attributes: [note]}}}}]
workload:
  mix:
    - {{name: recent, op: Query, table: {name}, index: by_created, key_condition: "pk = :pk AND created > :t", values: {{":pk": "a", ":t": "2024"}}}}
"""
    return parse_scenario(text, source=path)


def test_a_table_with_an_lsi_is_created_then_reused_and_a_query_may_use_it(client, table_name, tmp_path):
    spec = lsi_scenario(tmp_path / "lsi.yaml", table_name).tables[0]
    request = tables.create_table_request(spec)
    assert request["LocalSecondaryIndexes"] == [
        {
            "IndexName": "by_created",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "created", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
        }
    ]
    try:
        assert tables.ensure_table(client, spec) == tables.CREATED
        described = client.describe_table(TableName=table_name)["Table"]
        assert [index["IndexName"] for index in described["LocalSecondaryIndexes"]] == ["by_created"]
        assert tables.ensure_table(client, spec) == tables.REUSED
        client.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "created": {"S": "2025-01-01"}, "note": {"S": "n"}})
        found = client.query(
            TableName=table_name, IndexName="by_created", KeyConditionExpression="pk = :pk AND created > :t",
            ExpressionAttributeValues={":pk": {"S": "a"}, ":t": {"S": "2024"}},
        )  # fmt: skip
        assert found["Count"] == 1 and found["Items"][0]["note"] == {"S": "n"}
    finally:
        tables.delete_table(client, table_name, client.describe_table(TableName=table_name)["Table"])
