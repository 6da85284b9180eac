"""Item sizes by DynamoDB's rules, capacity units from sizes, partition keys of requests, PartiQL statements.

Used where DynamoDB Local does not say what a request cost before it runs (admission of a batch
item by item) or at all (PartiQL: Local returns no ConsumedCapacity for ExecuteStatement).
Values are in DynamoDB's wire JSON ({"S": "..."}, {"N": "12"}, ...).
"""

from __future__ import annotations

import base64
import math
import re
from decimal import Decimal, InvalidOperation

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
# A List or Map costs 3 bytes of its own, plus 1 byte per element.
CONTAINER_OVERHEAD = 3


def value_size(value: dict) -> int:
    """Bytes an attribute value counts for, by DynamoDB's item size rules."""
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return _binary_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(text.encode("utf-8")) for text in data)
    if kind == "NS":
        return sum(number_size(number) for number in data)
    if kind == "BS":
        return sum(_binary_size(blob) for blob in data)
    if kind == "L":
        return CONTAINER_OVERHEAD + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return CONTAINER_OVERHEAD + sum(1 + len(name.encode("utf-8")) + value_size(element) for name, element in data.items())
    return 0


def number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1."""
    digits = re.sub(r"[eE].*$", "", str(text)).lstrip("+-").replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def _binary_size(data: object) -> int:
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    try:
        return len(base64.b64decode(data))
    except (ValueError, TypeError):
        return len(str(data))


def item_size(item: dict, names: set[str] | frozenset[str] | tuple[str, ...] | None = None) -> int:
    """Bytes of an item (attribute names included), or of only the attributes in `names`."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items() if names is None or name in names)


def write_units(size: int) -> float:
    """Write capacity units for a write of `size` bytes: one per 1 KB, rounded up, at least one."""
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


def read_units(size: int, consistent: bool = False) -> float:
    """Read capacity units for `size` bytes read: one per 4 KB rounded up (half when eventually consistent)."""
    units = float(max(1, math.ceil(size / READ_UNIT_BYTES)))
    return units if consistent else units / 2


def key_of(value: dict | None) -> str | None:
    """A partition key value as a string that is equal for equal keys ('N:1' for 1, 1.0 and 1e0)."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    kind, data = next(iter(value.items()))
    if kind == "N":
        try:
            data = str(Decimal(data).normalize())
        except (InvalidOperation, TypeError):
            pass
    return f"{kind}:{data}"


# ---- expressions ----------------------------------------------------------------------------

_EQUALITY = re.compile(r"(#?[A-Za-z_][\w.\-]*|:[\w]+)\s*=\s*(#?[A-Za-z_][\w.\-]*|:[\w]+)")
_NAME = re.compile(r"#[\w]+|[A-Za-z_][\w]*")
_UPDATE_WORDS = {"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append", "size", "attribute_exists", "attribute_not_exists"}


def key_condition_value(request: dict, hash_key: str) -> dict | None:
    """The value a Query's key condition gives the partition key `hash_key` (KeyConditionExpression or KeyConditions)."""
    conditions = request.get("KeyConditions")
    if isinstance(conditions, dict) and hash_key in conditions:
        values = conditions[hash_key].get("AttributeValueList") or [None]
        return values[0]
    expression = request.get("KeyConditionExpression") or ""
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    for left, right in _EQUALITY.findall(expression):
        if left.startswith(":"):
            left, right = right, left
        if names.get(left, left) == hash_key and right.startswith(":"):
            return values.get(right)
    return None


def updated_attributes(request: dict) -> set[str]:
    """Attribute names an UpdateItem may change (from UpdateExpression or AttributeUpdates)."""
    if isinstance(request.get("AttributeUpdates"), dict):
        return set(request["AttributeUpdates"])
    names = request.get("ExpressionAttributeNames") or {}
    expression = re.sub(r":[\w]+", " ", request.get("UpdateExpression") or "")
    return {names.get(word, word) for word in _NAME.findall(expression) if word not in _UPDATE_WORDS}


# ---- PartiQL --------------------------------------------------------------------------------

_VERB = re.compile(r"^\s*(select|insert|update|delete|exists)\b", re.IGNORECASE)
_NAME_PART = r"""("(?:[^"]|"")+"|[A-Za-z0-9_\-]+)"""
_TARGET = {
    verb: re.compile(prefix + _NAME_PART + r"(?:\s*\.\s*" + _NAME_PART + ")?", re.IGNORECASE | re.DOTALL)
    for verb, prefix in {
        "SELECT": r"\bfrom\s+",
        "EXISTS": r"\bfrom\s+",
        "DELETE": r"\bfrom\s+",
        "INSERT": r"\binto\s+",
        "UPDATE": r"^\s*update\s+",
    }.items()
}
_WHERE_EQUALITY = re.compile(r"""("(?:[^"]|"")+"|[A-Za-z_][\w]*)\s*=\s*(\?|'(?:[^']|'')*'|-?[\d.]+(?:[eE][-+]?\d+)?)""")


