"""The `template` dataset model: the user's own items, described entity by entity in YAML.

An entity is a kind of item (user, tweet, employee...). Each attribute is one generator
(`{integer: {min: 0, max: 9}}`), a constant, or a format string ("USER#{_user_id}") over the
attributes declared before it, the parent item's fields (`parent.x`), the source row (`row.x`) and
the item's numbers (`index`, `child`). Names starting with `_` are computed but not written.

Only the shape is checked here; harness/datasets/template.py generates the items and reads sources.
"""

from __future__ import annotations

import string
from datetime import date, datetime, time, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import Field, StrictBool, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

from harness.scenario.base import FromList, Spec

GENERATORS = ("constant", "format", "sequence", "integer", "decimal", "choice", "text", "datetime", "uuid", "faker", "column", "map", "list")
"""The generator keys of an attribute spec, in the order the reference lists them."""
VALUE_OPTIONS = ("present", "type", "present_if")
"""Keys an attribute spec may carry beside its generator."""
ITEM_FIELDS = ("index", "child")
"""Numbers every item has as fields: its entity-wide index and (for children) its number within its parent."""
RESERVED_NAMES = ITEM_FIELDS + ("parent", "row")
MAX_TEXT_LENGTH = 400_000  # DynamoDB's item size limit: no longer text can be written
MAX_ITEM_KB = 400.0
MAX_LIST_LENGTH = 10_000
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"

Scalar = Union[StrictBool, int, float, str]


# ---- format strings --------------------------------------------------------------------------


def format_fields(text: str) -> list[tuple[str, str | None, str | None, str]]:
    """(literal text, field name, conversion, format spec) parts of a format string; ValueError when malformed.

    Field names are dotted paths (`_user_id`, `parent._user_id`, `row.state`); positional, indexed
    (`{row[0]}`) and nested (`{x:{width}}`) fields are refused so every field names a real value.
    """
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"expected a format string ({exc}; write {{{{ and }}}} for literal braces), found {text!r}") from None
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None:
            _check_field_name(name, spec or "")
        parts.append((literal, name, conversion, spec or ""))
    return parts


def _check_field_name(name: str, spec: str) -> None:
    if not name:
        raise ValueError("expected a field name in every {}, found an empty {} (write {{ and }} for literal braces)")
    if "[" in name or any(not part or part.isdigit() for part in name.split(".")):
        raise ValueError(f"expected a field name like {{_user_id}}, {{parent.x}} or {{row.x}}, found {{{name}}}")
    if "{" in spec:
        raise ValueError(f"expected a plain format spec after {name}:, found a nested field in {spec!r}")


def references(text: str) -> tuple[str, ...]:
    """The field names a format string reads, in order of first use."""
    return tuple(dict.fromkeys(name for _, name, _, _ in format_fields(text) if name is not None))


# ---- instants --------------------------------------------------------------------------------


def parse_instant(text: str, end_of_day: bool = False) -> int:
    """Epoch seconds of an ISO-8601 date or date-time (UTC unless it says otherwise).

    A bare date as the end of a range means its last second, so `end: 2024-12-31` includes that day.
    """
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime.combine(day, time(23, 59, 59) if end_of_day else time(0), tzinfo=timezone.utc)
    else:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _instant_text(value: object) -> object:
    """YAML reads an unquoted 2024-01-01 as a date: keep it as its ISO text."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


# ---- generator parameters ----------------------------------------------------------------------


class SequenceParams(Spec):
    """start + step * index: the item's entity-wide number, scaled (N)."""

    start: int = 0
    step: int = 1


class IntegerParams(Spec):
    """A whole number drawn uniformly from min..max, both included (N)."""

    min: int = 0
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> IntegerParams:
        if self.min > self.max:
            raise ValueError(f"expected min <= max, found min {self.min} > max {self.max}")
        return self


class DecimalParams(Spec):
    """A number drawn uniformly from min..max with `digits` decimal places (N)."""

    min: float = 0.0
    max: float
    digits: int = Field(2, ge=0, le=20)

    @model_validator(mode="after")
    def _ordered(self) -> DecimalParams:
        if self.min > self.max:
            raise ValueError(f"expected min <= max, found min {self.min:g} > max {self.max:g}")
        return self


