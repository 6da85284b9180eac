"""The imported design as scenario YAML text, with comments saying where each rule came from."""

from __future__ import annotations

import yaml

from harness.modeling.design import Index, Model, TableDesign
from harness.modeling.entities import Entity, attribute_specs
from harness.modeling.starter_mix import StarterStep

SEED = 1
LOAD = {"users": 4, "spawn_rate": 4, "run_time": "30s"}


def scenario_text(model: Model, source: str, name: str, entities: list[Entity], steps: list[StarterStep], sizes: dict[str, str]) -> str:
    """The whole scenario: header, tables with their template datasets, the starter mix and a short load."""
    kind = "NoSQL Workbench model" if model.source_format == "workbench" else "CloudFormation template"
    lines = [
        f"# Imported from {source} ({kind} {model.name!r}) by `ddb-harness import`.",
        "# Each entity below is one facet (or kind of item); its rules were learnt from the model's sample items",
        "# (or, without samples, from the attribute types). Read them, edit them, then run this file.",
        f"name: {_flow(name)}",
        f"description: {_flow(f'Imported from {kind} {model.name}')}",
        "tables:",
    ]
    for table in model.tables:
        lines += _table(table, [entity for entity in entities if entity.table is table], sizes)
    lines += [
        "workload:",
        "  # The starter mix: every access the design has keys for, weights equal and keys zipfian.",
        "  # Set each weight to your traffic (e.g. 80 for a read that is 80% of requests) and remove what you never do.",
        "  mix:",
    ]
    for starter in steps:
        lines.append(f"    # {starter.comment}")
        lines.append(f"    - {_flow(starter.step)}")
    lines += ["load:", *(f"  {key}: {_flow(value)}" for key, value in LOAD.items())]
    return "\n".join(lines) + "\n"


def _table(table: TableDesign, entities: list[Entity], sizes: dict[str, str]) -> list[str]:
    key = {"hash": table.hash} if table.range is None else {"hash": table.hash, "range": table.range}
    lines = [
        f"  - name: {_flow(table.name)}",
        f"    attributes: {_flow(table.attributes)}",
        f"    key: {_flow(key)}",
        f"    billing_mode: {table.billing_mode}",
    ]
    if table.capacity is not None:
        lines.append(f"    capacity: {_flow({'read': table.capacity.read, 'write': table.capacity.write})}")
    lines += [f"    # {note}" for note in table.notes]
    if table.gsis:
        lines.append("    gsis:")
        lines += [f"      - {_flow(_gsi(index))}" for index in table.gsis]
    if table.lsis:
        lines.append("    lsis:")
        lines += [f"      - {_flow({'name': index.name, 'range': index.range, 'projection': _projection(index)})}" for index in table.lsis]
    lines += ["    dataset:", "      model: template", f"      seed: {SEED}", "      entities:"]
    index_keys = {name for index in table.gsis + table.lsis for name in (index.hash, index.range) if name}
    for entity in entities:
        lines += _entity(entity, index_keys, sizes.get(entity.name, ""))
    return lines


def _gsi(index: Index) -> dict:
    key = {"hash": index.hash} if index.range is None else {"hash": index.hash, "range": index.range}
    spec = {"name": index.name, "key": key, "projection": _projection(index)}
    if index.capacity is not None:
        spec["capacity"] = {"read": index.capacity.read, "write": index.capacity.write}
    return spec


def _projection(index: Index) -> dict:
    if index.projection == "INCLUDE":
        return {"type": "INCLUDE", "non_key_attributes": list(index.non_key_attributes)}
    return {"type": index.projection}


def _entity(entity: Entity, index_keys: set[str], sizes: str) -> list[str]:
    origin = f"facet {entity.facet}" if entity.facet and entity.table.facets[0].name else f"items whose key starts {entity.facet}" if entity.facet else "the table's items"
    learnt = f"{origin}: {len(entity.samples)} sample items" if entity.samples else f"{origin}: no sample items, generated from the types"
    lines = [f"        # {learnt}{'; ' + sizes if sizes else ''}", f"        - name: {entity.name}"]
    if entity.parent is None:
        lines.append(f"          count: {entity.count}")
    else:
        seen = ", ".join(str(count) for count in entity.children_seen)
        lines.append(f"          parent: {entity.parent.name}")
        lines.append(f"          per_parent: {_flow(entity.per_parent)}   # the samples have {seen} per {entity.parent.name}")
    lines.append("          attributes:")
    for name, spec, comment in attribute_specs(entity, index_keys):
        lines.append(f"            {_flow(name)}: {_flow(spec)}" + (f"   # {comment}" if comment else ""))
    if entity.skipped:
        lines.append(f"          # not generated (binary, sets and NULL have no generator; an attribute has one type): {', '.join(entity.skipped)}")
    return lines


def _flow(value: object) -> str:
    """One YAML value on one line (flow style), quoted where YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 30, allow_unicode=True).strip()
    return text.removesuffix("\n...").strip()
