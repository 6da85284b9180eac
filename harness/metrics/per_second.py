"""Numbers summed per second of a run: Sums' rows and merge, stored as one array per series.

A run's per-second rows (capacity consumed, throttled attempts, open-model starts) grow with its
length. As dict entries they cost ~350 bytes a row, and a master that merges them for hours grows
steadily; here a series (the key without its second) keeps one machine number per second and value
column: 8 bytes. Rows whose values are all zero are not rows, so the output equals Sums'.
"""

from __future__ import annotations

from array import array
from typing import Iterable, Iterator, Sequence

from harness.metrics.sums import Sums

Number = int | float

MAX_SPAN_SECONDS = 31 * 86_400
"""A series spans at most this many seconds (8 bytes each per column); a second further out (a clock far off) is kept as a plain row."""


def _zeros(column: array, count: int) -> array:
    """`count` zeros of the column's type."""
    return array(column.typecode, bytes(count * column.itemsize))


class _Series:
    """The seconds from `first` on, one array per value column."""

    __slots__ = ("first", "columns")

    def __init__(self, first: int, width: int, typecode: str):
        self.first = first
        self.columns = [array(typecode) for _ in range(width)]

    def add(self, second: int, values: Sequence[Number]) -> None:
        if second < self.first:
            missing = self.first - second
            for column in self.columns:
                column[0:0] = _zeros(column, missing)
            self.first = second
        offset = second - self.first
        for column, value in zip(self.columns, values, strict=True):
            if offset >= len(column):
                column.extend(_zeros(column, offset + 1 - len(column)))
            column[offset] += value

    def first_row(self) -> int | None:
        return next((at for at, _ in self.rows_from(self.first)), None)

    def rows_from(self, second: int) -> Iterator[tuple[int, list[Number]]]:
        start = max(0, second - self.first)
        for offset in range(start, len(self.columns[0])):
            values = [column[offset] for column in self.columns]
            if any(values):
                yield self.first + offset, values


class PerSecondSums:
    """Rows of `(second, *key columns) + value columns`, as Sums, for keys whose first column is a second."""

    def __init__(self, key_width: int, typecode: str = "d"):
        """`key_width` counts the second; `typecode` is the arrays' ("d": floats such as units, "q": counts)."""
        self.key_width = key_width
        self.typecode = typecode
        self._series: dict[tuple, _Series] = {}
        self._far = Sums(key_width)
        """Rows whose second lies more than MAX_SPAN_SECONDS from their series' others."""

    def add(self, key: tuple, *values: Number) -> None:
        """Add `values` to the row `key` (its first column the second)."""
        second, series_key = int(key[0]), tuple(key[1:])
        series = self._series.get(series_key)
        if series is None:
            series = self._series[series_key] = _Series(second, len(values), self.typecode)
        elif not series.first + len(series.columns[0]) - MAX_SPAN_SECONDS < second < series.first + MAX_SPAN_SECONDS:
            self._far.add((second, *series_key), *values)
            return
        series.add(second, values)

    def rows(self) -> list[list]:
        """Every non-zero row as `[second, *key, *values]`, sorted (the shape of the CSV rows and the wire)."""
        return self.rows_since(None)

    def rows_since(self, second: int | None) -> list[list]:
        """The rows from `second` on (every row when None), sorted: what a window of the last minutes reads."""
        found = []
        for series_key, series in self._series.items():
            for at, values in series.rows_from(series.first if second is None else second):
                found.append([at, *series_key, *values])
        found += [row for row in self._far.rows() if second is None or row[0] >= second]
        found.sort(key=lambda row: row[: self.key_width])
        return found

    def first_second(self) -> int | None:
        """The earliest second with a row (None when empty)."""
        firsts = [at for at in (series.first_row() for series in self._series.values()) if at is not None]
        firsts += [row[0] for row in self._far.rows()[:1]]
        return min(firsts) if firsts else None

    def totals(self) -> dict[tuple, list[Number]]:
        """Per key without its second: each value column summed over the whole run."""
        found = {series_key: [sum(column) for column in series.columns] for series_key, series in self._series.items()}
        for _second, *rest in self._far.rows():
            series_key, values = tuple(rest[: self.key_width - 1]), rest[self.key_width - 1 :]
            found[series_key] = [total + value for total, value in zip(found.get(series_key, [0] * len(values)), values, strict=True)]
        return found

    def add_rows(self, rows: Iterable[Sequence]) -> None:
        """Add rows produced by `rows()` (another process's sums)."""
        width = self.key_width
        for row in rows:
            self.add(tuple(row[:width]), *row[width:])

    def __bool__(self) -> bool:
        return bool(self._far) or any(series.first_row() is not None for series in self._series.values())
