"""CloudFormation templates to table designs, and a scenario's tables back to a template.

Reads `AWS::DynamoDB::Table` and `AWS::DynamoDB::GlobalTable` resources: KeySchema,
AttributeDefinitions, GlobalSecondaryIndexes, LocalSecondaryIndexes, BillingMode,
ProvisionedThroughput (a GlobalTable's write and replica read settings) and OnDemandThroughput.
A template has no items: the importer generates them from the key and attribute types.
"""

from __future__ import annotations

import json
import re

from harness.errors import BadInput
from harness.modeling.design import Capacity, Facet, Index, Model, TableDesign
from harness.modeling.workbench import BILLING_MODES, DEFAULT_UNITS, PROJECTIONS
from harness.scenario import Scenario, TableSpec

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def parse_cloudformation(document: dict, source: str) -> Model:
    """The DynamoDB tables of a CloudFormation template; BadInput naming the resource and field of the first problem."""
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        raise BadInput(f"{source}: Resources: expected a mapping of resources, found {type(resources).__name__}")
    parameters = document.get("Parameters") if isinstance(document.get("Parameters"), dict) else {}
    tables = [
        _table(logical_id, resource, parameters, f"Resources.{logical_id}", source)
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") in TABLE_TYPES
    ]
    if not tables:
        raise BadInput(f"{source}: Resources: no AWS::DynamoDB::Table or AWS::DynamoDB::GlobalTable resource")
    description = document.get("Description")
    return Model(name=description if isinstance(description, str) else "template", source_format="cloudformation", tables=tables)


def _table(logical_id: str, resource: dict, parameters: dict, where: str, source: str) -> TableDesign:
    def fail(field: str, message: str):
        raise BadInput(f"{source}: {where}.{field}: {message}")

    properties = resource.get("Properties")
    if not isinstance(properties, dict):
        fail("Properties", "expected the table's properties, found none")
    resolve = _resolver(parameters, fail)
    name = resolve(properties.get("TableName"), "Properties.TableName")
    name = name if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_.\-]{3,255}", name) else _table_name(logical_id)
    definitions = {}
    for j, definition in enumerate(properties.get("AttributeDefinitions") or []):
        if not isinstance(definition, dict) or definition.get("AttributeType") not in ("S", "N", "B"):
            fail(f"Properties.AttributeDefinitions[{j}]", f"expected {{AttributeName, AttributeType: S | N | B}}, found {definition!r}")
        definitions[definition["AttributeName"]] = definition["AttributeType"]
    hash_name, range_name = _key_schema(properties.get("KeySchema"), "Properties.KeySchema", definitions, fail)
    billing = resolve(properties.get("BillingMode", "PROVISIONED"), "Properties.BillingMode")
    if billing not in BILLING_MODES:
        fail("Properties.BillingMode", f"expected PROVISIONED or PAY_PER_REQUEST, found {billing!r}")
    capacity = _table_capacity(resource["Type"], properties, resolve) if billing == "PROVISIONED" else None
    table = TableDesign(name=name, attributes={}, hash=hash_name, range=range_name, billing_mode=billing, capacity=capacity)
    for j, index in enumerate(properties.get("GlobalSecondaryIndexes") or []):
        table.gsis.append(_index(index, f"Properties.GlobalSecondaryIndexes[{j}]", definitions, table, resolve, fail, is_global=True))
    for j, index in enumerate(properties.get("LocalSecondaryIndexes") or []):
        table.lsis.append(_index(index, f"Properties.LocalSecondaryIndexes[{j}]", definitions, table, resolve, fail, is_global=False))
    used = set(table.key_names()) | {name for index in table.gsis + table.lsis for name in (index.hash, index.range) if name}
    table.attributes = {name: kind for name, kind in definitions.items() if name in used}
    on_demand = properties.get("OnDemandThroughput")
    if isinstance(on_demand, dict) and on_demand:
        limits = ", ".join(f"{field} {value}" for field, value in on_demand.items())
        table.notes.append(f"OnDemandThroughput in the template ({limits}): not set by the harness")
    table.facets = [Facet(name="", items=[], attributes=dict(table.attributes))]
    return table


def _key_schema(schema: object, where: str, definitions: dict[str, str], fail) -> tuple[str, str | None]:
    if not isinstance(schema, list) or not schema:
        fail(where, f"expected [{{AttributeName, KeyType: HASH}}, ...], found {schema!r}")
    roles = {}
    for element in schema:
        if not isinstance(element, dict) or element.get("KeyType") not in ("HASH", "RANGE"):
            fail(where, f"expected {{AttributeName, KeyType: HASH | RANGE}}, found {element!r}")
        name = element.get("AttributeName")
        if name not in definitions:
            fail(where, f"key attribute {name!r} is not in AttributeDefinitions ({', '.join(definitions) or 'none'})")
        roles[element["KeyType"]] = name
    if "HASH" not in roles:
        fail(where, "expected a HASH key, found none")
    return roles["HASH"], roles.get("RANGE")


