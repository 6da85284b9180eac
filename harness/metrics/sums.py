"""Numbers summed per key: a tiny table that merges by addition and travels as plain rows."""

from __future__ import annotations

from typing import Iterable, Sequence

Number = int | float


class Sums:
    """Rows of `key columns + value columns`; adding a row with a known key adds its values."""

    def __init__(self, key_width: int):
        self.key_width = key_width
        self._values: dict[tuple, list[Number]] = {}

    def add(self, key: tuple, *values: Number) -> None:
        """Add `values` to the row `key` (a new row starts at zero)."""
        current = self._values.get(key)
        if current is None:
            self._values[key] = list(values)
            return
        for position, value in enumerate(values):
            current[position] += value

    def rows(self) -> list[list]:
        """Every row as `[*key, *values]`, sorted by key (the shape of the CSV rows and the wire)."""
        return [[*key, *values] for key, values in sorted(self._values.items())]

    def add_rows(self, rows: Iterable[Sequence]) -> None:
        """Add rows produced by `rows()` (another process's sums)."""
        for row in rows:
            self.add(tuple(row[: self.key_width]), *row[self.key_width :])

    def __bool__(self) -> bool:
        return bool(self._values)


class Spans:
    """Per key: how many values were seen, their smallest and their largest; merges exactly (count adds, min/max)."""

    def __init__(self, key_width: int):
        self.key_width = key_width
        self._values: dict[tuple, list[Number]] = {}

    def add(self, key: tuple, value: Number, count: int = 1, largest: Number | None = None) -> None:
        """Note `count` values from `value` to `largest` (one value when `largest` is None) under `key`."""
        largest = value if largest is None else largest
        current = self._values.get(key)
        if current is None:
            self._values[key] = [count, value, largest]
            return
        current[0] += count
        current[1] = min(current[1], value)
        current[2] = max(current[2], largest)

    def rows(self) -> list[list]:
        """Every row as `[*key, count, min, max]`, sorted by key."""
        return [[*key, *values] for key, values in sorted(self._values.items())]

    def add_rows(self, rows: Iterable[Sequence]) -> None:
        """Add rows produced by `rows()` (another process's spans)."""
        for row in rows:
            count, smallest, largest = row[self.key_width :]
            self.add(tuple(row[: self.key_width]), smallest, count, largest)

    def __bool__(self) -> bool:
        return bool(self._values)
