"""The `template` dataset model: the value language, the item generator, its validation (no DynamoDB server)."""

from __future__ import annotations

import random
import re
import statistics
import textwrap
import tracemalloc
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import SCENARIOS, WORKSHOP_DATA

from harness.datasets import dataset_items
from harness.datasets.sizes import KB, SizeSummary, item_size, size_summary
from harness.datasets.template import TemplateItems
from harness.datasets.values import MISSING, compile_value, mix64, wire
from harness.errors import BadInput
from harness.scenario import TemplateDataset, load_scenario, parse_scenario

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EMPLOYEE_COLUMNS = [
    "employeeid", "name", "title", "dept", "city", "state", "dob", "hire_date", "previous_title", "previous_title_end", "is_manager",
]  # fmt: skip

USER = {
    "name": "user",
    "count": 300,
    "attributes": {
        "_user_id": {"sequence": {"start": 1}},
        "pk": "USER#{_user_id}",
        "sk": "PROFILE",
        "followers": {"integer": {"min": 0, "max": 5000}},
        "rating": {"decimal": {"min": 0, "max": 5, "digits": 2}},
        "tier": {"choice": {"values": ["free", "pro", "team"], "weights": [90, 9, 1]}},
        "bio": {"text": {"length": 200}},
        "joined": {"datetime": {"start": "2024-01-01", "end": "2024-12-31", "format": "iso"}},
        "token": {"uuid": {}},
        "is_vip": {"choice": {"values": ["1"]}, "present": 0.05},
    },
}
TWEET = {
    "name": "tweet",
    "parent": "user",
    "per_parent": {"uniform": {"min": 0, "max": 6}},
    "attributes": {
        "pk": "USER#{parent._user_id}",
        "_n": {"sequence": {}},
        "created": {"datetime": {"start": "2024-01-01", "end": "2024-12-31"}},
        "sk": "TWEET#{created}#{_n}",
        "ordinal": "{parent.index}/{child}/{index}",
        "text": {"text": {"min": 10, "max": 280}},
    },
}


def template(*entities: dict, seed: int = 7) -> TemplateDataset:
    """A validated template dataset of these entities."""
    return TemplateDataset.model_validate({"model": "template", "seed": seed, "entities": list(entities)})


def draws(count: int) -> list[int]:
    """`count` well-spread 64-bit draws."""
    return [mix64(number) for number in range(count)]


def render_all(spec: object, count: int = 3000, fields: dict | None = None) -> list:
    """The values a spec renders for `count` draws."""
    value = compile_value(spec)
    return [value.render(fields or {"index": 0}, draw) for draw in draws(count)]


# ---- the value language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, dynamo_type, python_value",
    [("PROFILE", "S", "PROFILE"), (3, "N", 3), (2.5, "N", 2.5), (True, "BOOL", True), ({"constant": "x"}, "S", "x")],
)
def test_scalars_are_constants_typed_by_their_yaml_type(spec, dynamo_type, python_value):
    value = compile_value(spec)
    assert value.dynamo_type == dynamo_type and not value.needs_draw
    assert value.render({}, 12345) == python_value
    assert next(iter(wire(python_value, dynamo_type))) == dynamo_type


def test_format_strings_fill_fields_with_python_format_specs():
    value = compile_value("USER#{_user_id:08d}#{parent.row.state}#{{literal}}")
    assert value.dynamo_type == "S"
    assert value.references == {"_user_id", "parent.row.state"}
    assert value.render({"_user_id": 42, "parent": {"row": {"state": "WA"}}}, 0) == "USER#00000042#WA#{literal}"
    assert value.render({"_user_id": 42, "parent": {"row": {}}}, 0) is MISSING  # a field the item lacks
    assert compile_value({"format": "{n}", "type": "N"}).render({"n": 7}, 0) == "7"
    with pytest.raises(BadInput, match="expected a number"):
        compile_value({"format": "n{n}", "type": "N"}).render({"n": 7}, 0)


def test_sequence_is_the_scaled_item_index():
    value = compile_value({"sequence": {"start": 10, "step": 5}})
    assert value.dynamo_type == "N" and value.references == {"index"}
    assert [value.render({"index": index}, 99) for index in range(3)] == [10, 15, 20]


