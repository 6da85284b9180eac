"""A table design as both model formats describe it: tables, keys, indexes, billing and sample items by facet."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Capacity:
    """Provisioned read and write capacity units."""

    read: int
    write: int


@dataclass(frozen=True)
class Index:
    """A GSI (`hash` and optional `range`) or an LSI (`hash` is the table's partition key)."""

    name: str
    hash: str
    range: str | None
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()
    capacity: Capacity | None = None


@dataclass
class Facet:
    """One kind of item of a table (a NoSQL Workbench facet, or items grouped by their key prefix)."""

    name: str
    items: list[dict] = field(default_factory=list)
    """Sample items in DynamoDB JSON ({"pk": {"S": "USER#1"}, ...})."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Attributes the facet declares (name -> DynamoDB type), sampled or not."""


@dataclass
class TableDesign:
    """One table of a model."""

    name: str
    attributes: dict[str, str]
    """Every attribute a key or index uses, with its type (S, N, B): CreateTable's AttributeDefinitions."""
    hash: str
    range: str | None
    billing_mode: str = "PAY_PER_REQUEST"
    capacity: Capacity | None = None
    gsis: list[Index] = field(default_factory=list)
    lsis: list[Index] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    declared: dict[str, str] = field(default_factory=dict)
    """Non-key attributes the model declares, name -> type (generated from the type when no sample has them)."""
    notes: list[str] = field(default_factory=list)
    """What the model says that a scenario cannot carry (written as comments)."""

    def key_names(self) -> tuple[str, ...]:
        """The table's key attribute names, partition key first."""
        return (self.hash,) if self.range is None else (self.hash, self.range)


@dataclass
class Model:
    """A whole model: its name, the format it came in, and its tables."""

    name: str
    source_format: str
    tables: list[TableDesign]
