"""Items of a `template` dataset (harness/scenario/template.py): streamed in order, or regenerated one by one.

Every value of item i of an entity is a pure function of (seed, entity name, i, attribute number):
the item hashes its number once (splitmix64) and each attribute hashes that with its own salt, so
item i can be rebuilt without generating items 0..i-1 (a workload regenerates the keys it reads),
and generation keeps nothing but the item in hand. Children find their parent through a
cumulative count of children per parent (8 bytes a parent, built on first need), and each parent's
child count is itself a hash of (seed, entity, parent index). Source rows are found again by
their byte offsets (8 bytes a row).
"""

from __future__ import annotations

import csv
import hashlib
import json
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate, islice
from pathlib import Path

from harness.datasets.sizes import KB, item_size
from harness.datasets.values import MISSING, FormatString, compile_value, mix64, nested_wire, unit_interval
from harness.errors import BadInput
from harness.scenario import TemplateDataset
from harness.scenario.template import EntitySpec, PerParent, SourceSpec

PAD_CHARACTER = "x"
_WIRE = {
    "S": lambda value: {"S": value},
    "N": lambda value: {"N": value if isinstance(value, str) else str(value)},
    "BOOL": lambda value: {"BOOL": value},
    "M": nested_wire,
    "L": nested_wire,
}