def _index(index: object, where: str, definitions: dict[str, str], table: TableDesign, resolve, fail, is_global: bool) -> Index:
    if not isinstance(index, dict) or not isinstance(index.get("IndexName"), str):
        fail(where, f"expected {{IndexName, KeySchema, Projection}}, found {index!r}")
    hash_name, range_name = _key_schema(index.get("KeySchema"), f"{where}.KeySchema", definitions, fail)
    if not is_global and (hash_name != table.hash or range_name is None):
        fail(f"{where}.KeySchema", f"a local secondary index has the table's partition key {table.hash!r} and a sort key, found {hash_name!r}, {range_name!r}")
    projection = index.get("Projection") if isinstance(index.get("Projection"), dict) else {}
    kind = projection.get("ProjectionType", "ALL" if not projection else None)
    if kind not in PROJECTIONS:
        fail(f"{where}.Projection.ProjectionType", f"expected one of ALL, KEYS_ONLY, INCLUDE, found {kind!r}")
    included = tuple(projection.get("NonKeyAttributes") or ()) if kind == "INCLUDE" else ()
    capacity = None
    if is_global and table.billing_mode == "PROVISIONED":
        throughput = index.get("ProvisionedThroughput") or {}
        capacity = _units(throughput, resolve, f"{where}.ProvisionedThroughput") if throughput else table.capacity
    return Index(index["IndexName"], hash_name, range_name, kind, included, capacity)


def _table_capacity(kind: str, properties: dict, resolve) -> Capacity:
    if kind == "AWS::DynamoDB::Table":
        return _units(properties.get("ProvisionedThroughput") or {}, resolve, "Properties.ProvisionedThroughput")
    write = (properties.get("WriteProvisionedThroughputSettings") or {}).get("WriteCapacityAutoScalingSettings") or {}
    replicas = properties.get("Replicas") or [{}]
    read = (replicas[0] or {}).get("ReadProvisionedThroughputSettings") or {}
    read_units = read.get("ReadCapacityUnits") or (read.get("ReadCapacityAutoScalingSettings") or {}).get("MinCapacity", DEFAULT_UNITS)
    return Capacity(int(resolve(read_units, "Properties.Replicas[0]")), int(resolve(write.get("MinCapacity", DEFAULT_UNITS), "Properties.WriteProvisionedThroughputSettings")))


def _units(throughput: dict, resolve, where: str) -> Capacity:
    return Capacity(*(int(resolve(throughput.get(field, DEFAULT_UNITS), f"{where}.{field}")) for field in ("ReadCapacityUnits", "WriteCapacityUnits")))


def _resolver(parameters: dict, fail):
    """A value, with {"Ref": parameter} replaced by the parameter's Default (other intrinsics stay as they are)."""

    def resolve(value: object, where: str) -> object:
        if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            for name in re.findall(r"\$\{([A-Za-z0-9]+)\}", text):
                if "Default" in parameters.get(name, {}):
                    text = text.replace("${" + name + "}", str(parameters[name]["Default"]))
            return text if "${" not in text else value
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
            if "Default" not in parameters[value["Ref"]]:
                fail(where, f"refers to parameter {value['Ref']!r}, which has no Default to take")
            return parameters[value["Ref"]]["Default"]
        return value

    return resolve


def _table_name(logical_id: str) -> str:
    return logical_id if len(logical_id) >= 3 else f"{logical_id}-table"


# ---- export ----------------------------------------------------------------------------------


def export_cloudformation(scenario: Scenario) -> str:
    """The scenario's tables as a CloudFormation template (JSON text), one AWS::DynamoDB::Table each."""
    resources = {_logical_id(table.name, position): {"Type": "AWS::DynamoDB::Table", "Properties": table_properties(table)} for position, table in enumerate(scenario.tables)}
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Tables of the ddb-harness scenario {scenario.name}",
        "Resources": resources,
    }
    return json.dumps(template, indent=2) + "\n"


def table_properties(table: TableSpec) -> dict:
    """An AWS::DynamoDB::Table's Properties for one scenario table."""
    properties: dict = {
        "TableName": table.name,
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind} for name, kind in table.attributes.items()],
        "KeySchema": _schema(table.key.hash, table.key.range),
        "BillingMode": table.billing_mode,
    }
    if table.capacity is not None:
        properties["ProvisionedThroughput"] = _throughput(table.capacity)
    if table.gsis:
        properties["GlobalSecondaryIndexes"] = [
            {"IndexName": index.name, "KeySchema": _schema(index.key.hash, index.key.range), "Projection": _projection(index.projection)}
            | ({"ProvisionedThroughput": _throughput(index.capacity)} if index.capacity is not None else {})
            for index in table.gsis
        ]
    if table.lsis:
        properties["LocalSecondaryIndexes"] = [
            {"IndexName": index.name, "KeySchema": _schema(table.key.hash, index.range), "Projection": _projection(index.projection)} for index in table.lsis
        ]
    return properties


def _schema(hash_name: str, range_name: str | None) -> list[dict]:
    return [{"AttributeName": hash_name, "KeyType": "HASH"}] + ([{"AttributeName": range_name, "KeyType": "RANGE"}] if range_name else [])


def _throughput(capacity) -> dict:
    return {"ReadCapacityUnits": capacity.read, "WriteCapacityUnits": capacity.write}


def _projection(projection) -> dict:
    wire = {"ProjectionType": projection.type}
    if projection.non_key_attributes:
        wire["NonKeyAttributes"] = list(projection.non_key_attributes)
    return wire


def _logical_id(name: str, position: int) -> str:
    """CloudFormation logical ids are alphanumeric: 'social-posts' -> 'SocialPostsTable'."""
    words = re.split(r"[^A-Za-z0-9]+", name)
    camel = "".join(word[:1].upper() + word[1:] for word in words if word)
    return (camel if camel[:1].isalpha() else f"T{camel}") + "Table" if camel else f"Table{position}"
