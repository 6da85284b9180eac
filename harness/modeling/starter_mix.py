"""The starter mix of an imported design: a GetItem and a Query per entity, a Query per index.

Every step picks an existing item with a zipfian distribution and weighs 1: the user sets the
weights to their traffic. Expressions name attributes through `#placeholders`, so no attribute
name can clash with a DynamoDB reserved word.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.modeling.design import Index
from harness.modeling.entities import Entity

DISTRIBUTION = "zipfian"
QUERY_LIMIT = 25


@dataclass(frozen=True)
class StarterStep:
    """One step of the mix and the comment that says what it is."""

    step: dict
    comment: str


def starter_mix(entities: list[Entity]) -> list[StarterStep]:
    """The steps, table by table: entity reads first, then one Query per GSI and LSI."""
    steps: list[StarterStep] = []
    names: set[str] = set()
    tables = list(dict.fromkeys(entity.table.name for entity in entities))
    for table_name in tables:
        own = [entity for entity in entities if entity.table.name == table_name]
        for entity in own:
            steps.append(_get(entity, names))
            steps.append(_query(entity, names))
        table = own[0].table
        for index in table.gsis + table.lsis:
            step = _index_query(index, own, names, is_global=index in table.gsis)
            if step is not None:
                steps.append(step)
    return steps


def _get(entity: Entity, names: set[str]) -> StarterStep:
    name = _unique(f"get_{entity.name}", names)
    step = {"name": name, "op": "GetItem", "table": entity.table.name, "pick": _pick(entity), "weight": 1}
    return StarterStep(step, f"GetItem of one {entity.name} by its full key")


def _query(entity: Entity, names: set[str]) -> StarterStep:
    table = entity.table
    condition, attribute_names, values = "#pk = :pk", {"#pk": table.hash}, {":pk": "{" + table.hash + "}"}
    prefix = _prefix(entity, table.range)
    if prefix:
        condition += " AND begins_with(#sk, :prefix)"
        attribute_names["#sk"] = table.range
        values[":prefix"] = prefix
    name = _unique(f"query_{entity.name}", names)
    step = {"name": name, "op": "Query", "table": table.name, "pick": _pick(entity), "key_condition": condition,
            "names": attribute_names, "values": values, "limit": QUERY_LIMIT, "weight": 1}  # fmt: skip
    what = f"the items under one {entity.name}'s partition key" + (f" whose {table.range} begins with {prefix!r}" if prefix else "")
    return StarterStep(step, f"Query of {what}")


def _index_query(index: Index, entities: list[Entity], names: set[str], is_global: bool) -> StarterStep | None:
    """A Query of the index for the value an entity writes there; None when no entity writes the index's keys."""
    writers = [entity for entity in entities if index.hash in entity.shapes and (index.range is None or index.range in entity.shapes)]
    if not writers:
        return None
    entity = max(writers, key=lambda writer: writer.presence.get(index.hash, 1.0) * writer.presence.get(index.range, 1.0))
    bound = index.hash if entity.presence.get(index.hash, 1.0) >= 0.995 else f"_{index.hash}_value"
    condition, attribute_names, values = "#pk = :pk", {"#pk": index.hash}, {":pk": "{" + bound + "}"}
    prefix = _prefix(entity, index.range)
    if prefix:
        condition += " AND begins_with(#sk, :prefix)"
        attribute_names["#sk"] = index.range
        values[":prefix"] = prefix
    name = _unique(f"query_{index.name}", names)
    step = {"name": name, "op": "Query", "table": entity.table.name, "index": index.name, "pick": _pick(entity),
            "key_condition": condition, "names": attribute_names, "values": values, "limit": QUERY_LIMIT, "weight": 1}  # fmt: skip
    kind = "GSI" if is_global else "LSI"
    sparse = " (sparse: some picks find nothing)" if bound != index.hash else ""
    return StarterStep(step, f"Query of {kind} {index.name} by {index.hash}, for a {entity.name}'s value{sparse}")


def _pick(entity: Entity) -> dict:
    return {"entity": entity.name, "distribution": DISTRIBUTION}


def _prefix(entity: Entity, attribute: str | None) -> str:
    """The constant prefix of a string sort key's values (begins_with), '' when none or not a string."""
    if attribute is None or attribute not in entity.shapes:
        return ""
    shape = entity.shapes[attribute]
    composed = isinstance(shape.spec, str) and ("{" in shape.spec or "}" in shape.spec)
    return shape.prefix if shape.dynamo_type == "S" and composed else ""  # a constant sort key: the partition key alone finds it


def _unique(name: str, names: set[str]) -> str:
    candidate, number = name, 2
    while candidate in names:
        candidate, number = f"{name}_{number}", number + 1
    names.add(candidate)
    return candidate
