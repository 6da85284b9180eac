"""`ddb-harness import`: a model file in, a scenario file out, checked before it is written."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from harness.datasets.sizes import KB, item_size
from harness.datasets.template import TemplateItems
from harness.errors import BadInput
from harness.modeling.cloudformation import parse_cloudformation
from harness.modeling.entities import Entity, entities_of
from harness.modeling.scenario_writer import scenario_text
from harness.modeling.source import WORKBENCH, read_model
from harness.modeling.starter_mix import starter_mix
from harness.modeling.workbench import parse_workbench
from harness.scenario import Scenario, TemplateDataset, parse_scenario

DEFAULT_ITEMS = 1000
SIZE_SAMPLE = 500  # generated items per entity whose sizes are compared with the samples'


@dataclass(frozen=True)
class EntitySummary:
    """What one entity became: where it came from, how many items, sample and generated sizes (KB)."""

    table: str
    entity: str
    facet: str
    samples: int
    items: int
    sample_mean_kb: float | None
    sample_p99_kb: float | None
    generated_mean_kb: float
    generated_p99_kb: float


@dataclass(frozen=True)
class ImportResult:
    """The scenario written and what it holds."""

    path: Path
    scenario: Scenario
    entities: list[EntitySummary]
    steps: int
    seconds: float

    def lines(self) -> list[str]:
        """What the command prints: the file, its tables and entities, and size comparisons."""
        tables = len(self.scenario.tables)
        total = sum(entity.items for entity in self.entities)
        out = [f"wrote {self.path}: {tables} table{'s' * (tables != 1)}, {len(self.entities)} entities, {total:,} items, {self.steps} starter steps ({self.seconds:.2f} s)"]
        for entity in self.entities:
            sampled = f"samples {entity.samples} (mean {entity.sample_mean_kb:.3f} KB, p99 {entity.sample_p99_kb:.3f} KB)" if entity.samples else "no samples"
            out.append(
                f"  {entity.table}.{entity.entity}: {entity.items:,} items; {sampled}; generated mean {entity.generated_mean_kb:.3f} KB, p99 {entity.generated_p99_kb:.3f} KB"
            )
        return out


def import_model(
    model_path: Path, output: Path | None = None, items: int = DEFAULT_ITEMS, scale: dict[str, int] | None = None, force: bool = False, table_prefix: str = ""
) -> ImportResult:
    """Read a NoSQL Workbench export or a CloudFormation template, write a scenario that validates and runs.

    `table_prefix` goes before every table name (to keep the tables apart from others on a shared
    endpoint). Nothing is written when the model is bad (BadInput, one line) or the output exists without `force`.
    """
    started = time.perf_counter()
    model_format, document = read_model(model_path)
    parse = parse_workbench if model_format == WORKBENCH else parse_cloudformation
    model = parse(document, str(model_path))
    for table in model.tables:
        table.name = table_prefix + table.name
    if items < 1:
        raise BadInput(f"--items: expected 1 or more items per entity, found {items}")
    try:
        entities = entities_of(model.tables, items, scale or {})
    except BadInput as exc:
        raise BadInput(f"{model_path}: {exc}") from None
    name = _scenario_name(model.name if model_format == WORKBENCH else model_path.stem)
    output = output or Path("scenarios") / f"{name}.yaml"
    if output.exists() and not force:
        raise BadInput(f"{output}: exists already (use --force to replace it, or -o for another file)")
    sizes = {entity.name: _sample_sizes(entity) for entity in entities}
    steps = starter_mix(entities)
    text = scenario_text(model, model_path.name, name, entities, steps, {name: _size_text(size) for name, size in sizes.items() if size})
    try:
        scenario = parse_scenario(text, source=output)
        summaries = _summaries(scenario, entities, sizes, output.parent)
    except BadInput as exc:  # a rule learnt from this model that the scenario layer refuses: say so, write nothing
        raise BadInput(f"{model_path}: the scenario made from this model does not validate, so nothing was written: {exc}") from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return ImportResult(output, scenario, summaries, len(steps), time.perf_counter() - started)


def _scenario_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", text.strip()).strip("_.-").lower()
    return name or "imported"


def _sample_sizes(entity: Entity) -> list[int]:
    return sorted(item_size(item) for item in entity.samples)


def _size_text(sizes: list[int]) -> str:
    return f"sample items mean {sum(sizes) / len(sizes) / KB:.3f} KB, p99 {_p99(sizes) / KB:.3f} KB"


def _p99(sizes: list[int]) -> int:
    return sizes[min(len(sizes) - 1, int(0.99 * len(sizes)))]


def _summaries(scenario: Scenario, entities: list[Entity], sizes: dict[str, list[int]], base: Path) -> list[EntitySummary]:
    """Generate the first items of every entity (a bad rule fails here, before anything is written) and measure them."""
    summaries = []
    for table in scenario.tables:
        dataset = table.dataset
        if not isinstance(dataset, TemplateDataset):
            continue
        generated = TemplateItems(dataset, base_dir=base, required_attributes=table.key.names(), path=f"tables[{table.name}].dataset")
        for entity in (entity for entity in entities if entity.table.name == table.name):
            count = generated.entity_count(entity.name)
            measured = sorted(item_size(generated.item_at(entity.name, index)) for index in range(min(count, SIZE_SAMPLE)))
            sample = sizes[entity.name]
            summaries.append(
                EntitySummary(
                    table.name, entity.name, entity.facet, len(sample), count,
                    sum(sample) / len(sample) / KB if sample else None, _p99(sample) / KB if sample else None,
                    sum(measured) / len(measured) / KB if measured else 0.0, _p99(measured) / KB if measured else 0.0,
                )
            )  # fmt: skip
    return summaries
