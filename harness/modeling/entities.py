"""From a table design's facets and samples to template entities: shapes, relations, unique keys, counts.

Each facet (or, without facets, each kind of item told apart by its key's constant prefix) becomes
one entity. An entity whose key (or another attribute) is, or starts with, another entity's partition
key in every sample becomes that entity's child (`parent` + `per_parent`, as the samples count
children); in another table it refers to an existing item through the referred key's number range.
Every entity's key gets a part unique to each item, so the generated items never overwrite each other.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from harness.errors import BadInput
from harness.modeling.design import Facet, TableDesign
from harness.modeling.shapes import GENERATED_TYPES, SEPARATORS, Shape, from_type, learn, learn_string, with_presence

NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_\-]+")


@dataclass
class Entity:
    """One entity of a table's template dataset, with the samples it was learnt from."""

    name: str
    table: TableDesign
    samples: list[dict]
    facet: str
    shapes: dict[str, Shape] = field(default_factory=dict)
    presence: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    count: int | None = None
    parent: Entity | None = None
    per_parent: dict | None = None
    children_seen: list[int] = field(default_factory=list)
    references: dict[str, Entity] = field(default_factory=dict)
    """Attributes that name an item of another table's entity."""
    unique_note: str = ""

    def key_shapes(self) -> list[tuple[str, Shape]]:
        """The table key attributes' shapes, partition key first."""
        return [(name, self.shapes[name]) for name in self.table.key_names()]

    def written(self) -> list[str]:
        """The attributes this entity writes, in order."""
        return list(self.shapes)


def entities_of(tables: list[TableDesign], items: int, scale: dict[str, int]) -> list[Entity]:
    """Every table's entities, learnt, related, made unique and counted (`items` per entity, `scale` by facet name)."""
    entities: list[Entity] = []
    taken: set[str] = set()
    for table in tables:
        for facet in table.facets:
            for facet_name, samples in _groups(table, facet):
                entity = Entity(name=_entity_name(facet_name or table.name, taken), table=table, samples=samples, facet=facet_name)
                _learn(entity, facet)
                entities.append(entity)
    for table in tables:
        _write_index_keys(table, [entity for entity in entities if entity.table is table])
        _one_type_per_attribute([entity for entity in entities if entity.table is table])
    for entity in entities:
        _relate(entity, entities)
    for entity in entities:
        _make_unique(entity)
    unknown = [name for name in scale if not any(name in (entity.name, entity.facet) for entity in entities)]
    if unknown:
        raise BadInput(f"--scale {unknown[0]}: no facet or entity of that name (they are: {', '.join(entity.name for entity in entities)})")
    for entity in entities:
        _count(entity, items, scale)
    return _parents_first(entities)


def _write_index_keys(table: TableDesign, entities: list[Entity]) -> None:
    """An index key attribute that no sample carries is generated from its type in the entities that write the
    index's other key (else in every entity of the table), so the index has items and its starter query finds some."""
    for index in table.gsis + table.lsis:
        for name, other in ((index.hash, index.range), (index.range, index.hash)):
            if name is None or any(name in entity.shapes for entity in entities):
                continue
            writers = [entity for entity in entities if other is not None and other in entity.shapes] or entities
            for entity in writers:
                shape = _typed(entity, name, table.attributes[name])
                shape.comment = "no sample has it: generated from its type"
                entity.shapes[name] = shape
                entity.presence[name] = 1.0


def _one_type_per_attribute(entities: list[Entity]) -> None:
    """An attribute has one type across a dataset's entities: a later entity writing it with another type leaves it out (said in a comment)."""
    types: dict[str, tuple[str, str]] = {}
    for entity in entities:
        for name, shape in list(entity.shapes.items()):
            first = types.setdefault(name, (shape.dynamo_type, entity.name))
            if first[0] != shape.dynamo_type:
                del entity.shapes[name]
                entity.skipped.append(f"{name} ({shape.dynamo_type} here, {first[0]} in {first[1]}: one type per attribute)")


# ---- grouping ----------------------------------------------------------------------------------


def _groups(table: TableDesign, facet: Facet) -> list[tuple[str, list[dict]]]:
    """A named facet's samples as one group; unnamed samples grouped by their key's constant prefix."""
    if facet.name or not facet.items:
        return [(facet.name, facet.items)]
    groups: dict[str, list[dict]] = {}
    for item in facet.items:
        groups.setdefault(_kind_of(table, item), []).append(item)
    return list(groups.items()) if len(groups) > 1 else [("", facet.items)]


