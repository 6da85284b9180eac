"""The value language: one attribute spec (harness.scenario.template.ValueSpec) compiled to a fast Value.

`value.render(fields, draw)` gives a Python value (str, int, Decimal, float, bool) or MISSING, from
two inputs only: `fields`, the values already known (an item's earlier attributes, `index`,
`child`, `parent` and `row` as nested dicts), and `draw`, a 64-bit integer the caller derives from
whatever makes the value repeatable (a dataset hashes seed, entity, item index and attribute
number; a workload may use its user's random generator). Nothing here keeps state between calls,
so the same (fields, draw) always renders the same value: the NoSQLBench idea of bindings that are
pure functions of the cycle.

`wire(value, dynamo_type)` turns a rendered value into DynamoDB's wire format.
"""

from __future__ import annotations

import functools
import random
import re
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate
from operator import itemgetter
from typing import Any

from pydantic import ValidationError

from harness.errors import BadInput
from harness.scenario.template import ValueSpec, format_fields

UINT64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_TO_UNIT = 2.0**-53
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class _Missing:
    """The value of an attribute an item does not carry (sparse, or a row without the column)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


def mix64(number: int) -> int:
    """splitmix64: a 64-bit hash of `number` in which every input bit reaches every output bit.

    It is a bijection on 64-bit integers, so distinct inputs give distinct draws.
    """
    number = (number + _GOLDEN) & UINT64
    number = ((number ^ (number >> 30)) * 0xBF58476D1CE4E5B9) & UINT64
    number = ((number ^ (number >> 27)) * 0x94D049BB133111EB) & UINT64
    return number ^ (number >> 31)


def unit_interval(draw: int) -> float:
    """A float in [0, 1) from the top 53 bits of a 64-bit draw."""
    return (draw >> 11) * _TO_UNIT


def wire(value: object, dynamo_type: str | None) -> dict:
    """A rendered value in DynamoDB wire format: {"S": ...}, {"N": ...} or {"BOOL": ...}.

    With no type, Python's type decides (bool -> BOOL, numbers -> N, anything else -> S).
    """
    if dynamo_type is None:
        dynamo_type = "BOOL" if isinstance(value, bool) else "N" if isinstance(value, (int, float, Decimal)) else "S"
    if dynamo_type == "BOOL":
        return {"BOOL": bool(value)}
    return {dynamo_type: value if isinstance(value, str) else str(value)}


class Value:
    """A compiled value: render(fields, draw) -> Python value or MISSING.

    dynamo_type: S, N or BOOL, or None when only the rendered value can tell.
    references: the field names it reads, dotted for nested fields ("_user_id", "parent._user_id", "row.state").
    needs_draw: False when `draw` is ignored (constants, format strings, sequences, columns): callers may pass 0.
    """

    __slots__ = ("dynamo_type", "references", "needs_draw")

    def __init__(self, dynamo_type: str | None, references: frozenset[str] = frozenset(), needs_draw: bool = False):
        self.dynamo_type = dynamo_type
        self.references = references
        self.needs_draw = needs_draw

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """The value for these fields and this 64-bit draw, or MISSING."""
        raise NotImplementedError


def compile_value(spec: ValueSpec | object, path: str = "value") -> Value:
    """A Value for an attribute spec: a ValueSpec, or the YAML it is written as ("USER#{_user_id}", 3, {integer: ...}).

    `path` names the spec in errors (BadInput), which are raised here when the spec is malformed or
    cannot work (an unknown Faker provider), and at render time when a value does not fit its type.
    """
    if not isinstance(spec, ValueSpec):
        try:
            spec = ValueSpec.model_validate(spec)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
            raise BadInput(f"{path}{where}: {error['msg'].removeprefix('Value error, ')}") from None
    value = _COMPILERS[spec.generator](spec, path)
    return value if spec.present >= 1 else Sparse(value, spec.present)


# ---- generators ------------------------------------------------------------------------------


class Constant(Value):
    """The same value for every item."""

    __slots__ = ("value",)

    def __init__(self, value: object, dynamo_type: str):
        super().__init__(dynamo_type)
        self.value = value

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """The constant."""
        return self.value


class FormatString(Value):
    """Python format-string text over fields: "USER#{_user_id}", "{_user_id:08d}", "{row.state}#{row.city}"."""

    __slots__ = ("path", "_pattern", "_arguments", "_number")

    def __init__(self, text: str, dynamo_type: str, path: str):
        parts = format_fields(text)
        names = list(dict.fromkeys(name for _, name, _, _ in parts if name is not None))
        super().__init__(dynamo_type, frozenset(names))
        self.path = path
        self._pattern = "".join(_positional(literal, name, conversion, spec, names) for literal, name, conversion, spec in parts)
        self._arguments = _argument_getter(names)
        self._number = dynamo_type == "N"

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """The text with every field filled in; MISSING when a field it reads is absent."""
        try:
            text = self._pattern.format(*self._arguments(fields))
        except KeyError:
            return MISSING
        if self._number and not NUMBER.match(text):
            raise BadInput(f"{self.path}: expected a number (type N), found {text!r}")
        return text


def _positional(literal: str, name: str | None, conversion: str | None, spec: str, names: list[str]) -> str:
    """One part of the format string rewritten with a positional field, so dotted names need no attribute access."""
    text = literal.replace("{", "{{").replace("}", "}}")
    if name is None:
        return text
    return text + "{" + str(names.index(name)) + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


def _argument_getter(names: list[str]) -> Callable[[Mapping[str, Any]], tuple]:
    """A function returning the values of `names` from fields, as a tuple; KeyError when one is absent."""
    if not names:
        return lambda fields: ()
    if all("." not in name for name in names):
        if len(names) == 1:
            only = names[0]
            return lambda fields: (fields[only],)
        return itemgetter(*names)
    paths = [tuple(name.split(".")) for name in names]
    return lambda fields: tuple(_lookup(fields, path) for path in paths)


def _lookup(fields: Mapping[str, Any], path: tuple[str, ...]) -> object:
    for part in path:
        fields = fields[part]
    return fields


class Sequence(Value):
    """start + step * index: the item's entity-wide number, scaled."""

    __slots__ = ("start", "step")

    def __init__(self, start: int, step: int):
        super().__init__("N", frozenset({"index"}))
        self.start, self.step = start, step

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """start + step * fields["index"]."""
        return self.start + self.step * fields["index"]