class ChoiceParams(Spec):
    """One of `values`, uniformly or by `weights` (one per value); the values' type gives S, N or BOOL."""

    values: Annotated[tuple[Scalar, ...], FromList] = Field(min_length=1)
    weights: Annotated[tuple[float, ...], FromList] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChoiceParams:
        kinds = sorted({scalar_type(value) for value in self.values})
        if len(kinds) > 1:
            raise ValueError(f"expected values of one type (all strings, all numbers or all booleans), found {', '.join(kinds)}")
        if self.weights is None:
            return self
        if len(self.weights) != len(self.values):
            raise ValueError(f"expected one weight per value ({len(self.values)}), found {len(self.weights)} weights")
        if min(self.weights) < 0 or sum(self.weights) <= 0:
            raise ValueError(f"expected weights >= 0 with a positive sum, found {list(self.weights)}")
        return self


class TextParams(Spec):
    """Words of filler text: exactly `length` characters, or a length drawn from min..max (S)."""

    length: int | None = Field(None, ge=0, le=MAX_TEXT_LENGTH)
    min: int | None = Field(None, ge=0, le=MAX_TEXT_LENGTH)
    max: int | None = Field(None, ge=0, le=MAX_TEXT_LENGTH)

    @model_validator(mode="after")
    def _one_form(self) -> TextParams:
        ranged = self.min is not None or self.max is not None
        if (self.length is None) == (not ranged) or (ranged and (self.min is None or self.max is None)):
            raise ValueError(f"expected either length or both min and max, found {self.model_dump(exclude_none=True)}")
        if ranged and self.min > self.max:
            raise ValueError(f"expected min <= max, found min {self.min} > max {self.max}")
        return self

    def bounds(self) -> tuple[int, int]:
        """(shortest, longest) length, both included."""
        return (self.length, self.length) if self.length is not None else (self.min, self.max)


