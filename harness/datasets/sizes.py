"""Item sizes as DynamoDB counts them, and a summary of a stream of items' sizes.

item_size moved here from harness/safety/cost_ceiling.py so datasets can pad items to a size
with the very function the cost ceiling prices them with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

KB = 1024


def item_size(item: dict) -> int:
    """An item's size as DynamoDB counts it (attribute names plus values), rounded up for numbers."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return len(content) // 2 + 2  # 1 byte per two significant digits, plus 1: never less than DynamoDB's
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + item_size(content)
    if kind == "L":
        return 3 + sum(_value_size(element) + 1 for element in content)
    return 3 + sum(len(str(element)) for element in content)  # SS, NS, BS


class SizeSummary:
    """Sizes of items seen one at a time: min, mean, p99 and max, in constant memory per distinct size.

    Sizes are counted exactly in a histogram of bytes; an item is at most 400 KB, so the histogram
    stays small whatever the number of items.
    """

    def __init__(self) -> None:
        self._counts: Counter[int] = Counter()
        self._items = 0
        self._bytes = 0

    def add(self, item: dict) -> None:
        """Count one wire-format item."""
        size = item_size(item)
        self._counts[size] += 1
        self._items += 1
        self._bytes += size

    def counted(self, items: Iterable[dict]) -> Iterator[dict]:
        """`items` passed through unchanged, each counted on its way (a loader's input)."""
        for item in items:
            self.add(item)
            yield item

    def describe(self) -> str:
        """One line for a log: 'min 0.1 KB, mean 0.2 KB, p99 0.4 KB, max 0.5 KB over 1,000 items'."""
        summary = self.summary()
        return (
            f"min {summary['min_kb']:g} KB, mean {summary['mean_kb']:g} KB, p99 {summary['p99_kb']:g} KB, "
            f"max {summary['max_kb']:g} KB over {summary['items']:,} items"
        )

    def summary(self) -> dict:
        """{min_kb, mean_kb, p99_kb, max_kb, items}; sizes 0 when no item was added."""
        if not self._items:
            return {"min_kb": 0.0, "mean_kb": 0.0, "p99_kb": 0.0, "max_kb": 0.0, "items": 0}
        sizes = sorted(self._counts)
        return {
            "min_kb": _kb(sizes[0]),
            "mean_kb": _kb(self._bytes / self._items),
            "p99_kb": _kb(self._percentile(sizes, 0.99)),
            "max_kb": _kb(sizes[-1]),
            "items": self._items,
        }

    def _percentile(self, sizes: list[int], share: float) -> int:
        """The smallest size that at least `share` of the items do not exceed."""
        needed = share * self._items
        seen = 0
        for size in sizes:
            seen += self._counts[size]
            if seen >= needed:
                return size
        return sizes[-1]


def size_summary(items: Iterable[dict]) -> dict:
    """min_kb, mean_kb, p99_kb, max_kb and items of wire-format items, read once (a stream is fine)."""
    summary = SizeSummary()
    for item in items:
        summary.add(item)
    return summary.summary()


def _kb(size: float) -> float:
    return round(size / KB, 3)
