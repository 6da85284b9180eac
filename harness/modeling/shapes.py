"""Attribute shapes learnt from sample items, written as the template dataset's generators.

One attribute's sample values (DynamoDB JSON) become one generator spec, in the YAML form a
scenario's `attributes:` takes: constants stay constants; `USER#alice#ORDER#2024-01-02` keeps its
constant parts and separators and gets a generator per varying part (an underscore attribute the
format string reads); numbers keep their range and decimals, dates their range and format, maps
their entries and lists their lengths; an attribute missing from some samples is written with
`present:` its share of them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

SEPARATORS = ("#", "|", "::", ":")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CODE = re.compile(r"^([A-Za-z]{0,8}[-_ ]?)(\d{1,18})$")  # digits, or a short code with them: 12345, p0001, SKU-17
EMAIL = re.compile(r"^[^@\s#|:]+@[^@\s#|:]+\.[A-Za-z]{2,}$")
EPOCH_RANGE = (946_684_800, 4_102_444_800)  # 2000-01-01 .. 2100-01-01: a number there named like a time is epoch seconds
TIME_WORDS = ("time", "date", "ttl", "expire", "expiry", "_at", "at_", "epoch", "ts", "created", "updated")
FAKER_BY_NAME = (
    ("email", "email"), ("first_name", "first_name"), ("firstname", "first_name"), ("last_name", "last_name"), ("lastname", "last_name"),
    ("username", "user_name"), ("user_name", "user_name"), ("fullname", "name"), ("full_name", "name"), ("name", "name"),
    ("phone", "phone_number"), ("street", "street_address"), ("address", "street_address"), ("city", "city"), ("country", "country"),
    ("state", "state"), ("zip", "postcode"), ("postcode", "postcode"), ("company", "company"), ("job", "job"), ("url", "url"),
)  # fmt: skip
"""Attribute-name fragments (lowercase) whose free text Faker writes better than filler words."""
SCALAR_TYPES = ("S", "N", "BOOL")
GENERATED_TYPES = ("S", "N", "BOOL", "M", "L")


@dataclass
class Shape:
    """One learnt attribute: its spec (YAML value), the underscore attributes it reads, and what the samples showed."""

    spec: object
    helpers: list[tuple[str, object]] = field(default_factory=list)
    dynamo_type: str = "S"
    prefix: str = ""
    """The constant text every value starts with (for begins_with), '' when none."""
    unique: bool = False
    """Every item gets its own value (a sequence over the item's index, or a uuid)."""
    separator: str | None = None
    """The separator between a composite string's parts (USER#..., a|b), None when it has none."""
    comment: str = ""


def learn(name: str, values: list[dict], identity: bool = False) -> Shape | None:
    """The shape of attribute `name` from its sample values (DynamoDB JSON); None when its type cannot be generated.

    `identity`: the attribute is part of the item's key, so a numeric part becomes a sequence (unique).
    """
    kinds = Counter(next(iter(value)) for value in values)
    kind = kinds.most_common(1)[0][0]
    plain = [value[kind] for value in values if kind in value]
    if kind == "S":
        return learn_string(name, plain, identity)
    if kind == "N":
        return _number(name, [Decimal(str(text)) for text in plain], identity)
    if kind == "BOOL":
        return _boolean(plain)
    if kind == "M":
        return _map(name, plain)
    if kind == "L":
        return _list(name, plain)
    return None


# ---- strings -----------------------------------------------------------------------------------


def learn_string(name: str, values: list[str], identity: bool = False, helper_prefix: str | None = None) -> Shape:
    """A string attribute: a constant, a whole-value generator, or a format string over per-part generators."""
    helper = "_" + re.sub(r"[^A-Za-z0-9_]", "_", helper_prefix or name)
    if len(set(values)) == 1:  # a constant; braces would make it a format string, so those are spelt out
        return Shape({"constant": values[0]} if "{" in values[0] or "}" in values[0] else values[0], prefix=values[0])
    token = _token(name, values, identity)
    if token is not None:
        spec, kind, width, lead = token
        if kind in ("uuid", "datetime"):
            return Shape(spec, unique=kind == "uuid")
        return _composite([(helper, spec, kind, width, lead)], None)
    separator = next((sep for sep in SEPARATORS if all(sep in value for value in values)), None)
    if separator is None:
        return Shape(_words(name, values))
    split = [value.split(separator) for value in values]
    if len({len(parts) for parts in split}) != 1:
        return _prefixed(name, values, separator, identity, helper)
    parts = []
    for position, column in enumerate(zip(*split, strict=True)):
        if len(set(column)) == 1:
            parts.append(column[0])
            continue
        token_name = f"{helper}_{position}" if len(split[0]) > 2 else helper
        spec, kind, width, lead = _token(name, list(column), identity) or (_words(name, list(column), identity), "text", None, "")
        parts.append((token_name, spec, kind, width, lead))
    return _composite(parts, separator)


def _composite(parts: list, separator: str | None) -> Shape:
    """A format string over helper attributes: literal parts kept, one helper per varying part."""
    texts, prefix, literal = [], "", True
    for part in parts:
        if isinstance(part, str):
            texts.append(_escape(part))
            prefix += part + (separator or "") if literal else ""
            continue
        token_name, _, _, width, lead = part
        texts.append(_escape(lead) + "{" + token_name + (f":0{width}d" if width else "") + "}")
        prefix += lead if literal else ""
        literal = False
    helpers = [(part[0], part[1]) for part in parts if not isinstance(part, str)]
    unique = any(part[2] in ("sequence", "uuid") for part in parts if not isinstance(part, str))
    return Shape((separator or "").join(texts), helpers=helpers, prefix=prefix, unique=unique, separator=separator)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _prefixed(name: str, values: list[str], separator: str, identity: bool, helper: str) -> Shape:
    """Values with different numbers of parts: keep the longest common prefix ending at a separator, learn the rest as one part."""
    common = values[0]
    for value in values[1:]:
        while not value.startswith(common):
            common = common[:-1]
    cut = common.rfind(separator)
    prefix = common[: cut + len(separator)] if cut >= 0 else ""
    rests = [value[len(prefix) :] for value in values]
    spec, kind, width, lead = _token(name, rests, identity) or (_words(name, rests, identity), "text", None, "")
    return _composite([(helper, spec, kind, width, prefix + lead)], None)


def _token(name: str, values: list[str], identity: bool) -> tuple[object, str, int | None, str] | None:
    """(spec, kind, zero-padded width, constant lead) of a part that is a uuid, a date, digits or a code like p0001; None otherwise."""
    if all(UUID.match(value) for value in values):
        return {"uuid": {}}, "uuid", None, ""
    if all(ISO_DATE.match(value) for value in values):
        return {"datetime": {"start": min(values), "end": max(values), "format": "date"}}, "datetime", None, ""
    if all(ISO_DATETIME.match(value) for value in values):
        moments = sorted(_instant(value) for value in values)
        return {"datetime": {"start": moments[0], "end": moments[-1], "format": "iso"}}, "datetime", None, ""
    codes = [CODE.match(value) for value in values]
    if not all(codes) or len({code.group(1) for code in codes}) != 1:
        return None
    lead, digits = codes[0].group(1), [code.group(2) for code in codes]
    numbers = [int(text) for text in digits]
    padded = len({len(text) for text in digits}) == 1 and any(len(text) > 1 and text.startswith("0") for text in digits)
    width = len(digits[0]) if padded else None
    if identity:
        return {"sequence": {"start": min(numbers)}}, "sequence", width, lead
    return {"integer": {"min": min(numbers), "max": max(numbers)}}, "integer", width, lead


def _words(name: str, values: list[str], identity: bool = False) -> object:
    """A part that is words: a few short repeated values as a choice, an email, a user name in a key, else free text."""
    counts = Counter(values)
    if identity and len(counts) == len(values) and all(re.fullmatch(r"[a-z][a-z0-9._]{0,30}", value) for value in values):
        return {"faker": "user_name"}
    short = all(len(value) <= 32 for value in values)
    if short and (len(counts) < len(values) or (len(values) >= 3 and all(value.isupper() and value.replace("_", "").isalpha() for value in values))):
        return _choice(counts)
    if all(EMAIL.match(value) for value in values):
        return {"faker": "email"}
    return _free_text(name, values)


def _free_text(name: str, values: list[str]) -> object:
    """Free text: Faker when the attribute's name says what it is (email, city, name...), else filler of the samples' lengths."""
    lowered = name.lower()
    provider = next((provider for fragment, provider in FAKER_BY_NAME if fragment in lowered), None)
    if provider is not None and all(len(value) <= 80 for value in values):
        return {"faker": provider}
    lengths = [len(value.encode()) for value in values]
    return {"text": {"min": min(lengths), "max": max(lengths)}} if min(lengths) != max(lengths) else {"text": {"length": lengths[0]}}


def _choice(counts: Counter) -> dict:
    values = [value for value, _ in counts.most_common()]
    weights = [count for _, count in counts.most_common()]
    return {"choice": {"values": values}} if len(set(weights)) == 1 else {"choice": {"values": values, "weights": weights}}


def _instant(text: str) -> str:
    """An ISO date-time as UTC text without fractions (the datetime generator's own format)."""
    moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- numbers, booleans, maps and lists ---------------------------------------------------------


def _number(name: str, numbers: list[Decimal], identity: bool) -> Shape:
    if len(set(numbers)) == 1:
        number = numbers[0]
        return Shape(int(number) if number == number.to_integral_value() else float(number), dynamo_type="N")
    whole = all(number == number.to_integral_value() for number in numbers)
    low, high = min(numbers), max(numbers)
    if whole and identity:
        return Shape({"sequence": {"start": int(low)}}, dynamo_type="N", unique=True)
    if whole and EPOCH_RANGE[0] <= low and high <= EPOCH_RANGE[1] and any(word in name.lower() for word in TIME_WORDS):
        start, end = (datetime.fromtimestamp(int(bound), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for bound in (low, high))
        return Shape({"datetime": {"start": start, "end": end, "format": "epoch"}}, dynamo_type="N")
    if whole:
        return Shape({"integer": {"min": int(low), "max": int(high)}}, dynamo_type="N")
    digits = max(-number.normalize().as_tuple().exponent for number in numbers)
    return Shape({"decimal": {"min": float(low), "max": float(high), "digits": max(digits, 0)}}, dynamo_type="N")


def _boolean(values: list[bool]) -> Shape:
    counts = Counter(bool(value) for value in values)
    if len(counts) == 1:
        return Shape(values[0], dynamo_type="BOOL")
    return Shape({"choice": {"values": [True, False], "weights": [counts[True], counts[False]]}}, dynamo_type="BOOL")


def _map(name: str, maps: list[dict]) -> Shape:
    """Each entry learnt from the maps that have it; an entry some maps lack is written with `present`."""
    entries, skipped = {}, []
    keys = list(dict.fromkeys(key for value in maps for key in value))
    for key in keys:
        values = [value[key] for value in maps if key in value]
        shape = learn(key, values)
        if shape is None or shape.helpers:
            shape = _flat(key, values)
        if shape is None:
            skipped.append(key)
            continue
        entries[key] = with_presence(shape.spec, len(values) / len(maps))
    comment = f"not generated (type not supported in maps): {', '.join(skipped)}" if skipped else ""
    return Shape({"map": entries}, dynamo_type="M", comment=comment)


def _list(name: str, lists: list[list]) -> Shape:
    """The elements learnt together (the most common type), the length from the samples' shortest to longest."""
    lengths = [len(value) for value in lists]
    elements = [element for value in lists for element in value]
    shape = (learn(name, elements) if elements else None) or Shape({"text": {"min": 4, "max": 16}})
    if shape.helpers:
        shape = _flat(name, elements) or Shape({"text": {"min": 4, "max": 16}})
    length = {"length": lengths[0]} if min(lengths) == max(lengths) else {"min": min(lengths), "max": max(lengths)}
    return Shape({"list": {"item": shape.spec, **length}}, dynamo_type="L")


def _flat(name: str, values: list[dict]) -> Shape | None:
    """A nested value, which cannot read helper attributes: a whole-value generator, or the samples' values as a choice."""
    kind = Counter(next(iter(value)) for value in values).most_common(1)[0][0]
    if kind != "S":
        return learn(name, values)
    texts = [value["S"] for value in values if "S" in value]
    token = _token(name, texts, False)
    if token is not None and token[1] in ("uuid", "datetime"):
        return Shape(token[0])
    return Shape(_choice(Counter(texts)) if all(len(text) <= 32 for text in texts) else _free_text(name, texts))


def with_presence(spec: object, share: float) -> object:
    """The spec written in its long form with `present: share` when some items lack the attribute."""
    if share >= 0.995:
        return spec
    share = round(max(share, 0.01), 2)
    if isinstance(spec, dict):
        return {**spec, "present": share}
    if isinstance(spec, str) and ("{" in spec or "}" in spec):
        return {"format": spec, "present": share}
    return {"constant": spec, "present": share}


# ---- from a type alone (no sample has the attribute) ---------------------------------------------


def from_type(name: str, kind: str) -> Shape | None:
    """A generic generator for a declared type (a CloudFormation template has types, no items); None for B, sets, NULL."""
    if kind == "S":
        return Shape(_free_text(name, ["x" * 8, "x" * 24]))
    if kind == "N":
        return Shape({"integer": {"min": 0, "max": 1000}}, dynamo_type="N")
    if kind == "BOOL":
        return Shape({"choice": {"values": [True, False]}}, dynamo_type="BOOL")
    if kind == "M":
        return Shape({"map": {"value": {"text": {"min": 4, "max": 16}}}}, dynamo_type="M")
    if kind == "L":
        return Shape({"list": {"item": {"text": {"min": 4, "max": 16}}, "min": 0, "max": 3}}, dynamo_type="L")
    return None
