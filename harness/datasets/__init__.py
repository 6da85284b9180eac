"""Deterministic item generators, one module per data model; items are in DynamoDB wire format.

May import the scenario model and the shared leaves; never Locust, never a client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from harness.datasets import logfile, orders, ring, template
from harness.errors import BadInput
from harness.scenario import LogfileDataset, Scenario, TableSpec, TemplateDataset

MODELS = {"orders": orders, "ring": ring, "logfile": logfile, "template": template}


def model(name: str) -> ModuleType:
    """The dataset module for a model name; ValueError listing the known names when there is none."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown data model {name!r}; known models: {known}") from None


def dataset_items(spec: TableSpec) -> tuple[Iterator[dict], int]:
    """The items of a table's dataset and how many there are."""
    dataset = spec.dataset
    if isinstance(dataset, TemplateDataset):
        items = template.TemplateItems(dataset, required_attributes=spec.key.names(), path=f"table {spec.name}: dataset")
        return items.generate_items(), items.total_items()
    generator = model(dataset.model)
    if isinstance(dataset, LogfileDataset) and dataset.source:
        total = generator.count_csv_rows(dataset.source)
        limit = dataset.size or None
        return generator.read_csv(dataset.source, shards=dataset.shards, limit=limit), min(total, limit or total)
    options = {"shards": dataset.shards} if isinstance(dataset, LogfileDataset) else {}
    if dataset.model == "orders":
        options = {"accounts": dataset.accounts, "customers": dataset.customers}
    return generator.generate_items(dataset.size, dataset.seed, **options), dataset.size


def check_datasets(scenario: Scenario, source: str | Path) -> None:
    """What the scenario's validation cannot see without this layer: every template dataset compiles
    (its Faker providers exist) and its source files are there. BadInput naming file and field."""
    for i, table in enumerate(scenario.tables):
        if not isinstance(table.dataset, TemplateDataset):
            continue
        path = f"tables[{i}].dataset"
        for j, entity in enumerate(table.dataset.entities):
            if entity.source is not None and not Path(entity.source.file).is_file():
                raise BadInput(f"{source}: {path}.entities[{j}].source.file: no such file: {entity.source.file}")
        try:
            template.TemplateItems(table.dataset, required_attributes=table.key.names(), path=path)
        except BadInput as exc:
            raise BadInput(f"{source}: {exc}") from None