class TemplateItems:
    """The items of a template dataset in DynamoDB wire format, and each item's fields by (entity, index)."""

    def __init__(
        self, dataset: TemplateDataset, base_dir: str | Path | None = None, required_attributes: tuple[str, ...] = (), path: str = "dataset"
    ):
        """Compile the dataset (no file is read yet). Relative source files are found from `base_dir`
        (default: the working directory); an item without one of `required_attributes` (the table's
        keys) is a BadInput when it is generated."""
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        sources: dict[tuple, RowSource] = {}
        self._entities: dict[str, _Entity] = {}
        for i, spec in enumerate(dataset.entities):
            entity_path = f"{path}.entities[{i}]"
            source = None
            if spec.source is not None:
                source = RowSource(spec.source, base, entity_path)
                source = sources.setdefault((source.file, spec.source.format, spec.source.columns), source)
            self._entities[spec.name] = _Entity(spec, dataset.seed, entity_path, source)
        for entity in self._entities.values():
            entity.parent = self._entities.get(entity.spec.parent)
        self._required = tuple(required_attributes)

    def entity_names(self) -> tuple[str, ...]:
        """The entities in declaration order, which is the order generate_items yields them in."""
        return tuple(self._entities)

    def entity_count(self, entity_name: str) -> int:
        """How many items the entity has (reads its source file once, or hashes every parent's child count once)."""
        entity = self._entity(entity_name)
        if entity.parent is not None:
            return self._child_count(entity)
        if entity.rows is not None:
            return len(entity.rows)
        return entity.spec.count

    def total_items(self) -> int:
        """How many items generate_items yields: the sum of every entity's count."""
        return sum(self.entity_count(name) for name in self._entities)

    def generate_items(self) -> Iterator[dict]:
        """Every item, entity after entity, each entity's in index order; one item in memory at a time."""
        for entity in self._entities.values():
            for _, item in self._stream(entity, wire=True):
                yield item

    def item_at(self, entity_name: str, index: int) -> dict | None:
        """Item `index` of an entity in wire format, exactly as generate_items yields it; None past the end."""
        return self._at(self._entity(entity_name), index, wire=True)[1]

    def item_fields_at(self, entity_name: str, index: int, only: frozenset | None = None) -> dict | None:
        """Every field of item `index` as Python values: attributes (underscore ones too), index, child,
        parent (the parent's fields) and row; None past the end. Format strings render against it.

        `only`: the attribute names a caller reads (a request's key and templates); just those and
        what they depend on are rendered, which spares a pick the cost of the item's other values.
        """
        entity = self._entity(entity_name)
        if only is None:
            return self._at(entity, index, wire=False)[0]
        if not 0 <= index < self.entity_count(entity.name):
            return None
        return self._fields_only(entity, index, only)

    def _fields_only(self, entity: _Entity, index: int, only: frozenset) -> dict:
        """item_fields_at's fields restricted to `only` and their dependencies (parent's too)."""
        attributes, parent_wanted = entity.plan(only)
        fields: dict = {"index": index}
        if entity.parent is not None:
            parent_index, fields["child"] = self._locate(entity, index)
            fields["parent"] = self._fields_only(entity.parent, parent_index, parent_wanted)
        elif entity.rows is not None:
            fields["row"] = entity.rows.row_at(index)
        return self._render(entity, fields, attributes)

    def _render(self, entity: _Entity, fields: dict, attributes: tuple) -> dict:
        """Render some of an entity's attributes, in order, into `fields` (their draws as in _fill)."""
        base = mix64(entity.key ^ fields["index"])
        for name, render, salt, _ in attributes:
            value = render(fields, 0 if salt is None else mix64(base ^ salt))
            if value is not MISSING:
                fields[name] = value
        return fields

    def new_item(self, entity_name: str, index: int, only: frozenset | None = None) -> tuple[dict, dict | None]:
        """(fields, wire item) of an item made during a run, numbered past the loaded ones (index >= entity_count).

        A top-level item follows the entity's template as a loaded one does; a new child gets a
        parent by hashing its index, and `child` counts from the loaded children. An entity fed by a
        source file has no row to make a new item from (the scenario's validation refuses that).
        With `only` (as for item_fields_at), just those fields are rendered and the item is None.
        """
        entity = self._entity(entity_name)
        if entity.rows is not None:
            raise ValueError(f"entity {entity_name!r} is fed by a source file: it cannot make new items")
        fields: dict = {"index": index}
        if entity.parent is not None:
            parent_index = mix64(entity.key ^ mix64(index)) % self.entity_count(entity.parent.name)
            fields["child"] = index - self.entity_count(entity_name)
            fields["parent"] = self.item_fields_at(entity.parent.name, parent_index, entity.plan(only)[1] if only is not None else None)
        if only is not None:
            return self._render(entity, fields, entity.plan(only)[0]), None
        return fields, self._fill(entity, fields, wire=True)

    # ---- internals ---------------------------------------------------------------------------

    def _entity(self, name: str) -> _Entity:
        try:
            return self._entities[name]
        except KeyError:
            raise KeyError(f"no entity {name!r} in the dataset (entities: {', '.join(self._entities)})") from None

    def _stream(self, entity: _Entity, wire: bool) -> Iterator[tuple[dict, dict | None]]:
        """(fields, wire item or None) of every item of the entity, in index order."""
        if entity.parent is not None:
            index = 0
            for parent_fields, _ in self._stream(entity.parent, wire=False):
                for child in range(entity.children_of(parent_fields["index"])):
                    fields = {"index": index, "child": child, "parent": parent_fields}
                    yield fields, self._fill(entity, fields, wire)
                    index += 1
        elif entity.rows is not None:
            for index, row in enumerate(entity.rows.rows()):
                fields = {"index": index, "row": row}
                yield fields, self._fill(entity, fields, wire)
        else:
            for index in range(entity.spec.count):
                fields = {"index": index}
                yield fields, self._fill(entity, fields, wire)

    def _at(self, entity: _Entity, index: int, wire: bool) -> tuple[dict | None, dict | None]:
        """(fields, wire item or None) of item `index`, or (None, None) when there is no such item."""
        if not 0 <= index < self.entity_count(entity.name):
            return None, None
        if entity.parent is not None:
            parent_index, child = self._locate(entity, index)
            fields = {"index": index, "child": child, "parent": self._at(entity.parent, parent_index, wire=False)[0]}
        elif entity.rows is not None:
            fields = {"index": index, "row": entity.rows.row_at(index)}
        else:
            fields = {"index": index}
        return fields, self._fill(entity, fields, wire)

    def _fill(self, entity: _Entity, fields: dict, wire: bool) -> dict | None:
        """Render the attributes in order into `fields`; the wire item of the written ones when `wire`."""
        base = mix64(entity.key ^ fields["index"])
        item = {} if wire else None
        for name, render, salt, to_wire in entity.attributes:
            value = render(fields, 0 if salt is None else mix64(base ^ salt))
            if value is MISSING:
                continue
            fields[name] = value
            if wire and to_wire is not None:
                item[name] = to_wire(value)
        if wire:
            self._finish(entity, item, fields["index"])
        return item

    def _finish(self, entity: _Entity, item: dict, index: int) -> None:
        """Check the table's keys are there and pad the item to the entity's size."""
        for name in self._required:
            if name not in item:
                raise BadInput(f"{entity.path}: item {index} of entity {entity.name!r} has no {name!r}, a key attribute of the table")
        if entity.target_bytes is None:
            return
        room = entity.target_bytes - item_size(item) - len(entity.pad_name_bytes)
        if room < 0:
            raise BadInput(
                f"{entity.path}.size_kb: item {index} of entity {entity.name!r} is {item_size(item)} bytes before padding, "
                f"more than size_kb {entity.spec.size_kb:g} ({entity.target_bytes} bytes)"
            )
        item[entity.spec.pad_attribute] = {"S": PAD_CHARACTER * room}

    def _child_count(self, entity: _Entity) -> int:
        parents = self.entity_count(entity.parent.name)
        if entity.spec.per_parent.constant is not None:
            return parents * entity.spec.per_parent.constant
        return self._cumulative(entity, parents)[-1]

    def _locate(self, entity: _Entity, index: int) -> tuple[int, int]:
        """(parent index, child number) of a child's entity-wide index."""
        constant = entity.spec.per_parent.constant
        if constant is not None:
            return divmod(index, constant)
        cumulative = self._cumulative(entity, self.entity_count(entity.parent.name))
        parent_index = bisect_right(cumulative, index) - 1
        return parent_index, index - cumulative[parent_index]

    def _cumulative(self, entity: _Entity, parents: int) -> array:
        """Children before each parent (one more entry: the total); built once, 8 bytes a parent."""
        if entity.cumulative is None:
            entity.cumulative = array("q", [0])
            entity.cumulative.extend(accumulate(entity.children_of(parent) for parent in range(parents)))
        return entity.cumulative