def statement_target(statement: str) -> tuple[str, str | None, str | None]:
    """(verb, table, index) of a PartiQL statement: verb is SELECT, INSERT, UPDATE or DELETE; table None if unknown."""
    verb = _VERB.match(statement)
    if not verb:
        return "", None, None
    kind = verb[1].upper()
    target = _TARGET[kind].search(statement)
    kind = "SELECT" if kind == "EXISTS" else kind
    if not target:
        return kind, None, None
    return kind, _unquote(target[1]), _unquote(target[2]) if target[2] else None


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def inserted_item(statement: str, parameters: list[dict]) -> dict | None:
    """The item of `INSERT INTO t VALUE {...}` with `?` parameters filled in, or None when it cannot be read."""
    start = re.search(r"\bvalue\s*\{", statement, re.IGNORECASE)
    if not start:
        return None
    try:
        value, _ = _Literal(statement, start.end() - 1, parameters).parse()
    except (ValueError, IndexError):
        return None
    return value.get("M")


def where_value(statement: str, parameters: list[dict], attribute: str) -> dict | None:
    """The value `attribute = ...` takes in a statement's WHERE clause (a `?` parameter or a literal)."""
    where = re.search(r"\bwhere\b", statement, re.IGNORECASE)
    if not where:
        return None
    for match in _WHERE_EQUALITY.finditer(statement, where.end()):
        if _unquote(match[1]) != attribute:
            continue
        literal = match[2]
        if literal == "?":
            position = _parameters_before(statement, match.start(2))
            return parameters[position] if position < len(parameters) else None
        if literal.startswith("'"):
            return {"S": literal[1:-1].replace("''", "'")}
        return {"N": literal}
    return None


def _parameters_before(statement: str, end: int) -> int:
    """How many `?` placeholders come before `end`, not counting any inside quotes."""
    return sum(1 for token in re.findall(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?", statement[:end]) if token == "?")


class _Literal:
    """A small reader for PartiQL value literals: {'a': ?, 'b': 'x', 'c': 1, 'd': [..], 'e': <<..>>}."""

    def __init__(self, text: str, position: int, parameters: list[dict]):
        self.text, self.position, self.parameters, self.used = text, position, parameters, 0

    def parse(self) -> tuple[dict, int]:
        value = self._value()
        return value, self.position

    def _skip(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def _value(self) -> dict:
        self._skip()
        char = self.text[self.position]
        if char == "?":
            self.position += 1
            self.used += 1
            return self.parameters[self.used - 1]
        if char == "'":
            return {"S": self._string()}
        if char == "{":
            return {"M": self._map()}
        if char == "[":
            return {"L": self._sequence("[", "]")}
        if self.text.startswith("<<", self.position):
            return self._set(self._sequence("<<", ">>"))
        return self._word()

    def _string(self) -> str:
        match = re.compile(r"'((?:[^']|'')*)'").match(self.text, self.position)
        if not match:
            raise ValueError("unterminated string")
        self.position = match.end()
        return match[1].replace("''", "'")

    def _map(self) -> dict:
        self.position += 1
        result = {}
        while True:
            self._skip()
            if self.text[self.position] == "}":
                self.position += 1
                return result
            name = self._string()
            self._skip()
            if self.text[self.position] != ":":
                raise ValueError("expected ':'")
            self.position += 1
            result[name] = self._value()
            self._comma()

    def _sequence(self, opening: str, closing: str) -> list[dict]:
        self.position += len(opening)
        result = []
        while True:
            self._skip()
            if self.text.startswith(closing, self.position):
                self.position += len(closing)
                return result
            result.append(self._value())
            self._comma()

    def _comma(self) -> None:
        self._skip()
        if self.text[self.position] == ",":
            self.position += 1

    @staticmethod
    def _set(elements: list[dict]) -> dict:
        kinds = {next(iter(element)) for element in elements}
        kind = kinds.pop() if len(kinds) == 1 else "S"
        return {f"{kind}S": [next(iter(element.values())) for element in elements]}

    def _word(self) -> dict:
        match = re.compile(r"[^\s,}\]>]+").match(self.text, self.position)
        if not match:
            raise ValueError("expected a value")
        self.position = match.end()
        word = match[0]
        if word.upper() in ("TRUE", "FALSE"):
            return {"BOOL": word.upper() == "TRUE"}
        if word.upper() in ("NULL", "MISSING"):
            return {"NULL": True}
        return {"N": word}