def _kind_of(table: TableDesign, item: dict) -> str:
    """USER#1 / ORDER#2024-01-02 -> 'ORDER': the sort key's (else the partition key's) first part when it is a word."""
    for name in reversed(table.key_names()):
        value = item[name].get("S")
        if value is None:
            continue
        separator = next((sep for sep in SEPARATORS if sep in value), None)
        head = value.split(separator)[0] if separator else value
        if head and head.replace("_", "").isalpha() and (separator or head.isupper()):
            return head
    return ""


def _entity_name(text: str, taken: set[str]) -> str:
    base = NAME_CHARACTERS.sub("_", text.strip()).strip("_-").lower() or "item"
    base = base if base[0].isalpha() or base[0] == "_" else f"e_{base}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


# ---- shapes ------------------------------------------------------------------------------------


def _learn(entity: Entity, facet: Facet) -> None:
    table, samples = entity.table, entity.samples
    keys = set(table.key_names())
    names = list(table.key_names()) + [name for name in dict.fromkeys(name for item in samples for name in item) if name not in keys]
    if not samples:  # a facet without items (or a CloudFormation table): what it declares, from the types
        names += [name for name in facet.attributes if name not in names]
    for name in names:
        values = [item[name] for item in samples if name in item]
        kind = table.attributes.get(name) or facet.attributes.get(name) or table.declared.get(name, "S")
        shape = learn(name, values, identity=name in keys or _names_an_id(name, values)) if values else _typed(entity, name, kind)
        if shape is None:
            entity.skipped.append(name)
            continue
        entity.shapes[name] = shape
        entity.presence[name] = len(values) / len(samples) if samples else 1.0


GROUP = {"integer": {"min": 1, "max": 1}}  # replaced by _count: about ten items a partition key


def _grouped(name: str, kind: str, label: str) -> Shape:
    """A partition key shared by about ten items: LABEL#<n>, or the number itself for an N key."""
    if kind == "N":
        return Shape(dict(GROUP), dynamo_type="N")
    helper = f"_{name}"
    return Shape(f"{label}#{{{helper}}}", helpers=[(helper, dict(GROUP))], prefix=f"{label}#")


def _names_an_id(name: str, values: list[dict]) -> bool:
    """An attribute called ...id whose sample values all differ identifies its item: its numbers become a sequence."""
    texts = [str(value) for value in values]
    return name.lower().endswith("id") and len(texts) > 1 and len(set(texts)) == len(texts)


def _typed(entity: Entity, name: str, kind: str) -> Shape | None:
    """A generator from the type alone: keys as PREFIX#number so they are unique, index keys in groups of ~10 items."""
    table = entity.table
    if kind == "B" and name in table.attributes:
        raise BadInput(f"table {table.name!r}: key attribute {name!r} is binary (B), which the template dataset cannot generate")
    index_hashes = {index.hash for index in table.gsis}
    index_ranges = {index.range for index in table.gsis + table.lsis if index.range}
    label = re.sub(r"[^A-Za-z0-9]", "", entity.facet if entity.facet and name in table.key_names() else name).upper() or "KEY"
    if name == table.hash:
        if table.range is None:
            return Shape(f"{label}#{{index}}", unique=True, prefix=f"{label}#") if kind == "S" else Shape({"sequence": {"start": 1}}, dynamo_type="N", unique=True)
        return _grouped(name, kind, label)
    if name == table.range:
        return Shape(f"{label}#{{index:09d}}", unique=True, prefix=f"{label}#") if kind == "S" else Shape({"sequence": {"start": 1}}, dynamo_type="N", unique=True)
    if name in index_hashes:
        return _grouped(name, kind, label)
    if name in index_ranges:
        if kind == "N":
            return Shape({"integer": {"min": 0, "max": 1_000_000}}, dynamo_type="N")
        return Shape({"datetime": {"start": "2024-01-01", "end": "2024-12-31"}})
    return from_type(name, kind) if kind in GENERATED_TYPES else None


# ---- relations ---------------------------------------------------------------------------------


def _relate(entity: Entity, entities: list[Entity]) -> None:
    """The first attribute (keys first) that is another entity's partition key in every sample makes the relation."""
    for name in entity.written():
        values = [item[name]["S"] for item in entity.samples if "S" in item.get(name, {})]
        if not values:
            continue
        for position, other in enumerate(entities):
            if other is entity or not other.samples or _descends(other, entity) or not _one_per_key(other):
                continue
            found = _embedded(values, other)
            if found == "" and name in entity.table.key_names() and _one_per_key(entity) and position > entities.index(entity):
                continue  # two kinds of one item per key (a profile and its settings): the first is the parent
            if found is not None and _link(entity, name, other, values, found):
                return