def test_integer_covers_its_whole_range_and_no_more():
    values = render_all({"integer": {"min": -3, "max": 4}})
    assert compile_value({"integer": {"min": -3, "max": 4}}).dynamo_type == "N"
    assert set(values) == set(range(-3, 5))


def test_decimal_has_exactly_its_digits_and_stays_in_range():
    values = render_all({"decimal": {"min": 0, "max": 5, "digits": 2}})
    assert all(isinstance(value, Decimal) and Decimal(0) <= value <= Decimal(5) for value in values)
    assert all(re.fullmatch(r"\d\.\d\d", wire(value, "N")["N"]) for value in values)
    assert min(values) < Decimal("0.2") and max(values) > Decimal("4.8")


def test_weighted_choice_follows_its_weights_and_its_values_type():
    counts = Counter(render_all({"choice": {"values": ["free", "pro", "team"], "weights": [90, 9, 1]}}, count=20_000))
    assert 0.88 < counts["free"] / 20_000 < 0.92 and 0.075 < counts["pro"] / 20_000 < 0.105 and 0.004 < counts["team"] / 20_000 < 0.017
    assert set(render_all({"choice": {"values": [1, 2, 3]}})) == {1, 2, 3}
    assert compile_value({"choice": {"values": [1, 2]}}).dynamo_type == "N"
    assert compile_value({"choice": {"values": [True, False]}}).dynamo_type == "BOOL"
    assert compile_value({"choice": {"values": ["a"]}}).dynamo_type == "S"


def test_text_has_the_exact_or_drawn_length():
    assert {len(text) for text in render_all({"text": {"length": 200}})} == {200}
    lengths = [len(text) for text in render_all({"text": {"min": 10, "max": 300}})]
    assert min(lengths) >= 10 and max(lengths) <= 300 and len(set(lengths)) > 200
    assert len(set(render_all({"text": {"length": 50}}))) > 2900  # many distinct texts
    assert all(re.fullmatch(r"[a-z ]*", text) for text in render_all({"text": {"length": 80}}, count=100))


@pytest.mark.parametrize("style, pattern, dynamo_type", [("iso", ISO_SECOND, "S"), ("date", re.compile(r"^\d{4}-\d{2}-\d{2}$"), "S"), ("epoch", None, "N")])
def test_datetime_stays_in_its_range_in_each_format(style, pattern, dynamo_type):
    spec = {"datetime": {"start": "2024-01-01", "end": "2024-12-31", "format": style}}
    assert compile_value(spec).dynamo_type == dynamo_type
    first, last = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    for value in render_all(spec, count=2000):
        if style == "epoch":
            assert first.timestamp() <= value <= last.timestamp()
        else:
            assert pattern.match(value) and "2024-01-01" <= value <= "2024-12-31T23:59:59Z"


def test_uuid_is_uuid4_shaped_distinct_and_repeatable():
    values = render_all({"uuid": {}})
    assert all(UUID4.match(value) for value in values)
    assert len(set(values)) == len(values)
    assert values == render_all({"uuid": {}})


def test_faker_values_are_text_repeatable_per_draw_and_leave_the_global_random_alone():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    names = render_all({"faker": "name"}, count=50)
    assert random.random() == expected
    assert names == render_all({"faker": "name"}, count=50)
    assert all(isinstance(name, str) and name for name in names) and len(set(names)) > 40
    assert compile_value({"faker": "email"}).dynamo_type == "S"
    with pytest.raises(BadInput, match=r"value\.faker: expected a Faker provider .* found 'nmae'"):
        compile_value({"faker": "nmae"})


def test_column_reads_the_row_as_text_or_number_and_present_if_makes_it_sparse():
    row = {"row": {"id": "17", "flag": "1", "empty": ""}}
    assert compile_value({"column": "id"}).render(row, 0) == "17"
    assert compile_value({"column": "id", "type": "N"}).render(row, 0) == "17"
    assert compile_value({"column": "flag", "present_if": "1"}).render(row, 0) == "1"
    assert compile_value({"column": "id", "present_if": "1"}).render(row, 0) is MISSING
    assert compile_value({"column": "missing"}).render(row, 0) is MISSING
    assert compile_value({"column": "empty", "type": "N"}).render(row, 0) is MISSING
    with pytest.raises(BadInput, match="expected a number in column 'flag'"):
        compile_value({"column": "flag", "type": "N"}).render({"row": {"flag": "yes"}}, 0)