class Integer(Value):
    """A whole number drawn uniformly from low..high, both included."""

    __slots__ = ("low", "span")

    def __init__(self, low: int, high: int):
        super().__init__("N", needs_draw=True)
        self.low, self.span = low, high - low + 1

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """low + draw mod the range's width (the bias of 64 bits over any sane range is negligible)."""
        return self.low + draw % self.span


class DecimalNumber(Value):
    """A Decimal drawn uniformly from low..high with a fixed number of decimal places."""

    __slots__ = ("low", "span", "digits")

    def __init__(self, low: float, high: float, digits: int):
        super().__init__("N", needs_draw=True)
        scale = 10**digits
        self.low = round(Decimal(str(low)) * scale)
        self.span = round(Decimal(str(high)) * scale) - self.low + 1
        self.digits = -digits

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """Whole units of 10**-digits, as a Decimal that prints with exactly `digits` places."""
        return Decimal(self.low + draw % self.span).scaleb(self.digits)


class Choice(Value):
    """One of the values, uniformly or in proportion to weights."""

    __slots__ = ("values", "bounds", "total")

    def __init__(self, values: tuple, weights: tuple[float, ...] | None, dynamo_type: str):
        super().__init__(dynamo_type, needs_draw=True)
        self.values = values
        self.bounds = list(accumulate(weights)) if weights else None
        self.total = self.bounds[-1] if weights else len(values)

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """A value picked by the draw."""
        if self.bounds is None:
            return self.values[draw % self.total]
        # Zero-weight values own empty intervals and are never picked; min() guards the float edge.
        return self.values[min(bisect_right(self.bounds, unit_interval(draw) * self.total), len(self.values) - 1)]


class Text(Value):
    """Filler text: a slice of a long shared run of words, its start and length taken from the draw."""

    __slots__ = ("shortest", "lengths")

    def __init__(self, shortest: int, longest: int):
        super().__init__("S", needs_draw=True)
        self.shortest, self.lengths = shortest, longest - shortest + 1

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """Exactly the drawn number of characters, starting at a word."""
        length = self.shortest + draw % self.lengths
        text, starts = _text_pool()
        usable = bisect_right(starts, len(text) - length)
        start = starts[(draw >> 20) % usable]
        return text[start : start + length]