def _one_per_key(entity: Entity) -> bool:
    """Each sample has its own partition key and the sort key (if any) is constant: items a child can hang from."""
    table = entity.table
    keys = [item[table.hash].get("S") for item in entity.samples]
    constant_sort = table.range is None or len({str(item[table.range]) for item in entity.samples}) == 1
    return None not in keys and len(set(keys)) == len(keys) and constant_sort


def _descends(entity: Entity, ancestor: Entity) -> bool:
    """True when `ancestor` is the entity's parent, or its parent's, and so on."""
    while entity.parent is not None:
        if entity.parent is ancestor:
            return True
        entity = entity.parent
    return False


def _embedded(values: list[str], other: Entity) -> str | None:
    """The separator after the other entity's partition key in every value ('' when every value equals one), or None."""
    keys = {item[other.table.hash].get("S") for item in other.samples} - {None}
    if all(value in keys for value in values):
        return ""
    for separator in SEPARATORS:
        if all(any(value.startswith(key + separator) for key in keys) for value in values):
            return separator
    return None


def _link(entity: Entity, name: str, other: Entity, values: list[str], separator: str) -> bool:
    """Rewrite attribute `name` to read the related item (the rest of the value learnt as its own parts);
    False when the relation cannot be written."""
    key = other.table.hash
    parent_keys = [item[key]["S"] for item in other.samples]
    if other.table is entity.table:
        entity.parent = other
        entity.children_seen = [sum(1 for value in values if _owner(value, parent_keys, separator) == parent) for parent in parent_keys]
        reference = Shape(f"{{parent.{key}}}")
    else:
        reference = _reference(entity, name, other)
        if reference is None:
            return False
    if not separator:
        entity.shapes[name] = reference
        return True
    rests = [_rest(value, parent_keys, separator) for value in values]
    rest = learn_string(name, rests, identity=True, helper_prefix=f"{name}_rest")
    if _is_format(rest.spec):
        text, helpers = rest.spec, rest.helpers
    elif isinstance(rest.spec, str):
        text, helpers = rest.spec.replace("{", "{{").replace("}", "}}"), []
    else:
        text, helpers = "{" + f"_{name}_rest" + "}", [(f"_{name}_rest", rest.spec)]
    entity.shapes[name] = Shape(reference.spec + separator + text, helpers=reference.helpers + helpers, prefix=reference.prefix, unique=rest.unique, separator=separator)
    return True


def _reference(entity: Entity, name: str, other: Entity) -> Shape | None:
    """Another table's item, by drawing a number of the referred key's sequence (so the item exists); None
    when the referred key is not one sequence in a format string, or its entity's count is not its own."""
    shape = other.shapes[other.table.hash]
    sequences = [helper for helper, spec in shape.helpers if isinstance(spec, dict) and "sequence" in spec]
    if other.parent is not None or len(shape.helpers) != 1 or not sequences or not isinstance(shape.spec, str):
        return None
    helper = f"_{name}_ref"
    entity.references[name] = other
    return Shape(shape.spec.replace("{" + sequences[0], "{" + helper), helpers=[(helper, {"integer": {"min": 0, "max": 0}})], prefix=shape.prefix)


def _is_format(spec: object) -> bool:
    """True for a format string (it reads fields), False for a constant or a generator."""
    return isinstance(spec, str) and ("{" in spec or "}" in spec)


def _owner(value: str, keys: list[str], separator: str) -> str | None:
    return next((key for key in keys if value == key or (separator and value.startswith(key + separator))), None)


def _rest(value: str, keys: list[str], separator: str) -> str:
    owner = _owner(value, keys, separator)
    return value[len(owner) + len(separator) :]


# ---- unique keys -------------------------------------------------------------------------------


def _make_unique(entity: Entity) -> None:
    """Give the key a part unique to each item when no key part is a sequence or uuid already: the partition
    key of a top-level entity, the sort key of a child (whose partition key is its parent's)."""
    if any(shape.unique for _, shape in entity.key_shapes()):
        return
    names = list(entity.table.key_names())
    for name in names if entity.parent is None else names[::-1]:
        shape = entity.shapes[name]
        if shape.dynamo_type == "N":
            if isinstance(shape.spec, dict) and "format" not in shape.spec:
                entity.shapes[name] = Shape({"sequence": {"start": _lowest(entity, name)}}, dynamo_type="N", unique=True)
                entity.unique_note = f"{name}: a sequence, so every item has its own key"
                return
            continue
        entity.shapes[name] = _with_index(name, shape)
        entity.unique_note = f"{name}: {{index}} added, so every item has its own key (the samples' keys repeat at scale)"
        return