def test_a_malformed_spec_is_one_line_naming_its_path():
    with pytest.raises(BadInput, match=r"^:pk\.integer: expected min <= max, found min 3 > max 1$"):
        compile_value({"integer": {"min": 3, "max": 1}}, ":pk")


# ---- the generator -----------------------------------------------------------------------------


def test_items_carry_the_declared_types_and_no_underscore_attributes():
    dataset = template(USER, TWEET)
    types = dataset.attribute_types()
    assert types == {
        "pk": "S", "sk": "S", "followers": "N", "rating": "N", "tier": "S", "bio": "S", "joined": "S", "token": "S", "is_vip": "S",
        "created": "S", "ordinal": "S", "text": "S",
    }  # fmt: skip
    for item in TemplateItems(dataset).generate_items():
        assert all(types[name] == next(iter(value)) for name, value in item.items())
        assert all(isinstance(text, str) for value in item.values() for text in value.values())


def test_format_strings_read_parent_fields_and_item_numbers():
    items = TemplateItems(template(USER, TWEET))
    for index in range(items.entity_count("tweet")):
        fields = items.item_fields_at("tweet", index)
        parent = fields["parent"]
        assert fields["pk"] == f"USER#{parent['_user_id']}" == parent["pk"]
        assert fields["sk"] == f"TWEET#{fields['created']}#{index}"
        assert fields["ordinal"] == f"{parent['index']}/{fields['child']}/{index}"
    assert items.item_fields_at("user", 4)["_user_id"] == 5 and items.item_fields_at("user", 4)["index"] == 4


def test_present_writes_a_sparse_attribute_in_about_its_share_of_items():
    items = TemplateItems(template({**USER, "count": 20_000}))
    share = sum("is_vip" in item for item in items.generate_items()) / 20_000
    assert 0.044 < share < 0.056


@pytest.mark.parametrize(
    "per_parent, low, high, mean",
    [({"uniform": {"min": 0, "max": 50}}, 0, 50, 25.0), ({"uniform": {"min": 3, "max": 5}}, 3, 5, 4.0), (20, 20, 20, 20.0), ({"zipfian": {"max": 50}}, 0, 50, None)],
)
def test_children_per_parent_stay_within_bounds_with_the_expected_mean(per_parent, low, high, mean):
    child = {"name": "child", "parent": "user", "per_parent": per_parent, "attributes": {"pk": "{parent.pk}", "sk": "C#{child}"}}
    items = TemplateItems(template({**USER, "count": 2000}, child))
    counts = Counter(item["pk"]["S"] for item in items.generate_items() if item["sk"]["S"].startswith("C#"))
    per_user = [counts.get(f"USER#{user}", 0) for user in range(1, 2001)]
    assert low <= min(per_user) and max(per_user) <= high
    if mean is not None:
        assert abs(statistics.mean(per_user) - mean) < 0.05 * max(mean, 1)
    else:  # zipfian: the fewest children are the most frequent, the mean far below uniform's
        assert Counter(per_user).most_common(1)[0][0] == 0 and statistics.mean(per_user) < 15
    assert items.entity_count("child") == sum(per_user)


def test_a_seed_gives_the_same_items_and_another_seed_other_items():
    def items(seed: int) -> list[dict]:
        return list(TemplateItems(template(USER, TWEET, seed=seed)).generate_items())

    assert items(7) == items(7)
    first, other = items(7), items(8)
    assert first != other
    assert [item["pk"] for item in first[:300]] == [item["pk"] for item in other[:300]]  # keys from sequences stay


def test_item_at_is_the_streamed_item_for_parents_children_and_grandchildren():
    reply = {"name": "reply", "parent": "tweet", "per_parent": {"uniform": {"min": 0, "max": 2}}, "attributes": {"pk": "{parent.pk}", "sk": "{parent.sk}#R{child}", "by": {"uuid": {}}}}
    items = TemplateItems(template(USER, TWEET, reply))
    streamed = list(items.generate_items())
    assert len(streamed) == items.total_items()
    regenerated = [items.item_at(name, index) for name in items.entity_names() for index in range(items.entity_count(name))]
    assert regenerated == streamed
    assert items.item_at("tweet", items.entity_count("tweet")) is None and items.item_at("user", -1) is None
    assert items.item_fields_at("reply", 0)["parent"]["parent"]["_user_id"] >= 1