# Words of the filler text: plain, ASCII (1 byte a character, so sizes are easy to reason about).
_WORDS = (
    "time year people way day man thing woman life child world school state family student group country problem hand "
    "part place case week company system program question work government number night point home water room mother "
    "area money story fact month lot right study book eye job word business issue side kind head house service friend "
    "father power hour game line end member law car city community name president team minute idea kid body "
    "information back parent face others level office door health person art war history party result change morning "
    "reason research girl guy moment air teacher force education table order river garden window summer winter "
    "bright quiet quick slow green blue early late small large open close simple clear warm cold"
).split()
_POOL_CHARACTERS = 1 << 19  # more than the longest text (400,000), so every length has many starts


@functools.cache
def _text_pool() -> tuple[str, array]:
    """The shared filler text and the offsets where its words start; built once per process, from a fixed seed."""
    rng = random.Random(20240101)
    words = []
    length = 0
    while length < _POOL_CHARACTERS:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)
    starts = array("q", [0])
    for word in words[:-1]:
        starts.append(starts[-1] + len(word) + 1)
    return text, starts


class Instant(Value):
    """A moment drawn uniformly between two epoch seconds: ISO-8601 text, epoch seconds or a date."""

    __slots__ = ("first", "span", "style")

    STYLES = {"iso": "%Y-%m-%dT%H:%M:%SZ", "date": "%Y-%m-%d"}

    def __init__(self, first: int, last: int, style: str):
        super().__init__("N" if style == "epoch" else "S", needs_draw=True)
        self.first, self.span, self.style = first, last - first + 1, self.STYLES.get(style)

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """2024-03-05T14:22:01Z, 1709648521 or 2024-03-05."""
        seconds = self.first + draw % self.span
        return seconds if self.style is None else time.strftime(self.style, time.gmtime(seconds))


