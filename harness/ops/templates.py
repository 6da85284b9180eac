"""Request values from a step's templates: literals, format strings over bound fields, generators.

A template compiles once per process; rendering it per request costs a few dict look-ups and
string joins. Bound fields are a dict: the picked item's fields as the template dataset gives
them (`pk`, `_user_id`, `parent` and `row` nested), plus flat dotted names for the rest
(`acquire.owner`, `each.sk`, `run.user`). A format string that is one field and nothing else
(`"{_user_id}"`) keeps the field's type (a number stays N); any other format string is text (S).
Generators (`{integer: {min: 1, max: 9}}`) draw from the user's random source.
"""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any, Callable

from harness.datasets.values import compile_value
from harness.scenario.operation_checks import is_generator

Fields = dict[str, Any]
Render = Callable[[Fields], Any]
"""A compiled template: bound fields in, a plain Python value out (to_wire makes it DynamoDB's)."""


class MissingField(LookupError):
    """A template refers to a field the bindings do not hold (an earlier step returned no item)."""


def format_fields(text: str) -> list[str]:
    """The field names a format string refers to, in order (`"USER#{user_id}"` -> ['user_id'])."""
    return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]


def compile_template(value: Any, path: str = "") -> Render:
    """A renderer for one template value (nested maps and lists compile element by element)."""
    if isinstance(value, str):
        return _compile_text(value)
    if isinstance(value, dict) and is_generator(value):
        generated = compile_value(value, path)
        return lambda fields: generated.render(fields, fields[DRAW].getrandbits(64))
    if isinstance(value, dict):
        parts = {name: compile_template(item, f"{path}.{name}") for name, item in value.items()}
        return lambda fields: {name: render(fields) for name, render in parts.items()}
    if isinstance(value, (list, tuple)):
        elements = [compile_template(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return lambda fields: [render(fields) for render in elements]
    return lambda fields: value


DRAW = "run.draw"
"""The bound field holding the user's random.Random, which generators in request values draw from."""


def _compile_text(text: str) -> Render:
    parsed = list(string.Formatter().parse(text))
    if not any(field is not None for _, field, _, _ in parsed):
        return lambda fields: text
    if len(parsed) == 1 and parsed[0][0] == "" and not parsed[0][2] and not parsed[0][3]:
        name = parsed[0][1]
        return lambda fields: _lookup(fields, name)
    pieces = [(literal, field, spec) for literal, field, spec, _ in parsed]

    def render(fields: Fields) -> str:
        out = []
        for literal, field, spec in pieces:
            out.append(literal)
            if field is not None:
                out.append(format(_lookup(fields, field), spec or ""))
        return "".join(out)

    return render


def _lookup(fields: Fields, name: str) -> Any:
    """A flat field (`each.sk`), else a nested one (`parent._user_id` is fields['parent']['_user_id'])."""
    if name in fields:
        return fields[name]
    value: Any = fields
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            raise MissingField(name)
        value = value[part]
    return value


def to_wire(value: Any, kind: str | None = None) -> dict:
    """A plain value as a DynamoDB attribute value; `kind` (S, N, B) forces a key attribute's declared type."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in WIRE_TYPES:
        return value  # already wire format (an item or attribute returned by DynamoDB)
    if kind == "S":
        return {"S": str(value)}
    if kind == "N":
        return {"N": str(value)}
    if kind == "B":
        return {"B": value if isinstance(value, bytes) else str(value).encode()}
    return _wire_by_type(value)


WIRE_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


def _wire_by_type(value: Any) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {name: to_wire(item) for name, item in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_wire(item) for item in value]}
    return {"S": str(value)}


def from_wire(value: dict) -> Any:
    """A DynamoDB attribute value as a plain value (N as Decimal), for binding into later templates."""
    (kind, content), = value.items()
    if kind == "N":
        return Decimal(content)
    if kind == "M":
        return {name: from_wire(item) for name, item in content.items()}
    if kind == "L":
        return [from_wire(item) for item in content]
    if kind == "NULL":
        return None
    return content