class _Entity:
    """One entity compiled: (name, render, salt, to_wire) per attribute, and how its items are counted."""

    def __init__(self, spec: EntitySpec, seed: int, path: str, source: RowSource | None):
        self.spec, self.name, self.path = spec, spec.name, path
        self.key = _hash64(seed, spec.name, "items")
        compiled = [self._compiled(position, name, value) for position, (name, value) in enumerate(spec.attributes.items())]
        self.attributes = tuple(attribute for attribute, _ in compiled)
        self.references = tuple(references for _, references in compiled)
        """The fields each attribute reads, in attribute order (for rendering only what a request needs)."""
        self.plans: dict[frozenset, tuple[tuple, frozenset]] = {}
        self.children_of = _child_counter(spec.per_parent, _hash64(seed, spec.name, "per_parent")) if spec.per_parent else None
        when = FormatString(spec.when, "S", f"{path}.when") if spec.when is not None else None
        self.rows = _EntityRows(source, spec.count, when) if source is not None else None
        self.target_bytes = round(spec.size_kb * KB) if spec.size_kb is not None else None
        self.pad_name_bytes = spec.pad_attribute.encode()
        self.parent: _Entity | None = None
        self.cumulative: array | None = None

    def _compiled(self, position: int, name: str, value_spec) -> tuple:
        value = compile_value(value_spec, f"{self.path}.attributes.{name}")
        salt = mix64(self.key ^ mix64(position)) if value.needs_draw else None
        to_wire = None if name.startswith("_") else _WIRE[value.dynamo_type]
        return (name, value.render, salt, to_wire), value.references

    def plan(self, wanted: frozenset) -> tuple[tuple, frozenset]:
        """(the attributes to render, the parent's fields they read) for the fields in `wanted`.

        Attributes read only earlier ones, so one pass from the last attribute back finds every
        attribute a wanted one depends on; the others are skipped (each attribute draws from its
        own hash, so skipping one changes no other value).
        """
        if wanted not in self.plans:
            needed: set[str] = set()
            parent: set[str] = set()
            _split_fields(wanted, needed, parent)
            for (name, *_), references in zip(reversed(self.attributes), reversed(self.references), strict=True):
                if name in needed:
                    _split_fields(references, needed, parent)
            kept = tuple(attribute for attribute in self.attributes if attribute[0] in needed)
            self.plans[wanted] = (kept, frozenset(parent))
        return self.plans[wanted]


def _split_fields(fields, own: set[str], parent: set[str]) -> None:
    """Sort dotted field names into an item's own attributes and its parent's fields (`parent.x` -> x)."""
    for field in fields:
        head, _, rest = field.partition(".")
        if head == "parent" and rest:
            parent.add(rest)
        else:
            own.add(head)


