"""harness.scenario.expressions: placeholders DynamoDB would reject, key attributes, PartiQL parameters."""

from __future__ import annotations

from harness.scenario.expressions import (
    check_placeholders,
    key_condition_attributes,
    partiql_parameter_count,
    placeholders,
    reserved_names,
    reserved_words,
)


def test_placeholders_inside_functions_and_arithmetic():
    assert placeholders("#pk = :pk AND begins_with(#sk, :p)") == ({"#pk", "#sk"}, {":pk", ":p"})
    assert placeholders("SET #a = #a + :one, updated_at = :now_2") == ({"#a"}, {":one", ":now_2"})
    assert placeholders("attribute_not_exists(#lock)") == ({"#lock"}, set())
    assert placeholders("a.b[0], c") == (set(), set())


def test_check_placeholders_names_the_first_problem():
    condition = {"condition": "attribute_not_exists(#lock) OR #st = :s"}
    assert check_placeholders(condition, {"#lock": "lock", "#st": "status"}, {":s": {"S": "x"}}) is None
    assert (
        check_placeholders(condition, {"#lock": "lock", "#n": "n"}, {":s": {"S": "x"}})
        == "ExpressionAttributeNames: '#st' is used in condition but not defined (defined: #lock, #n)"
    )
    assert (
        check_placeholders({"update": "SET #a = #a + :one", "condition": None}, {"#a": "n"}, {":one": {"N": "1"}, ":x": {"N": "2"}})
        == "ExpressionAttributeValues: ':x' is defined but no expression uses it"
    )
    assert (
        check_placeholders({"key_condition": "pk = :pk", "filter": "#n > :min"}, None, {":pk": {"S": "p"}})
        == "ExpressionAttributeNames: '#n' is used in filter but not defined (defined: none)"
    )
    assert check_placeholders({"projection": "sk"}, {"#unused": "x"}, None) == "ExpressionAttributeNames: '#unused' is defined but no expression uses it"


def test_key_condition_attributes_resolve_names():
    names = {"#pk": "pk", "#sk": "sort key"}
    assert key_condition_attributes("#pk = :pk AND begins_with(#sk, :p)", names) == ["pk", "sort key"]
    assert key_condition_attributes("gsi1pk=:v AND gsi1sk BETWEEN :a AND :b", None) == ["gsi1pk", "gsi1sk"]
    assert key_condition_attributes("pk = :pk AND sk <= :pk_max", None) == ["pk", "sk"]


def test_partiql_parameters_outside_quoted_strings():
    assert partiql_parameter_count('SELECT * FROM "t" WHERE pk = ? AND sk > ?') == 2
    assert partiql_parameter_count("SELECT * FROM \"t\" WHERE pk = ? AND note = 'it''s ?'") == 1
    assert partiql_parameter_count("INSERT INTO \"t\" VALUE {'pk': ?, 'sk': ?, 'q': '?'}") == 2
    assert partiql_parameter_count('SELECT * FROM "t"') == 0


def test_reserved_words_written_bare_are_found_and_aliases_or_functions_are_not():
    assert len(reserved_words()) == 573  # DynamoDB's list, as moto ships it
    assert reserved_names("ADD reads :one") == ["reads"]
    assert reserved_names("SET a.name = :v REMOVE status, #status") == ["name", "status"]
    assert reserved_names("#bucket = :b AND ycsb_key >= :start") == []
    assert reserved_names("attribute_not_exists(pk) AND size(#a) > :n") == []  # functions and grammar words
    assert reserved_names("SET followers = followers + :one") == []