class DatetimeParams(Spec):
    """An instant drawn uniformly from start..end (UTC): iso text (S), epoch seconds (N) or a date (S)."""

    start: str
    end: str
    format: Literal["iso", "epoch", "date"] = "iso"

    @field_validator("start", "end", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return _instant_text(value)

    @model_validator(mode="after")
    def _ordered(self) -> DatetimeParams:
        for name in ("start", "end"):
            try:
                parse_instant(getattr(self, name))
            except ValueError:
                raise ValueError(f"expected {name} as an ISO-8601 date or date-time, found {getattr(self, name)!r}") from None
        if self.bounds()[0] > self.bounds()[1]:
            raise ValueError(f"expected start <= end, found start {self.start} after end {self.end}")
        return self

    def bounds(self) -> tuple[int, int]:
        """(first, last) epoch second, both included."""
        return parse_instant(self.start), parse_instant(self.end, end_of_day=True)


class UuidParams(Spec):
    """A uuid4-shaped string, drawn from the item's hash (S): the same item always gets the same one."""


class ListParams(Spec):
    """A list (L) of `min`..`max` elements (or exactly `length`), each drawn from the `item` spec."""

    item: ValueSpec
    length: int | None = Field(None, ge=0, le=MAX_LIST_LENGTH)
    min: int | None = Field(None, ge=0, le=MAX_LIST_LENGTH)
    max: int | None = Field(None, ge=0, le=MAX_LIST_LENGTH)

    @model_validator(mode="after")
    def _one_form(self) -> ListParams:
        ranged = self.min is not None or self.max is not None
        if (self.length is None) == (not ranged) or (ranged and (self.min is None or self.max is None)):
            raise ValueError(f"expected either length or both min and max, found {self.model_dump(exclude_none=True, exclude={'item'})}")
        if ranged and self.min > self.max:
            raise ValueError(f"expected min <= max, found min {self.min} > max {self.max}")
        if self.item.may_be_absent():
            raise ValueError("expected a list item that is always present (present and present_if are for attributes)")
        return self

    def bounds(self) -> tuple[int, int]:
        """(fewest, most) elements, both included."""
        return (self.length, self.length) if self.length is not None else (self.min, self.max)


def scalar_type(value: object) -> str:
    """The DynamoDB type of a YAML scalar: BOOL, N or S."""
    if isinstance(value, bool):
        return "BOOL"
    return "N" if isinstance(value, (int, float)) else "S"


# ---- one attribute -----------------------------------------------------------------------------


class ValueSpec(Spec):
    """One attribute: exactly one generator, plus how often it is written (`present`)."""

    constant: Scalar | None = None
    format: str | None = None
    sequence: SequenceParams | None = None
    integer: IntegerParams | None = None
    decimal: DecimalParams | None = None
    choice: ChoiceParams | None = None
    text: TextParams | None = None
    datetime: DatetimeParams | None = None
    uuid: UuidParams | None = None
    faker: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    """A Faker provider method taking no arguments: name, email, city, state_abbr, company, job..."""
    column: str | None = None
    """A field of the entity's source row, written as is (S) or as a number (`type: N`)."""
    map: dict[str, ValueSpec] | None = None
    """A map (M): one entry per key, each its own value spec (an entry with `present` < 1 may be left out)."""
    list: ListParams | None = None
    """A list (L) of generated elements."""
    present: float = Field(1.0, ge=0, le=1)
    """The probability that an item carries the attribute at all (a sparse GSI key); 1 = always."""
    type: Literal["S", "N"] | None = None
    """With column or format: the DynamoDB type the text is written as (default S)."""
    present_if: str | None = None
    """With column: written only when the row's value equals this text."""

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        """A scalar is a constant, a string with {field}s a format string; a mapping names one generator."""
        if isinstance(value, (bool, int, float)):
            return {"constant": value}
        if isinstance(value, str):
            return {"format": value} if "{" in value or "}" in value else {"constant": value}
        if not isinstance(value, dict):
            raise ValueError(f"expected a constant, a format string or {{generator: parameters}}, found {value!r}")
        chosen = [key for key in value if key not in VALUE_OPTIONS]
        unknown = [key for key in chosen if key not in GENERATORS]
        if unknown:
            raise ValueError(f"expected one generator of {', '.join(GENERATORS)}, found {unknown[0]!r}")
        if len(chosen) != 1:
            raise ValueError(f"expected exactly one generator ({', '.join(GENERATORS)}), found {len(chosen)}: {', '.join(chosen) or 'none'}")
        return value

    @model_validator(mode="after")
    def _options_fit(self) -> ValueSpec:
        if self.type is not None and self.generator not in ("column", "format"):
            raise ValueError(f"expected type only with column or format, found it with {self.generator}")
        if self.present_if is not None and self.generator != "column":
            raise ValueError(f"expected present_if only with column, found it with {self.generator}")
        if self.format is not None:
            format_fields(self.format)  # a malformed format string is a ValueError naming the problem
        return self

    @property
    def generator(self) -> str:
        """The name of the generator this spec uses."""
        return next(name for name in GENERATORS if getattr(self, name) is not None)

    @property
    def parameters(self) -> object:
        """The generator's parameters (a constant's value, a format string, a params object...)."""
        return getattr(self, self.generator)

    def dynamo_type(self) -> str:
        """The DynamoDB type the attribute is written as: S, N or BOOL."""
        kind = self.generator
        if kind == "constant":
            return scalar_type(self.constant)
        if kind == "choice":
            return scalar_type(self.choice.values[0])
        if kind in ("format", "column"):
            return self.type or "S"
        if kind == "datetime":
            return "N" if self.datetime.format == "epoch" else "S"
        if kind in ("map", "list"):
            return "M" if kind == "map" else "L"
        return "N" if kind in ("sequence", "integer", "decimal") else "S"

    def references(self) -> tuple[str, ...]:
        """The fields this value reads: a format string's fields, `row.<column>`, `index` for a sequence."""
        if self.format is not None:
            return references(self.format)
        if self.column is not None:
            return (f"row.{self.column}",)
        if self.map is not None:
            return tuple(dict.fromkeys(name for entry in self.map.values() for name in entry.references()))
        if self.list is not None:
            return self.list.item.references()
        return ("index",) if self.sequence is not None else ()

    def may_be_absent(self) -> bool:
        """True when some items may lack this attribute (present < 1 or present_if)."""
        return self.present < 1 or self.present_if is not None


ListParams.model_rebuild()
ValueSpec.model_rebuild()


# ---- entities ----------------------------------------------------------------------------------


class UniformCount(Spec):
    """A count drawn uniformly from min..max, both included."""

    min: int = Field(0, ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> UniformCount:
        if self.min > self.max:
            raise ValueError(f"expected min <= max, found min {self.min} > max {self.max}")
        return self


class ZipfianCount(UniformCount):
    """A count from min..max where min is the most frequent: P(min + r) ~ 1 / (r + 1) ** theta."""

    theta: float = Field(0.99, gt=0)


class PerParent(Spec):
    """How many children each parent item has: a constant, uniform or zipfian."""

    constant: int | None = Field(None, ge=0)
    uniform: UniformCount | None = None
    zipfian: ZipfianCount | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return {"constant": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _one_form(self) -> PerParent:
        chosen = [name for name in ("constant", "uniform", "zipfian") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(f"expected a count, {{uniform: {{min, max}}}} or {{zipfian: {{max}}}}, found {', '.join(chosen) or 'none'}")
        return self

    def bounds(self) -> tuple[int, int]:
        """(fewest, most) children of one parent."""
        if self.constant is not None:
            return self.constant, self.constant
        spread = self.uniform or self.zipfian
        return spread.min, spread.max


class SourceSpec(Spec):
    """A file whose rows feed an entity: one row, one item. Relative paths are from the scenario file."""

    file: str = Field(min_length=1)
    format: Literal["csv", "jsonl"] = "csv"
    columns: Annotated[tuple[str, ...], FromList] | None = None
    """The names of a header-less CSV's columns (then its first row is data); for jsonl, the keys templates may use."""

    @field_validator("columns")
    @classmethod
    def _unique(cls, columns: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if columns is not None and (len(set(columns)) != len(columns) or not all(columns)):
            raise ValueError(f"expected distinct, non-empty column names, found {list(columns)}")
        return columns


class EntitySpec(Spec):
    """One kind of item: how many there are (count, parent or source) and its attributes, in order."""

    name: str = Field(pattern=NAME_PATTERN)
    count: int | None = Field(None, ge=1)
    """Items of a top-level entity; with a source, at most this many rows are read."""
    parent: str | None = None
    per_parent: PerParent | None = None
    source: SourceSpec | None = None
    when: str | None = None
    """With a source: a format string over row fields; the row gives an item only when it renders non-empty."""
    attributes: dict[str, ValueSpec] = Field(min_length=1)
    size_kb: float | None = Field(None, gt=0, le=MAX_ITEM_KB)
    """Pad every item with `pad_attribute` to exactly this size (DynamoDB's item size rules)."""
    pad_attribute: str = Field("payload", min_length=1)

    @model_validator(mode="after")
    def _how_many(self) -> EntitySpec:
        if self.parent is not None and self.source is not None:
            raise ValueError("expected either parent or source, found both (an item comes from one parent item or one row)")
        if (self.parent is None) != (self.per_parent is None):
            raise ValueError("expected parent and per_parent together, found only one of them")
        if self.parent is not None and self.count is not None:
            raise ValueError("expected no count with parent (per_parent says how many), found count")
        if self.parent is None and self.source is None and self.count is None:
            raise ValueError("expected count (or parent with per_parent, or source), found none of them")
        if self.when is not None and self.source is None:
            raise ValueError("expected when only with a source, found it without one")
        if self.when is not None:
            format_fields(self.when)
        reserved = [name for name in self.attributes if name in RESERVED_NAMES]
        if reserved:
            raise ValueError(f"expected attribute names other than {', '.join(RESERVED_NAMES)} (they name item fields), found {reserved[0]!r}")
        if self.size_kb is not None and self.pad_attribute in self.attributes:
            raise ValueError(f"expected pad_attribute to be a new attribute, found {self.pad_attribute!r} among the attributes")
        return self

    def written(self) -> dict[str, str]:
        """Attribute name -> DynamoDB type of everything this entity may write (padding included)."""
        types = {name: value.dynamo_type() for name, value in self.attributes.items() if not name.startswith("_")}
        if self.size_kb is not None:
            types[self.pad_attribute] = "S"
        return types


class TemplateDatasetSpec(Spec):
    """The template model's own fields and checks (harness.scenario.TemplateDataset adds seed and load)."""

    entities: Annotated[tuple[EntitySpec, ...], FromList] = Field(min_length=1)
    size: int | None = None
    """Not used: each entity says how many items it has."""

    @field_validator("size")
    @classmethod
    def _no_size(cls, size: int | None) -> int | None:
        if size is not None:
            raise ValueError(f"expected no size with model template (each entity has a count, a parent or a source), found {size}")
        return size

    @model_validator(mode="wrap")
    @classmethod
    def _cross_checked(cls, data: Any, handler: Any) -> Any:
        """Field checks first; then the rules spanning entities, each reported at its own field path."""
        dataset = handler(data)
        problem = first_problem(dataset.entities)
        if problem is not None:
            loc, message, found = problem
            error = InitErrorDetails(type="value_error", loc=("entities",) + loc, input=found, ctx={"error": ValueError(message)})
            raise ValidationError.from_exception_data(cls.__name__, [error])
        return dataset

    def entity(self, name: str) -> EntitySpec:
        """The entity called `name` (StopIteration if there is none)."""
        return next(entity for entity in self.entities if entity.name == name)

    def attribute_types(self) -> dict[str, str]:
        """Every attribute some entity writes, with its DynamoDB type (underscore attributes are not written)."""
        types: dict[str, str] = {}
        for entity in self.entities:
            types.update(entity.written())
        return types

    def key_problem(self, key_names: tuple[str, ...]) -> str | None:
        """'entities[i]...: message' when an entity may write an item without one of the table's key attributes."""
        for i, entity in enumerate(self.entities):
            absent = _maybe_absent(entity, self)
            for name in key_names:
                if name not in entity.written():
                    return f"entities[{i}].attributes: entity {entity.name!r} does not write key attribute {name!r} (every item needs the table's keys)"
                if name in absent:
                    return f"entities[{i}].attributes.{name}: key attribute {name!r} may be absent from some items ({_why_absent(entity.attributes[name])}); every item needs the table's keys"
        return None


# ---- rules spanning entities -------------------------------------------------------------------

Problem = tuple[tuple, str, object]  # (loc under `entities`, message, offending value)


def first_problem(entities: tuple[EntitySpec, ...]) -> Problem | None:
    """The first broken rule among entities: names, parents, references, attribute types."""
    by_name: dict[str, EntitySpec] = {}
    for i, entity in enumerate(entities):
        if entity.name in by_name:
            return (i, "name"), f"entity name {entity.name!r} is used twice", entity.name
        by_name[entity.name] = entity
    for check in (_parent_problem, _reference_problem, _type_problem):
        for i, entity in enumerate(entities):
            problem = check(i, entity, by_name)
            if problem is not None:
                return problem
    return None


def _parent_problem(i: int, entity: EntitySpec, by_name: dict[str, EntitySpec]) -> Problem | None:
    if entity.parent is None:
        return None
    if entity.parent not in by_name:
        return (i, "parent"), f"expected the name of an entity ({', '.join(by_name)}), found {entity.parent!r}", entity.parent
    chain = [entity.name]
    current = entity
    while current.parent is not None:
        if current.parent in chain:
            return (i, "parent"), f"parents form a cycle: {' -> '.join(chain + [current.parent])}", entity.parent
        chain.append(current.parent)
        current = by_name[current.parent]
    return None


def _reference_problem(i: int, entity: EntitySpec, by_name: dict[str, EntitySpec]) -> Problem | None:
    """Every field a value reads exists when it is evaluated: attributes go in declaration order."""
    if entity.when is not None:
        for reference in references(entity.when):
            problem = _field_problem(reference, entity, (), by_name) if reference.startswith("row.") else ", but when reads only row fields (row.<column>)"
            if problem:
                return (i, "when"), f"when refers to {reference!r}{problem}", entity.when
    names = list(entity.attributes)
    for position, (name, value) in enumerate(entity.attributes.items()):
        if value.column is not None:
            problem = _row_problem(value.column, entity)
            if problem:
                return (i, "attributes", name), f"column {value.column!r} {problem}", value.column
            continue
        for reference in value.references():
            problem = _field_problem(reference, entity, names[:position], by_name, current=name, later=names[position + 1 :])
            if problem:
                return (i, "attributes", name), f"format string refers to {reference!r}{problem}", value.format
    return None


def _field_problem(
    reference: str, entity: EntitySpec, earlier: list[str] | tuple, by_name: dict[str, EntitySpec], current: str = "", later: list[str] | tuple = ()
) -> str | None:
    """Why `reference` names no field of an item of `entity` once its `earlier` attributes are evaluated, or None.

    The text continues a sentence that begins "refers to 'x'".
    """
    head, _, rest = reference.partition(".")
    if head == "row":
        problem = _row_problem(rest, entity)
        return f", which {problem}" if problem else None
    if head == "parent":
        if entity.parent is None:
            return f", but entity {entity.name!r} has no parent"
        parent = by_name[entity.parent]
        if _field_problem(rest, parent, tuple(parent.attributes), by_name):
            return f", which is not a field of parent entity {parent.name!r} (it has: {', '.join(_fields_of(parent))})"
        return None
    if rest:
        return "; only parent.<field> and row.<column> have dots"
    if head == "child" and entity.parent is None:
        return f", the number of an item within its parent, but entity {entity.name!r} has no parent"
    if head in ITEM_FIELDS or head in earlier:
        return None
    if head == current:
        return ", the attribute it defines"
    if head in later:
        return f", which is declared after {current!r} (attributes are evaluated in order: move {head!r} up)"
    return f", which is not an attribute of entity {entity.name!r} (it has: {', '.join(_fields_of(entity))})"


def _row_problem(column: str, entity: EntitySpec) -> str | None:
    """Why a row field `column` cannot be read by items of `entity`, or None."""
    if entity.source is None:
        return f"needs a source, and entity {entity.name!r} has none (row fields come from a source file)"
    columns = entity.source.columns
    if not column or "." in column or (columns is not None and column not in columns):
        return f"is not a column of the source (columns: {', '.join(columns or ['<the header row>'])})"
    return None


def _fields_of(entity: EntitySpec) -> list[str]:
    """The fields an item of `entity` offers a template, for error messages."""
    extra = ["child", "parent.<field>"] if entity.parent else []
    extra += ["row.<column>"] if entity.source else []
    return list(entity.attributes) + ["index"] + extra


def _type_problem(i: int, entity: EntitySpec, by_name: dict[str, EntitySpec]) -> Problem | None:
    """An attribute name has one DynamoDB type across entities, so a table's key types can be checked."""
    for other in by_name.values():
        if other is entity:
            return None
        theirs = other.written()
        for name, kind in entity.written().items():
            if name in theirs and theirs[name] != kind:
                where = (i, "attributes", name) if name in entity.attributes else (i, "pad_attribute")
                return where, f"expected type {theirs[name]}, as entity {other.name!r} writes {name!r} (an attribute has one type across entities), found {kind}", kind
    return None


def _why_absent(value: ValueSpec) -> str:
    if value.present < 1:
        return f"present: {value.present:g}"
    return "present_if" if value.present_if is not None else "it reads a sparse field"


def _maybe_absent(entity: EntitySpec, dataset: TemplateDatasetSpec) -> set[str]:
    """Fields of `entity`'s items that some items lack: sparse attributes and format strings using them."""
    absent = {f"parent.{name}" for name in _maybe_absent(dataset.entity(entity.parent), dataset)} if entity.parent else set()
    for name, value in entity.attributes.items():
        if value.may_be_absent() or any(reference in absent for reference in value.references()):
            absent.add(name)
    return absent