def _lowest(entity: Entity, name: str) -> int:
    numbers = [int(float(item[name]["N"])) for item in entity.samples if "N" in item.get(name, {})]
    return min(numbers) if numbers else 1


def _with_index(name: str, shape: Shape) -> Shape:
    """The same text with the item's index after its last varying part (or after the constant, joined by the separator)."""
    separator = shape.separator or "#"
    if isinstance(shape.spec, str) and _is_format(shape.spec):
        return Shape(shape.spec + separator + "{index}", helpers=shape.helpers, prefix=shape.prefix, unique=True, separator=separator)
    if isinstance(shape.spec, str):
        literal = shape.spec.replace("{", "{{").replace("}", "}}")
        return Shape(literal + separator + "{index}", prefix=shape.spec + separator, unique=True, separator=separator)
    helper = f"_{name}"
    return Shape("{" + helper + "}" + separator + "{index}", helpers=[(helper, shape.spec)], unique=True, separator=separator)


# ---- counts ------------------------------------------------------------------------------------


def _count(entity: Entity, items: int, scale: dict[str, int]) -> None:
    """`items` (or the --scale) items for the entity: a top-level count, or children per parent whose mean gives it."""
    wanted = scale.get(entity.name, scale.get(entity.facet, items))
    if entity.parent is None:
        entity.count = max(1, wanted)
    else:
        parents = scale.get(entity.parent.name, scale.get(entity.parent.facet, items))
        entity.per_parent = _per_parent(entity.children_seen, wanted / max(1, parents))
    groups = {"integer": {"min": 1, "max": max(1, wanted // 10)}}
    for name, shape in entity.shapes.items():
        if shape.spec == GROUP:
            shape.spec = groups
        for position, (helper, spec) in enumerate(shape.helpers):
            if spec == GROUP:
                shape.helpers[position] = (helper, groups)
        other = entity.references.get(name)
        if other is not None:
            start = other.shapes[other.table.hash].helpers[0][1]["sequence"].get("start", 0)
            last = start + max(1, scale.get(other.name, scale.get(other.facet, items))) - 1
            shape.helpers[0] = (shape.helpers[0][0], {"integer": {"min": start, "max": last}})


def _per_parent(seen: list[int], mean: float) -> object:
    """Children per parent: the samples' spread, scaled so the mean is `mean`."""
    observed = sum(seen) / len(seen) if seen else 1.0
    factor = mean / observed if observed else mean
    low, high = round(min(seen, default=1) * factor), max(1, round(max(seen, default=1) * factor))
    if low == high:
        return high
    return {"uniform": {"min": min(low, high), "max": high}}


def _parents_first(entities: list[Entity]) -> list[Entity]:
    ordered: list[Entity] = []

    def place(entity: Entity) -> None:
        if entity in ordered:
            return
        if entity.parent is not None:
            place(entity.parent)
        ordered.append(entity)

    for entity in entities:
        place(entity)
    return ordered


def attribute_specs(entity: Entity, index_keys: set[str]) -> list[tuple[str, object, str]]:
    """(name, spec, comment) in evaluation order: helpers before the attribute that reads them; a sparse index key
    keeps its value in an always-computed `_name` so queries can ask for it."""
    rows: list[tuple[str, object, str]] = []
    seen: set[str] = set()
    for name, shape in entity.shapes.items():
        for helper, spec in shape.helpers:
            if helper not in seen:
                rows.append((helper, spec, ""))
                seen.add(helper)
        presence = entity.presence.get(name, 1.0)
        comment = _comment(entity, name, shape, presence)
        if presence < 0.995 and name in index_keys:
            twin = f"_{name}_value"
            rows.append((twin, shape.spec, "always computed: the starter queries read it"))
            spec = {"format": "{" + twin + "}", **({"type": "N"} if shape.dynamo_type == "N" else {})}
            rows.append((name, with_presence(spec, presence), comment))
        else:
            rows.append((name, with_presence(shape.spec, presence), comment))
        seen.add(name)
    return rows


def _comment(entity: Entity, name: str, shape: Shape, presence: float) -> str:
    notes = []
    if presence < 0.995:
        notes.append(f"in {Counter(name in item for item in entity.samples)[True]} of {len(entity.samples)} samples (sparse)")
    if shape.comment:
        notes.append(shape.comment)
    if name in entity.references:
        other = entity.references[name]
        notes.append(f"refers to an existing item of {other.name} (its {other.table.hash})")
    if entity.unique_note and entity.unique_note.startswith(f"{name}:"):
        notes.append(entity.unique_note.split(": ", 1)[1])
    return "; ".join(notes)