class Uuid(Value):
    """A uuid4-shaped string made of the draw and a hash of it: repeatable, unlike uuid.uuid4()."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("S", needs_draw=True)

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx."""
        number = (draw << 64) | mix64(draw)
        number = (number & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant
        digits = f"{number:032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class FakerValue(Value):
    """A Faker provider's value (name, email, city...), Faker seeded from the draw for every value.

    One Faker generator per process serves every FakerValue: each render seeds it first, so values
    never depend on what rendered before. It runs with use_weighting=False (names and places drawn
    uniformly, not by real-world frequency): about 7x faster, and just as plausible to look at.
    """

    __slots__ = ("provider", "_method", "_random")

    def __init__(self, provider: str, path: str):
        super().__init__("S", needs_draw=True)
        generator = _faker()
        method = getattr(generator, provider, None) if not provider.startswith("_") else None
        if method is None or not any(hasattr(each, provider) for each in generator.get_providers()):
            raise BadInput(f"{path}.faker: expected a Faker provider (e.g. name, email, city, state_abbr, company, job), found {provider!r}")
        self.provider, self._method, self._random = provider, method, generator.random
        try:
            self.render({}, 0)
        except TypeError as exc:
            raise BadInput(f"{path}.faker: provider {provider!r} needs arguments, which templates cannot pass ({exc})") from None

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """The provider's value as text (dates in ISO-8601)."""
        self._random.seed(draw)
        value = self._method()
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


@functools.cache
def _faker() -> Any:
    """The process's one Faker generator (en_US), created on first use: importing Faker costs a quarter second."""
    from faker import Factory

    generator = Factory.create("en_US", use_weighting=False)
    generator.seed_instance(0)  # its own random.Random, never the global one
    return generator


class Column(Value):
    """A field of the source row: text (S), a number (N), or written only when it equals `present_if`."""

    __slots__ = ("name", "path", "present_if")

    def __init__(self, name: str, dynamo_type: str, present_if: str | None, path: str):
        super().__init__(dynamo_type, frozenset({f"row.{name}"}))
        self.name, self.path, self.present_if = name, path, present_if

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """The row's value as text; MISSING when the row lacks it, does not equal present_if, or is an empty number."""
        value = fields["row"].get(self.name, MISSING)
        if value is MISSING or value is None:
            return MISSING
        text = value if isinstance(value, str) else str(value)
        if self.present_if is not None and text != self.present_if:
            return MISSING
        if self.dynamo_type == "N":
            text = text.strip()
            if not text:
                return MISSING
            if not NUMBER.match(text):
                raise BadInput(f"{self.path}: expected a number in column {self.name!r} (type N), found {value!r}")
        return text


class MapValue(Value):
    """A map (M) of values, each entry drawn from its own hash of the draw; an absent entry is left out."""

    __slots__ = ("entries",)

    def __init__(self, entries: dict[str, Value]):
        references = frozenset(name for value in entries.values() for name in value.references)
        super().__init__("M", references, needs_draw=True)
        self.entries = tuple((name, value, mix64(position + 1)) for position, (name, value) in enumerate(entries.items()))

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """{entry: value} with numbers as Decimal, so the wire format follows the Python types."""
        rendered = {}
        for name, value, salt in self.entries:
            entry = value.render(fields, mix64(draw ^ salt))
            if entry is not MISSING:
                rendered[name] = _typed(entry, value.dynamo_type)
        return rendered


class ListValue(Value):
    """A list (L) of a drawn length, element k drawn from its own hash of the draw."""

    __slots__ = ("item", "shortest", "lengths")

    def __init__(self, item: Value, shortest: int, longest: int):
        super().__init__("L", item.references, needs_draw=True)
        self.item, self.shortest, self.lengths = item, shortest, longest - shortest + 1

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """[element, ...] with numbers as Decimal."""
        length = self.shortest + draw % self.lengths
        return [_typed(self.item.render(fields, mix64(draw ^ mix64(k + 1))), self.item.dynamo_type) for k in range(length)]


def _typed(value: object, dynamo_type: str | None) -> object:
    """A nested value whose Python type says its DynamoDB type (a format string typed N renders text)."""
    return Decimal(value) if dynamo_type == "N" and isinstance(value, str) else value


def nested_wire(value: object) -> dict:
    """A rendered map or list element in DynamoDB wire format, its type read from the Python type."""
    if isinstance(value, dict):
        return {"M": {name: nested_wire(entry) for name, entry in value.items()}}
    if isinstance(value, list):
        return {"L": [nested_wire(entry) for entry in value]}
    return wire(value, None)


class Sparse(Value):
    """Another value, present in a `present` share of renders: the attribute of a sparse index."""

    __slots__ = ("inner", "present")

    def __init__(self, inner: Value, present: float):
        super().__init__(inner.dynamo_type, inner.references, needs_draw=True)
        self.inner, self.present = inner, present

    def render(self, fields: Mapping[str, Any], draw: int) -> object:
        """MISSING, or the inner value rendered with a fresh hash of the draw (so presence and value are independent)."""
        if unit_interval(draw) >= self.present:
            return MISSING
        return self.inner.render(fields, mix64(draw))


_COMPILERS: dict[str, Callable[[ValueSpec, str], Value]] = {
    "constant": lambda spec, path: Constant(spec.constant, spec.dynamo_type()),
    "format": lambda spec, path: FormatString(spec.format, spec.dynamo_type(), path),
    "sequence": lambda spec, path: Sequence(spec.sequence.start, spec.sequence.step),
    "integer": lambda spec, path: Integer(spec.integer.min, spec.integer.max),
    "decimal": lambda spec, path: DecimalNumber(spec.decimal.min, spec.decimal.max, spec.decimal.digits),
    "choice": lambda spec, path: Choice(spec.choice.values, spec.choice.weights, spec.dynamo_type()),
    "text": lambda spec, path: Text(*spec.text.bounds()),
    "datetime": lambda spec, path: Instant(*spec.datetime.bounds(), spec.datetime.format),
    "uuid": lambda spec, path: Uuid(),
    "faker": lambda spec, path: FakerValue(spec.faker, path),
    "column": lambda spec, path: Column(spec.column, spec.dynamo_type(), spec.present_if, path),
    "map": lambda spec, path: MapValue({name: compile_value(entry, f"{path}.map.{name}") for name, entry in spec.map.items()}),
    "list": lambda spec, path: ListValue(compile_value(spec.list.item, f"{path}.list.item"), *spec.list.bounds()),
}