def test_size_kb_pads_every_item_to_the_size_and_too_small_a_size_names_the_entity():
    sized = {**USER, "count": 500, "size_kb": 1.0}
    sizes = [item_size(item) for item in TemplateItems(template(sized)).generate_items()]
    assert all(abs(size - KB) <= 0.02 * KB for size in sizes)
    assert "payload" in next(TemplateItems(template(sized)).generate_items())
    small = {**USER, "size_kb": 0.2}
    with pytest.raises(BadInput, match=r"dataset\.entities\[0\]\.size_kb: item 0 of entity 'user' is \d+ bytes before padding, more than size_kb 0.2 \(205 bytes\)"):
        next(TemplateItems(template(small)).generate_items())


def test_a_200k_item_stream_keeps_memory_flat():
    # Measured on this 2-core machine, without tracemalloc (which slows allocation ~6x): ~90,000 items/s
    # for the USER entity above (1,000,000 in ~11 s) and ~480,000 items/s for this two-attribute one.
    entity = {"name": "row", "count": 200_000, "attributes": {"pk": "R#{index}", "sk": "S"}}
    tracemalloc.start()
    held = list(TemplateItems(template({**entity, "count": 2000})).generate_items())
    holding_1_percent = tracemalloc.get_traced_memory()[0]
    del held
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    count = sum(1 for _ in TemplateItems(template(entity)).generate_items())
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    assert count == 200_000
    assert peak < holding_1_percent, f"streaming 200k items peaked at {peak} bytes; holding 2,000 of them costs {holding_1_percent}"


# ---- sources -----------------------------------------------------------------------------------


def employee_entities(count: int | None = 100, file: str = str(WORKSHOP_DATA / "employees.csv")) -> list[dict]:
    """The workshop's GSI-overloading design (exercise 4): four items per employees.csv row."""
    source = {"file": file, "format": "csv", "columns": EMPLOYEE_COLUMNS}
    common = {"employeeid": {"column": "employeeid", "type": "N"}}
    root = {
        **common, "colA": "master", "name": "{row.name}", "title": "{row.title}", "dept": "{row.dept}", "city": "{row.city}",
        "state": "{row.state}", "dob": "{row.dob}", "hire_date": "{row.hire_date}", "previous_title": "{row.previous_title}",
        "previous_title_end": "{row.previous_title_end}", "lock": "0", "is_manager": {"column": "is_manager", "present_if": "1"},
    }  # fmt: skip
    limit = {"count": count} if count is not None else {}
    return [
        {"name": "employee", "source": source, **limit, "attributes": root},
        {"name": "current_title", "source": source, **limit, "attributes": {**common, "colA": "current_title:{row.title}", "name": "{row.name}", "hire_date": "{row.hire_date}"}},
        {
            "name": "previous_title", "source": source, **limit, "when": "{row.previous_title}",
            "attributes": {**common, "colA": "previous_title:{row.previous_title}", "name": "{row.name}", "hire_date": "{row.hire_date}", "end_date": "{row.previous_title_end}"},
        },  # fmt: skip
        {
            "name": "location", "source": source, **limit,
            "attributes": {**common, "colA": "state:{row.state}", "name": "{row.name}", "state": "{row.state}", "city_dept": "{row.city}:{row.dept}", "hire_date": "{row.hire_date}"},
        },  # fmt: skip
    ]


def test_the_workshop_employee_design_makes_four_items_per_row():
    items = TemplateItems(template(*employee_entities(100)), required_attributes=("employeeid", "colA"))
    streamed = list(items.generate_items())
    assert items.total_items() == len(streamed) == 400  # every one of the first 100 rows has a previous title
    assert Counter(item["colA"]["S"].split(":")[0] for item in streamed) == {"master": 100, "current_title": 100, "previous_title": 100, "state": 100}
    first = items.item_at("employee", 0)
    assert first["employeeid"] == {"N": "1"} and first["name"] == {"S": "Onfroi Greeno"} and first["colA"] == {"S": "master"}
    assert "is_manager" not in first and items.item_at("employee", 1)["is_manager"] == {"S": "1"}
    assert sum("is_manager" in item for item in streamed) == 6
    assert items.item_at("location", 0)["city_dept"] == {"S": "Portland:Operation"}
    assert items.item_at("previous_title", 0)["colA"] == {"S": "previous_title:Application Support Analyst"}
    assert [items.item_at(name, index) for name in items.entity_names() for index in range(100)] == streamed