def _hash64(seed: int, entity: str, purpose: str) -> int:
    """A 64-bit key for one use of one entity under one seed, the same in every process (unlike hash())."""
    digest = hashlib.blake2b(f"{seed}\x00{entity}\x00{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _child_counter(per_parent: PerParent, key: int):
    """children_of(parent index) -> count: a constant, or a hash of the parent index through the distribution."""
    if per_parent.constant is not None:
        constant = per_parent.constant
        return lambda parent: constant
    low, high = per_parent.bounds()
    if per_parent.uniform is not None:
        span = high - low + 1
        return lambda parent: low + mix64(key ^ parent) % span
    ranks = high - low + 1
    weights = [1.0 / (rank + 1) ** per_parent.zipfian.theta for rank in range(ranks)]
    whole = sum(weights)
    bounds = [total / whole for total in accumulate(weights)]
    return lambda parent: low + min(bisect_right(bounds, unit_interval(mix64(key ^ parent))), ranks - 1)


# ---- source files ------------------------------------------------------------------------------


class _EntityRows:
    """The rows of a source an entity makes items of: the first `count`, and only those `when` accepts."""

    def __init__(self, source: RowSource, count: int | None, when: FormatString | None):
        self.source, self.count, self.when = source, count, when
        self._row_numbers: array | None = None

    def rows(self) -> Iterator[dict]:
        """The accepted rows in file order."""
        for _, row in self._numbered():
            yield row

    def __len__(self) -> int:
        if self.when is not None:
            return len(self._accepted())
        return len(self.source) if self.count is None else min(self.count, len(self.source))

    def row_at(self, index: int) -> dict:
        """The row of item `index`."""
        return self.source.row_at(self._accepted()[index] if self.when is not None else index)

    def _numbered(self) -> Iterator[tuple[int, dict]]:
        for number, row in enumerate(islice(self.source.rows(), self.count)):
            if self.when is None or _accepts(self.when, row):
                yield number, row

    def _accepted(self) -> array:
        """Row numbers of the accepted rows: 8 bytes an item, built on first need."""
        if self._row_numbers is None:
            self._row_numbers = array("q", (number for number, _ in self._numbered()))
        return self._row_numbers


def _accepts(when: FormatString, row: dict) -> bool:
    text = when.render({"row": row}, 0)
    return text is not MISSING and bool(text.strip())


class RowSource:
    """A CSV or JSON Lines file as rows (dicts): read in order, or one row by number via its byte offset.

    A CSV without declared `columns` has a header row naming them, read by the first scan.
    """

    def __init__(self, spec: SourceSpec, base_dir: Path, path: str):
        """Check the file exists (it is read only when rows are asked for)."""
        self.file = (base_dir / spec.file).resolve()
        if not self.file.is_file():
            raise BadInput(f"{path}.source.file: cannot read {self.file}: no such file")
        self.format, self.columns = spec.format, spec.columns
        self._header: tuple[str, ...] | None = None
        self._offsets: array | None = None

    def rows(self) -> Iterator[dict]:
        """Every row in file order (a CSV's header row and blank lines are not rows)."""
        for _, row in self._scan():
            yield row

    def __len__(self) -> int:
        return len(self._row_offsets())

    def row_at(self, number: int) -> dict:
        """Row `number` (0 is the first data row), read at its byte offset."""
        offset = self._row_offsets()[number]
        with open(self.file, "rb") as handle:
            handle.seek(offset)
            lines = _Lines(handle, self.file, offset)
            if self.format == "jsonl":
                return _json_row(next(iter(lines)), self.file, f"row {number + 1}")
            return dict(zip(self.columns or self._header, next(csv.reader(lines)), strict=False))  # a short row lacks its last fields

    def _row_offsets(self) -> array:
        """Byte offsets of the rows: one scan of the file, 8 bytes a row."""
        if self._offsets is None:
            self._offsets = array("q", (offset for offset, _ in self._scan()))
        return self._offsets

    def _scan(self) -> Iterator[tuple[int, dict]]:
        """(byte offset, row) of every row, in file order."""
        with open(self.file, "rb") as handle:
            lines = _Lines(handle, self.file, 0)
            if self.format == "jsonl":
                for text in lines:
                    if text.strip():
                        yield lines.line_start, _json_row(text, self.file, f"line {lines.number}")
                return
            columns = self.columns
            start = 0
            for values in csv.reader(lines):
                if values and columns is None:
                    columns = self._header = tuple(values)
                elif values:
                    yield start, dict(zip(columns, values, strict=False))
                start = lines.position


class _Lines:
    """The text lines of a binary file, remembering the byte offset they reached (csv reads lines lazily)."""

    def __init__(self, handle, file: Path, offset: int):
        self.handle, self.file = handle, file
        self.position = self.line_start = offset
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.line_start = self.position
            self.position += len(raw)
            self.number += 1
            try:
                yield raw.decode("utf-8-sig" if self.line_start == 0 else "utf-8")
            except UnicodeDecodeError as exc:
                raise BadInput(f"{self.file}: expected UTF-8 text, found byte {raw[exc.start]:#04x} at offset {self.line_start + exc.start}") from None


def _json_row(text: str, file: Path, where: str) -> dict:
    try:
        row = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{file}, {where}: not valid JSON: {exc}") from None
    if not isinstance(row, dict):
        raise BadInput(f"{file}, {where}: expected a JSON object, found {type(row).__name__}")
    return row
