"""NoSQL Workbench model exports (JSON) to table designs.

The export (DynamoDB developer guide, "NoSQL Workbench", data modeler, export) holds `ModelName`,
`ModelMetadata` and `DataModel[]`: one entry a table with `TableName`, `KeyAttributes`
(`PartitionKey`, `SortKey`: `AttributeName`, `AttributeType`), `NonKeyAttributes`,
`GlobalSecondaryIndexes` (`IndexName`, `KeyAttributes`, `Projection`), `BillingMode`,
`ProvisionedCapacitySettings`, sample items in `TableData` and facets in `TableFacets[]`
(`FacetName`, `KeyAttributeAlias`, `NonKeyAttributes`, `TableData`).
"""

from __future__ import annotations

from harness.errors import BadInput
from harness.modeling.design import Capacity, Facet, Index, Model, TableDesign

PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")
WIRE_TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
DEFAULT_UNITS = 5  # what the modeler proposes for a new provisioned table


def parse_workbench(document: dict, source: str) -> Model:
    """The tables of a NoSQL Workbench export; BadInput naming the file and field of the first problem."""
    tables = document.get("DataModel")
    if not isinstance(tables, list) or not tables:
        raise BadInput(f"{source}: DataModel: expected a list of tables, found {_show(tables)}")
    designs = [_table(entry, f"DataModel[{i}]", source) for i, entry in enumerate(tables)]
    name = document.get("ModelName") if isinstance(document.get("ModelName"), str) else "model"
    return Model(name=name, source_format="workbench", tables=designs)


def _table(entry: object, where: str, source: str) -> TableDesign:
    fail = _failer(source)
    if not isinstance(entry, dict):
        fail(where, f"expected a table (an object), found {_show(entry)}")
    name = entry.get("TableName")
    if not isinstance(name, str) or not name:
        fail(f"{where}.TableName", f"expected a table name, found {_show(name)}")
    keys = entry.get("KeyAttributes")
    if not isinstance(keys, dict):
        fail(f"{where}.KeyAttributes", f"expected PartitionKey (and SortKey), found {_show(keys)}")
    hash_name, hash_type = _attribute(keys.get("PartitionKey"), f"{where}.KeyAttributes.PartitionKey", fail)
    attributes = {hash_name: hash_type}
    range_name = None
    if keys.get("SortKey") is not None:
        range_name, attributes[range_name] = _attribute(keys["SortKey"], f"{where}.KeyAttributes.SortKey", fail)
    declared = {}
    for j, attribute in enumerate(entry.get("NonKeyAttributes") or []):
        attribute_name, kind = _attribute(attribute, f"{where}.NonKeyAttributes[{j}]", fail)
        declared[attribute_name] = kind
    known = {**attributes, **declared}
    billing, capacity = _billing(entry, where, fail)
    table = TableDesign(name=name, attributes=attributes, hash=hash_name, range=range_name, billing_mode=billing, capacity=capacity, declared=declared)
    for j, index in enumerate(entry.get("GlobalSecondaryIndexes") or []):
        table.gsis.append(_gsi(index, f"{where}.GlobalSecondaryIndexes[{j}]", known, table, fail))
    table.facets = _facets(entry, where, table, known, fail)
    return table


def _attribute(value: object, where: str, fail) -> tuple[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("AttributeName"), str) or not value.get("AttributeName"):
        fail(where, f"expected {{AttributeName, AttributeType}}, found {_show(value)}")
    kind = value.get("AttributeType", "S")
    if kind not in ("S", "N", "B", "BOOL", "M", "L", "SS", "NS", "BS", "NULL"):
        fail(f"{where}.AttributeType", f"expected a DynamoDB type (S, N, B, BOOL, M, L, SS, NS, BS, NULL), found {_show(kind)}")
    return value["AttributeName"], kind


def _billing(entry: dict, where: str, fail) -> tuple[str, Capacity | None]:
    billing = entry.get("BillingMode", "PROVISIONED")
    if billing not in BILLING_MODES:
        fail(f"{where}.BillingMode", f"expected PROVISIONED or PAY_PER_REQUEST, found {_show(billing)}")
    if billing == "PAY_PER_REQUEST":
        return billing, None
    settings = (entry.get("ProvisionedCapacitySettings") or {}).get("ProvisionedThroughput") or {}
    return billing, _capacity(settings, f"{where}.ProvisionedCapacitySettings.ProvisionedThroughput", fail)


def _capacity(settings: dict, where: str, fail) -> Capacity:
    units = []
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = settings.get(field, DEFAULT_UNITS)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            fail(f"{where}.{field}", f"expected a whole number of units (1 or more), found {_show(value)}")
        units.append(value)
    return Capacity(*units)