def test_when_skips_rows_and_item_at_follows_the_items_not_the_rows(tmp_path):
    rows = (WORKSHOP_DATA / "employees.csv").read_text().splitlines()[:6]
    rows[2] = ",".join(rows[2].split(",")[:8] + ["", ""])  # row 3 never had another title
    (tmp_path / "employees.csv").write_text("\n".join(rows) + "\n")
    items = TemplateItems(template(*employee_entities(None, file="employees.csv")), base_dir=tmp_path)
    assert [items.entity_count(name) for name in items.entity_names()] == [6, 6, 5, 6]
    previous = [items.item_at("previous_title", index)["employeeid"]["N"] for index in range(5)]
    assert previous == ["1", "2", "4", "5", "6"]
    assert [item["employeeid"]["N"] for item in items.generate_items() if item["colA"]["S"].startswith("previous_title:")] == previous


def test_headed_csv_and_json_lines_sources_stream_and_seek_alike(tmp_path):
    (tmp_path / "people.csv").write_text('id,name,note\n1,Ada,"two\nlines"\n\n2,Bo,plain\n3,Cy,"a, comma"\n')
    (tmp_path / "people.jsonl").write_text('{"id": 1, "name": "Ada"}\n\n{"id": 2, "name": "Bo", "score": 9.5}\n')
    people = {"name": "people", "source": {"file": "people.csv"}, "attributes": {"pk": "P#{row.id}", "sk": "{row.name}", "note": {"column": "note"}}}
    scored = {"name": "scored", "source": {"file": "people.jsonl", "format": "jsonl"}, "attributes": {"pk": "J#{row.id}", "sk": "x", "score": {"column": "score", "type": "N"}}}
    items = TemplateItems(template(people, scored), base_dir=tmp_path)
    streamed = list(items.generate_items())
    assert [item["pk"]["S"] for item in streamed] == ["P#1", "P#2", "P#3", "J#1", "J#2"]
    assert streamed[0]["note"] == {"S": "two\nlines"} and streamed[2]["note"] == {"S": "a, comma"}
    assert "score" not in streamed[3] and streamed[4]["score"] == {"N": "9.5"}
    assert [items.item_at(name, index) for name in ("people", "scored") for index in range(items.entity_count(name))] == streamed


def test_children_of_rows_read_the_parent_row():
    children = {"name": "review", "parent": "employee", "per_parent": 2, "attributes": {"employeeid": "{parent.row.employeeid}", "colA": "review#{child}"}}
    children["attributes"]["employeeid"] = {"format": "{parent.row.employeeid}", "type": "N"}
    items = TemplateItems(template(employee_entities(10)[0], children))
    assert items.entity_count("review") == 20
    assert items.item_at("review", 5) == {"employeeid": {"N": "3"}, "colA": {"S": "review#1"}}


def test_a_missing_source_file_is_named_before_anything_is_generated(tmp_path):
    with pytest.raises(BadInput, match=r"dataset\.entities\[0\]\.source\.file: cannot read .*nowhere\.csv"):
        TemplateItems(template(employee_entities(file="nowhere.csv")[0]), base_dir=tmp_path)


# ---- sizes -------------------------------------------------------------------------------------


def test_size_summary_streams_min_mean_p99_and_max():
    items = [{"pk": {"S": "x" * (size - 2)}} for size in range(2, 102)]  # 2..101 bytes: the name 'pk' is 2
    assert size_summary(iter(items)) == {"min_kb": round(2 / KB, 3), "mean_kb": round(51.5 / KB, 3), "p99_kb": round(100 / KB, 3), "max_kb": round(101 / KB, 3), "items": 100}
    assert SizeSummary().summary()["items"] == 0
    assert item_size({"pk": {"S": "abc"}, "n": {"N": "12345"}, "b": {"BOOL": True}}) == 5 + 5 + 2


