"""The report as a document: titled sections of paragraphs, tables and images, rendered to Markdown and HTML.

Paragraphs may use `code` and **bold**; both renderers understand that much.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """Header and rows of text; `numeric` columns are right-aligned."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


@dataclass(frozen=True)
class Image:
    """A PNG in the run folder."""

    file: str
    alt: str


Block = str | Table | Image


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]


def table(columns: list[str], rows: list[list[str]], numeric: set[str] | None = None) -> Table:
    """A Table whose named columns are right-aligned."""
    numeric = numeric or set()
    return Table(tuple(columns), tuple(tuple(row) for row in rows), tuple(column in numeric for column in columns))