def _gsi(index: object, where: str, known: dict[str, str], table: TableDesign, fail) -> Index:
    if not isinstance(index, dict) or not isinstance(index.get("IndexName"), str):
        fail(where, f"expected {{IndexName, KeyAttributes, Projection}}, found {_show(index)}")
    keys = index.get("KeyAttributes")
    if not isinstance(keys, dict):
        fail(f"{where}.KeyAttributes", f"expected PartitionKey (and SortKey), found {_show(keys)}")
    names = []
    for role in ("PartitionKey", "SortKey"):
        if keys.get(role) is None:
            names.append(None)
            continue
        name, kind = _attribute(keys[role], f"{where}.KeyAttributes.{role}", fail)
        if name not in known:
            fail(f"{where}.KeyAttributes.{role}", f"attribute {name!r} is not defined by table {table.name!r} (its attributes: {', '.join(known)})")
        table.attributes[name] = kind
        names.append(name)
    if names[0] is None:
        fail(f"{where}.KeyAttributes.PartitionKey", "required field is missing")
    projection = index.get("Projection") or {"ProjectionType": "ALL"}
    kind = projection.get("ProjectionType") if isinstance(projection, dict) else projection
    if kind not in PROJECTIONS:
        fail(f"{where}.Projection.ProjectionType", f"expected one of ALL, KEYS_ONLY, INCLUDE, found {_show(kind)}")
    included = tuple(projection.get("NonKeyAttributes") or ()) if kind == "INCLUDE" else ()
    if kind == "INCLUDE" and not included:
        fail(f"{where}.Projection.NonKeyAttributes", "expected the attributes an INCLUDE projection carries, found none")
    capacity = None
    if table.billing_mode == "PROVISIONED":
        capacity = _capacity(index.get("ProvisionedThroughput") or {}, f"{where}.ProvisionedThroughput", fail) if index.get("ProvisionedThroughput") else table.capacity
    return Index(name=index["IndexName"], hash=names[0], range=names[1], projection=kind, non_key_attributes=included, capacity=capacity)


def _facets(entry: dict, where: str, table: TableDesign, known: dict[str, str], fail) -> list[Facet]:
    """The facets with their sample items; table-level TableData goes to the facet it fits best."""
    facets = []
    for j, facet in enumerate(entry.get("TableFacets") or []):
        facet_where = f"{where}.TableFacets[{j}]"
        if not isinstance(facet, dict) or not isinstance(facet.get("FacetName"), str) or not facet["FacetName"]:
            fail(facet_where, f"expected {{FacetName, KeyAttributeAlias, ...}}, found {_show(facet)}")
        _check_alias(facet.get("KeyAttributeAlias"), f"{facet_where}.KeyAttributeAlias", table, fail)
        items = _items(facet.get("TableData"), f"{facet_where}.TableData", table, fail)
        names = [name for name in facet.get("NonKeyAttributes") or [] if isinstance(name, str)]
        declared = {name: known.get(name, "S") for name in (*table.key_names(), *names)}
        facets.append(Facet(name=facet["FacetName"], items=items, attributes=declared))
    shared = _items(entry.get("TableData"), f"{where}.TableData", table, fail)
    if not facets:
        return [Facet(name="", items=shared, attributes=dict(known))]
    for item in shared:
        _best_facet(facets, item).items.append(item)
    return facets


def _check_alias(alias: object, where: str, table: TableDesign, fail) -> None:
    """A facet names the table's keys by alias: a sort key alias needs a table sort key, and the partition key alias is required."""
    if not isinstance(alias, dict):
        fail(where, f"expected {{PartitionKeyAlias, SortKeyAlias}}, found {_show(alias)}")
    if not alias.get("PartitionKeyAlias"):
        fail(f"{where}.PartitionKeyAlias", f"required: the facet's name for partition key {table.hash!r}")
    if alias.get("SortKeyAlias") and table.range is None:
        fail(f"{where}.SortKeyAlias", f"names a sort key ({alias['SortKeyAlias']!r}), but table {table.name!r} has none (its key: {table.hash})")
    if table.range is not None and not alias.get("SortKeyAlias"):
        fail(f"{where}.SortKeyAlias", f"required: the facet's name for sort key {table.range!r}")


def _items(data: object, where: str, table: TableDesign, fail) -> list[dict]:
    if data is None:
        return []
    if not isinstance(data, list):
        fail(where, f"expected a list of items, found {_show(data)}")
    for k, item in enumerate(data):
        if not isinstance(item, dict) or not all(isinstance(value, dict) and len(value) == 1 for value in item.values()):
            fail(f"{where}[{k}]", f"expected an item in DynamoDB JSON ({{\"pk\": {{\"S\": \"...\"}}}}), found {_show(item)}")
        for name in table.key_names():
            if name not in item:
                fail(f"{where}[{k}]", f"the item has no {name!r}, a key attribute of table {table.name!r}")
    return [{name: _canonical(value, f"{where}[{k}].{name}", fail) for name, value in item.items()} for k, item in enumerate(data)]


def _canonical(value: object, where: str, fail) -> dict:
    """An attribute value in DynamoDB JSON with numbers as text (an export may write {"N": 5})."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in WIRE_TYPES:
        fail(where, f"expected a DynamoDB JSON value such as {{\"S\": \"text\"}}, found {_show(value)}")
    ((kind, content),) = value.items()
    if kind == "N":
        return {"N": str(content)}
    if kind == "NS":
        return {"NS": [str(number) for number in content]}
    if kind == "M" and isinstance(content, dict):
        return {"M": {name: _canonical(entry, f"{where}.{name}", fail) for name, entry in content.items()}}
    if kind == "L" and isinstance(content, list):
        return {"L": [_canonical(entry, f"{where}[{position}]", fail) for position, entry in enumerate(content)]}
    if kind in ("M", "L"):
        fail(where, f"expected a {'map' if kind == 'M' else 'list'} under {kind}, found {_show(content)}")
    return {kind: content}


def _best_facet(facets: list[Facet], item: dict) -> Facet:
    """The facet whose declared attributes the item matches best (ties: the first)."""
    return max(facets, key=lambda facet: len(set(facet.attributes) & set(item)) - len(set(facet.attributes) - set(item)))


def _failer(source: str):
    def fail(where: str, message: str):
        raise BadInput(f"{source}: {where}: {message}")

    return fail


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