# ---- the scenario: validation, loading -------------------------------------------------------------

SCENARIO = """\
name: social
tables:
  - name: social
    attributes: {{pk: S, sk: S, is_vip: S}}
    key: {{hash: pk, range: sk}}
    gsis: [{{name: vips, key: {{hash: is_vip, range: pk}}}}]
    dataset:
      model: template
      seed: 7
      entities:
{entities}
workload:
  mix: [{{task: parallel_scan, table: social}}]
"""
GOOD_ENTITIES = """\
- name: user
  count: 10
  attributes:
    _user_id: {sequence: {start: 1}}
    pk: "USER#{_user_id}"
    sk: PROFILE
    is_vip: {choice: {values: ["1"]}, present: 0.05}
- name: tweet
  parent: user
  per_parent: {uniform: {min: 0, max: 5}}
  attributes:
    pk: "USER#{parent._user_id}"
    _n: {sequence: {}}
    created: {datetime: {start: "2024-01-01", end: "2024-12-31"}}
    sk: "TWEET#{created}#{_n}"
"""


def scenario_text(entities: str) -> str:
    """The scenario with these entities (YAML list text) as its table's dataset."""
    return SCENARIO.format(entities=textwrap.indent(entities, " " * 8))


def test_a_good_scenario_loads_and_its_items_come_from_dataset_items(tmp_path):
    scenario = parse_scenario(scenario_text(GOOD_ENTITIES), source=tmp_path / "social.yaml")
    table = scenario.tables[0]
    assert table.dataset.attribute_types() == {"pk": "S", "sk": "S", "is_vip": "S", "created": "S"}  # is_vip: a sparse GSI key
    items, total = dataset_items(table)
    assert len(list(items)) == total == 10 + TemplateItems(table.dataset).entity_count("tweet")


def test_a_source_file_is_relative_to_the_scenario(tmp_path):
    entities = '- name: e\n  source: {file: ../data/people.csv}\n  attributes: {pk: "{row.id}", sk: x, is_vip: "1"}\n'
    scenario = parse_scenario(scenario_text(entities), source=tmp_path / "scenarios" / "s.yaml")
    assert scenario.tables[0].dataset.entities[0].source.file == str((tmp_path / "data" / "people.csv").resolve())


