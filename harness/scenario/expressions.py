"""DynamoDB expression placeholders checked before a request is sent: the mistakes DynamoDB
answers with ValidationException (a `#name` or `:value` used but not defined, or defined but unused),
found while a scenario loads instead of on every request of a run. Pure: stdlib only.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

# A placeholder is # or : followed by letters, digits or underscores (DynamoDB's ExpressionAttribute* keys).
PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
# A KeyConditionExpression comparison: `name op`, `name BETWEEN` or `begins_with(name,`.
# The lookbehind keeps `pk` of a `:pk` value from reading as a name.
KEY_COMPARISON = re.compile(r"begins_with\s*\(\s*(#?[A-Za-z0-9_.]+)\s*,|(?<![\w:#])(#?[A-Za-z0-9_.]+)\s*(?:=|<=|>=|<|>|\bBETWEEN\b)", re.IGNORECASE)
PARTIQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\?")


def placeholders(expression: str) -> tuple[set[str], set[str]]:
    """The `#name` and the `:value` placeholders `expression` uses."""
    found = set(PLACEHOLDER.findall(expression or ""))
    return {token for token in found if token[0] == "#"}, {token for token in found if token[0] == ":"}


def check_placeholders(expressions: dict[str, str | None], names: dict | None, values: dict | None) -> str | None:
    """The first placeholder problem of a request as one line, or None.

    `expressions` maps a label (condition, update, key_condition, filter, projection) to the
    expression text; `names` and `values` are the request's ExpressionAttributeNames and Values.
    """
    used_names, used_values, where = set(), set(), {}
    for label, expression in expressions.items():
        named, valued = placeholders(expression or "")
        for token in sorted(named | valued):
            where.setdefault(token, label)
        used_names |= named
        used_values |= valued
    return _problem("ExpressionAttributeNames", used_names, set(names or {}), where) or _problem(
        "ExpressionAttributeValues", used_values, set(values or {}), where
    )


def _problem(field: str, used: set[str], defined: set[str], where: dict[str, str]) -> str | None:
    """A placeholder used but not defined, else one defined but unused (DynamoDB rejects both)."""
    for token in sorted(used - defined):
        known = ", ".join(sorted(defined)) or "none"
        return f"{field}: {token!r} is used in {where[token]} but not defined (defined: {known})"
    for token in sorted(defined - used):
        return f"{field}: {token!r} is defined but no expression uses it"
    return None


def key_condition_attributes(expression: str, names: dict | None) -> list[str]:
    """The attribute names a KeyConditionExpression compares, #placeholders resolved, in order of appearance."""
    attributes: list[str] = []
    for match in KEY_COMPARISON.finditer(expression or ""):
        token = match.group(1) or match.group(2)
        name = (names or {}).get(token, token)
        if name not in attributes:
            attributes.append(name)
    return attributes


def partiql_parameter_count(statement: str) -> int:
    """The number of `?` parameters in a PartiQL statement; a `?` inside a 'quoted string' ('' escapes ') is text."""
    return sum(1 for token in PARTIQL_TOKEN.findall(statement or "") if token == "?")


# Words of the expression grammar itself and its functions: they are reserved words, but not attribute names here.
GRAMMAR_WORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"})
IDENTIFIER = re.compile(r"(?<![#:\w])[A-Za-z_][A-Za-z0-9_]*(?!\s*\()")
# moto, a dependency, ships DynamoDB's reserved word list; its package is not imported to read it.
RESERVED_WORDS_FILE = ("dynamodb", "parsing", "reserved_keywords.txt")


@functools.cache
def reserved_words() -> frozenset[str]:
    """DynamoDB's reserved words (upper case), from the list moto ships; empty when it is not there."""
    spec = importlib.util.find_spec("moto")
    if spec is None or spec.origin is None:
        return frozenset()
    path = Path(spec.origin).parent.joinpath(*RESERVED_WORDS_FILE)
    try:
        return frozenset(word.upper() for word in path.read_text(encoding="utf-8").split())
    except OSError:
        return frozenset()


def reserved_names(expression: str) -> list[str]:
    """Attribute names an expression writes bare that DynamoDB reserves (they need a #name), in order."""
    found: list[str] = []
    for name in IDENTIFIER.findall(expression or ""):
        if name.upper() in reserved_words() and name.upper() not in GRAMMAR_WORDS and name not in found:
            found.append(name)
    return found
