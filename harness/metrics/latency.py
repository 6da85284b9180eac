"""Exact latencies: one HDR histogram per (request_type, name), microsecond resolution, mergeable.

Locust's own percentiles are bucketed (whole milliseconds below 100 ms, two significant digits
above). HdrHistogram keeps 3 significant digits at every magnitude (25.0 ms is known to within
about 16 microseconds) in a fixed-size structure whose compressed encoding merges across processes.
"""

from __future__ import annotations

import math

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour; longer requests are recorded as one hour
SIGNIFICANT_DIGITS = 3
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
RAW_WIRE_LIMIT = 32
"""A histogram of at most this many values travels as the values themselves: merging them costs the
master a few microseconds, where decoding a compressed histogram costs ~50 (it allocates the whole
counts array). Busier histograms travel compressed."""
AGGREGATED = ("", "Aggregated")  # Locust's own key for the total row

Key = tuple[str, str]


def new_histogram() -> HdrHistogram:
    """An empty histogram of microseconds with the harness's range and precision."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def to_microseconds(response_time_ms: float) -> int:
    """Locust's float milliseconds as whole microseconds inside the histogram's range."""
    return min(max(int(round(response_time_ms * 1000)), 0), HIGHEST_US)


class LatencyHistograms:
    """HDR histograms of response times keyed by Locust's stats key (request_type, name)."""

    def __init__(self):
        self._by_key: dict[Key, HdrHistogram] = {}
        self._raw: dict[Key, list[int]] = {}
        """The values recorded here, per key, while there are at most RAW_WIRE_LIMIT of them."""

    def record(self, key: Key, response_time_ms: float) -> None:
        """Record one response time (Locust's float milliseconds)."""
        microseconds = to_microseconds(response_time_ms)
        histogram = self._by_key.get(key)
        if histogram is None:
            histogram = self._by_key[key] = new_histogram()
            self._raw[key] = []
        histogram.record_value(microseconds)
        raw = self._raw.get(key)
        if raw is not None:
            if len(raw) < RAW_WIRE_LIMIT:
                raw.append(microseconds)
            else:
                del self._raw[key]

    def encoded_rows(self) -> list[list[str]]:
        """[request_type, name, base64 of HdrHistogram's compressed encoding] per key."""
        return [[*key, histogram.encode().decode("ascii")] for key, histogram in sorted(self._by_key.items())]

    def wire_rows(self) -> list[list]:
        """What a worker sends: [request_type, name, the microsecond values] for a histogram of a few values, else encoded_rows()'s row."""
        return [[*key, self._raw[key] if key in self._raw else histogram.encode().decode("ascii")] for key, histogram in sorted(self._by_key.items())]

    def add_encoded_rows(self, rows) -> None:
        """Merge rows produced by `encoded_rows()` or `wire_rows()` (another process's histograms)."""
        for request_type, name, values in rows:
            key = (request_type, name)
            histogram = self._by_key.get(key)
            if histogram is None:
                histogram = self._by_key[key] = new_histogram()
            if isinstance(values, str):
                histogram.decode_and_add(values)
                self._raw.pop(key, None)
                continue
            for microseconds in values:
                histogram.record_value(microseconds)
            self._raw.pop(key, None)  # values merged from elsewhere: this histogram travels compressed from now on

    def aggregated(self) -> HdrHistogram:
        """All keys merged, like Locust's Aggregated row."""
        total = new_histogram()
        for histogram in self._by_key.values():
            total.add(histogram)
        return total

    def percentile_rows(self) -> list[list]:
        """One row per key plus the Aggregated row, in harness_latency.csv's columns (milliseconds)."""
        rows = [[*key, *summary_of(histogram)] for key, histogram in sorted(self._by_key.items())]
        if self._by_key:
            rows.append([*AGGREGATED, *summary_of(self.aggregated())])
        return rows

    def __bool__(self) -> bool:
        return bool(self._by_key)


def summary_of(histogram: HdrHistogram) -> list:
    """count, min, mean, p50, p90, p95, p99, p99.9, max of one histogram, in milliseconds.

    Percentiles are nearest-rank: the smallest recorded value with at least p% of the counts at or
    below it (rank ceil(p * n / 100), as in HdrHistogram's Java original; hdrh's Python port rounds
    the rank instead, which can land one value too low: p99 of 160 samples is the 159th, hdrh takes
    the 158th). Each value is the highest equivalent value of its bucket. One pass over the counts
    array: hdrh's own mean and percentile iterators cost hundreds of ms per histogram.
    """
    total = histogram.get_total_count()
    ranks = {percentile: max(math.ceil(percentile * total / 100 - 1e-9), 1) for percentile in PERCENTILES}
    values: dict[float, int] = {}
    running = weighted = 0
    for index, count in _nonzero_counts(histogram):
        lowest = histogram.get_value_from_index(index)
        highest = histogram.get_highest_equivalent_value(lowest)
        running += count
        weighted += count * (lowest + (highest - lowest + 1) // 2)  # the bucket's median equivalent value
        for percentile, rank in ranks.items():
            if percentile not in values and running >= rank:
                values[percentile] = highest
    return [
        total,
        _ms(histogram.get_min_value()),
        _ms(weighted / total if total else 0),
        *(_ms(values.get(percentile, 0)) for percentile in PERCENTILES),
        _ms(histogram.get_max_value()),
    ]


def _nonzero_counts(histogram: HdrHistogram):
    """(index, count) of every non-empty bucket, in value order."""
    length = min(histogram.counts_len, histogram.encoder.payload.counts_len)  # decoded histograms may be shorter
    return ((index, count) for index, count in enumerate(histogram.counts[:length]) if count)


def _ms(microseconds: float) -> float:
    return round(microseconds / 1000, 3)