# Each bad dataset breaks one rule and gets exactly this one line (after the file name).
E = "tables[0].dataset.entities"
BAD_DATASETS = {
    "unknown_generator": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    n: {intger: {min: 0, max: 3}}"),
        f"{E}[0].attributes.n: expected one generator of constant, format, sequence, integer, decimal, choice, text, datetime, uuid, faker, column, map, list, found 'intger'",
    ),
    "two_generators": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    n: {integer: {max: 3}, uuid: {}}"),
        f"{E}[0].attributes.n: expected exactly one generator (constant, format, sequence, integer, decimal, choice, text, datetime, uuid, faker, column, map, list), found 2: integer, uuid",
    ),
    "integer_min_above_max": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    n: {integer: {min: 5, max: 3}}"),
        f"{E}[0].attributes.n.integer: expected min <= max, found min 5 > max 3",
    ),
    "text_min_above_max": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    bio: {text: {min: 50, max: 10}}"),
        f"{E}[0].attributes.bio.text: expected min <= max, found min 50 > max 10",
    ),
    "datetime_start_after_end": (
        GOOD_ENTITIES.replace('start: "2024-01-01", end: "2024-12-31"', 'start: "2025-01-01", end: "2024-12-31"'),
        f"{E}[1].attributes.created.datetime: expected start <= end, found start 2025-01-01 after end 2024-12-31",
    ),
    "weights_length": (
        GOOD_ENTITIES.replace('values: ["1"]', 'values: ["1"], weights: [1, 2]'),
        f"{E}[0].attributes.is_vip.choice: expected one weight per value (1), found 2 weights",
    ),
    "count_zero": (GOOD_ENTITIES.replace("count: 10", "count: 0"), f"{E}[0].count: input should be greater than or equal to 1, found 0"),
    "count_negative": (GOOD_ENTITIES.replace("count: 10", "count: -4"), f"{E}[0].count: input should be greater than or equal to 1, found -4"),
    "present_above_one": (
        GOOD_ENTITIES.replace("present: 0.05", "present: 5"),
        f"{E}[0].attributes.is_vip.present: input should be less than or equal to 1, found 5",
    ),
    "present_below_zero": (
        GOOD_ENTITIES.replace("present: 0.05", "present: -0.1"),
        f"{E}[0].attributes.is_vip.present: input should be greater than or equal to 0, found -0.1",
    ),
    "unknown_parent": (
        GOOD_ENTITIES.replace("parent: user", "parent: usr"),
        f"{E}[1].parent: expected the name of an entity (user, tweet), found 'usr'",
    ),
    "parent_cycle": (
        GOOD_ENTITIES.replace("count: 10", "parent: tweet\n  per_parent: 2"),
        f"{E}[0].parent: parents form a cycle: user -> tweet -> user, found 'tweet'",
    ),
    "row_without_source": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    city: '{row.city}'"),
        f"{E}[0].attributes.city: format string refers to 'row.city', which needs a source, and entity 'user' has none (row fields come from a source file), found '{{row.city}}'",
    ),
    "row_column_not_declared": (
        '- name: e\n  source: {file: e.csv, columns: [id, city]}\n  attributes: {pk: "e#{row.id}", sk: "{row.state}", is_vip: "1"}\n',
        f"{E}[0].attributes.sk: format string refers to 'row.state', which is not a column of the source (columns: id, city), found '{{row.state}}'",
    ),
    "column_not_declared": (
        '- name: e\n  source: {file: e.csv, columns: [id, city]}\n  attributes: {pk: "e#{row.id}", sk: x, salary: {column: salary, type: N}, is_vip: "1"}\n',
        f"{E}[0].attributes.salary: column 'salary' is not a column of the source (columns: id, city), found 'salary'",
    ),
    "when_reads_an_attribute": (
        '- name: e\n  source: {file: e.csv, columns: [id]}\n  when: "{pk}"\n  attributes: {pk: "e#{row.id}", sk: x, is_vip: "1"}\n',
        f"{E}[0].when: when refers to 'pk', but when reads only row fields (row.<column>), found '{{pk}}'",
    ),
    "undefined_attribute": (
        GOOD_ENTITIES.replace("TWEET#{created}#{_n}", "TWEET#{created2}#{_n}"),
        f"{E}[1].attributes.sk: format string refers to 'created2', which is not an attribute of entity 'tweet' (it has: pk, _n, created, sk, index, child, parent.<field>), found 'TWEET#{{created2}}#{{_n}}'",
    ),
    "later_attribute": (
        GOOD_ENTITIES.replace('pk: "USER#{_user_id}"', 'pk: "USER#{_user_id}#{sk}"'),
        f"{E}[0].attributes.pk: format string refers to 'sk', which is declared after 'pk' (attributes are evaluated in order: move 'sk' up), found 'USER#{{_user_id}}#{{sk}}'",
    ),
    "unknown_parent_field": (
        GOOD_ENTITIES.replace("USER#{parent._user_id}", "USER#{parent.user_id}"),
        f"{E}[1].attributes.pk: format string refers to 'parent.user_id', which is not a field of parent entity 'user' (it has: _user_id, pk, sk, is_vip, index), found 'USER#{{parent.user_id}}'",
    ),
    "parent_field_without_parent": (
        GOOD_ENTITIES.replace('pk: "USER#{_user_id}"', 'pk: "USER#{parent.x}"'),
        f"{E}[0].attributes.pk: format string refers to 'parent.x', but entity 'user' has no parent, found 'USER#{{parent.x}}'",
    ),
    "child_without_parent": (
        GOOD_ENTITIES.replace('pk: "USER#{_user_id}"', 'pk: "USER#{child}"'),
        f"{E}[0].attributes.pk: format string refers to 'child', the number of an item within its parent, but entity 'user' has no parent, found 'USER#{{child}}'",
    ),
    "malformed_format_string": (
        GOOD_ENTITIES.replace('pk: "USER#{_user_id}"', 'pk: "USER#{_user_id"'),
        f"{E}[0].attributes.pk: expected a format string (expected '}}' before end of string; write {{{{ and }}}} for literal braces), found 'USER#{{_user_id'",
    ),
    "conflicting_types": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    followers: 3").replace('    sk: "TWEET', '    followers: x\n    sk: "TWEET'),
        f"{E}[1].attributes.followers: expected type N, as entity 'user' writes 'followers' (an attribute has one type across entities), found S",
    ),
    "key_attribute_missing_from_an_entity": (
        GOOD_ENTITIES.replace('    sk: "TWEET#{created}#{_n}"\n', ""),
        f"{E}[1].attributes: entity 'tweet' does not write key attribute 'sk' (every item needs the table's keys)",
    ),
    "sparse_key_attribute": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: {constant: PROFILE, present: 0.5}"),
        f"{E}[0].attributes.sk: key attribute 'sk' may be absent from some items (present: 0.5); every item needs the table's keys",
    ),
    "key_type_differs_from_table": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: 1").replace('sk: "TWEET#{created}#{_n}"', "sk: {sequence: {}}"),
        "tables[0].attributes.sk: expected type N (as model 'template' writes it), found S",
    ),
    "size_on_a_template": (GOOD_ENTITIES, "tables[0].dataset.size: expected no size with model template (each entity has a count, a parent or a source), found 5"),
    "root_without_count": (GOOD_ENTITIES.replace("  count: 10\n", ""), f"{E}[0]: expected count (or parent with per_parent, or source), found none of them"),
    "parent_and_source": (
        GOOD_ENTITIES.replace("  parent: user\n", "  parent: user\n  source: {file: x.csv}\n"),
        f"{E}[1]: expected either parent or source, found both (an item comes from one parent item or one row)",
    ),
    "reserved_attribute_name": (
        GOOD_ENTITIES.replace("sk: PROFILE", "sk: PROFILE\n    index: 3"),
        f"{E}[0]: expected attribute names other than index, child, parent, row (they name item fields), found 'index'",
    ),
    "unknown_entity_key": (
        GOOD_ENTITIES.replace("count: 10", "count: 10\n  rows: 3"),
        f"{E}[0].rows: unknown key (allowed: name, count, parent, per_parent, source, when, attributes, size_kb, pad_attribute)",
    ),
    "choice_of_mixed_types": (
        GOOD_ENTITIES.replace('values: ["1"]', 'values: ["1", 2]'),
        f"{E}[0].attributes.is_vip.choice: expected values of one type (all strings, all numbers or all booleans), found N, S",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DATASETS))
def test_each_broken_rule_is_one_line_naming_its_field(case):
    entities, expected = BAD_DATASETS[case]
    text = scenario_text(entities)
    if case == "size_on_a_template":
        text = text.replace("      seed: 7\n", "      seed: 7\n      size: 5\n")
    with pytest.raises(BadInput) as caught:
        parse_scenario(text, source=Path("bad.yaml"))
    assert str(caught.value) == f"bad.yaml: {expected}"
    assert "\n" not in str(caught.value)


def test_rendering_only_the_fields_a_request_reads_gives_the_same_values():
    """A pick renders only what its request reads (and what that depends on): same values as the whole item."""
    table = load_scenario(SCENARIOS / "social.yaml").table("social")
    items = TemplateItems(table.dataset, required_attributes=table.key.names())
    wanted = {"user": frozenset({"pk", "sk"}), "tweet": frozenset({"pk", "sk", "tweet_id", "parent._user_id"})}
    for entity, only in wanted.items():
        count = items.entity_count(entity)
        for index in (0, 1, count // 2, count - 1):
            whole, part = items.item_fields_at(entity, index), items.item_fields_at(entity, index, only)
            assert {name: part[name] for name in only if "." not in name} == {name: whole[name] for name in only if "." not in name}
            assert set(part) - {"index", "child", "parent"} < set(whole)  # the other attributes were skipped
        made = count + 7  # an item made during a run
        whole, part = items.new_item(entity, made)[0], items.new_item(entity, made, only)[0]
        assert {name: part[name] for name in only if "." not in name} == {name: whole[name] for name in only if "." not in name}
    tweet = items.item_fields_at("tweet", 5, wanted["tweet"])
    assert tweet["parent"]["_user_id"] == items.item_fields_at("tweet", 5)["parent"]["_user_id"]
    assert "name" not in tweet["parent"]  # the parent's Faker name was never rendered
