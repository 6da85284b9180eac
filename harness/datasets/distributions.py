"""Key choosers: which existing key a request touches, YCSB-style (uniform, zipfian, hotspot, latest, sequential).

A chooser picks an index among the `count` keys loaded so far: 0 is the first item generated, count-1
the most recently inserted. `count` is passed on every call because inserts grow it during a run.
Randomness comes only from the caller's `random.Random` (one per Locust user, seeded), so a run
replays draw for draw. The ideas are YCSB's (ZipfianGenerator, ScrambledZipfianGenerator,
HotspotIntegerGenerator, SkewedLatestGenerator); the code is our own.

Choosers sit in the request path, so a draw is a handful of float operations (about a microsecond
in CPython); only zipfian and latest do O(count) work, once, to sum zeta when `count` first grows.
"""

from __future__ import annotations

import random
from itertools import repeat
from typing import Protocol

DISTRIBUTIONS = ("uniform", "zipfian", "hotspot", "latest", "sequential")

SKEWED_DISTRIBUTIONS = ("zipfian", "latest")
"""The distributions that read theta."""

_UINT64_MASK = (1 << 64) - 1


class KeyChooser(Protocol):
    """Picks the index of an existing key; the only method a workload calls."""

    def next_index(self, rng: random.Random, count: int) -> int:
        """An index in 0..count-1 (count >= 1), drawn with `rng`."""
        ...


def make_chooser(distribution: str, *, theta: float = 0.99, hot_data_fraction: float = 0.2, hot_op_fraction: float = 0.8) -> KeyChooser:
    """A new chooser for a distribution named in DISTRIBUTIONS; ValueError naming the bad field otherwise.

    Zipfian, latest, uniform and hotspot choosers keep no per-user state (only the cached zeta sum),
    so one may serve every user of a process; a sequential chooser counts, so each instance walks
    the keys once per lap on its own.
    """
    problem = check_parameters(distribution, theta, hot_data_fraction, hot_op_fraction)
    if problem is not None:
        raise ValueError(problem)
    if distribution == "uniform":
        return UniformChooser()
    if distribution == "zipfian":
        return ScrambledZipfianChooser(theta)
    if distribution == "hotspot":
        return HotspotChooser(hot_data_fraction, hot_op_fraction)
    if distribution == "latest":
        return LatestChooser(theta)
    return SequentialChooser()


def check_parameters(distribution: str, theta: float, hot_data_fraction: float, hot_op_fraction: float) -> str | None:
    """None when make_chooser would accept these values, else a one-line message naming the field.

    Only the parameters the distribution reads are checked: a theta set beside `uniform` is ignored.
    """
    if distribution not in DISTRIBUTIONS:
        return f"distribution: expected one of {', '.join(DISTRIBUTIONS)}, found {distribution!r}"
    if distribution in SKEWED_DISTRIBUTIONS and not _is_between(theta, 0.0, 1.0, include_upper=False):
        return f"theta: expected 0 < theta < 1 for {distribution}, found {theta!r}"
    if distribution == "hotspot":
        for field, value in (("hot_data_fraction", hot_data_fraction), ("hot_op_fraction", hot_op_fraction)):
            if not _is_between(value, 0.0, 1.0, include_upper=True):
                return f"{field}: expected 0 < {field} <= 1 for hotspot, found {value!r}"
    return None


def theoretical_top_share(count: int, top_fraction: float, theta: float) -> float:
    """The share of draws that zipfian(theta) over `count` items gives its most popular ranks.

    The top ranks are the first max(1, int(count * top_fraction)), as for hotspot's hot set; the
    share is zeta(top, theta) / zeta(count, theta). Exact, O(count): for tests and reports.
    """
    if count < 1 or not _is_between(top_fraction, 0.0, 1.0, include_upper=True):
        raise ValueError(f"expected count >= 1 and 0 < top_fraction <= 1, found {count!r} and {top_fraction!r}")
    if not _is_between(theta, 0.0, 1.0, include_upper=False):
        raise ValueError(f"theta: expected 0 < theta < 1, found {theta!r}")
    top_count = _leading_count(count, top_fraction)
    top_zeta = zeta(top_count, theta)
    return top_zeta / zeta(count, theta, from_count=top_count, from_zeta=top_zeta)


def zeta(count: int, theta: float, *, from_count: int = 0, from_zeta: float = 0.0) -> float:
    """sum(i ** -theta for i in 1..count), continuing from a known sum over 1..from_count.

    Adding terms in the same order either way, an extended sum equals a fresh one to the last bit or
    nearly, so a growing key space pays only for its new keys.
    """
    if from_count > count:
        raise ValueError(f"from_count: expected at most count ({count}), found {from_count}")
    return sum(map(pow, range(from_count + 1, count + 1), repeat(-theta)), from_zeta)


class UniformChooser:
    """Every index equally likely."""

    def next_index(self, rng: random.Random, count: int) -> int:
        """A uniform index in 0..count-1."""
        return _scale(rng.random(), count)


class HotspotChooser:
    """The first hot_data_fraction of the keys get hot_op_fraction of the draws, uniform within each set."""

    def __init__(self, hot_data_fraction: float, hot_op_fraction: float) -> None:
        self.hot_data_fraction = hot_data_fraction
        self.hot_op_fraction = hot_op_fraction

    def next_index(self, rng: random.Random, count: int) -> int:
        """An index in the hot set (0..h-1) with probability hot_op_fraction, else one in the cold set."""
        hot_count = _leading_count(count, self.hot_data_fraction)
        cold_count = count - hot_count
        uniform = rng.random()
        if cold_count == 0:  # every key is hot: hot_data_fraction 1, or a single key
            return _scale(uniform, hot_count)
        # One uniform serves both choices: below hot_op_fraction it is uniform over [0, hot_op_fraction),
        # so rescaled it picks within the set too; this halves the calls into the rng.
        if uniform < self.hot_op_fraction:
            return _scale(uniform / self.hot_op_fraction, hot_count)
        cold_position = (uniform - self.hot_op_fraction) / (1.0 - self.hot_op_fraction)
        return hot_count + _scale(cold_position, cold_count)


class ZipfianRanks:
    """Zipfian ranks 0..count-1 (0 the most popular) by Gray et al.'s constant-time method.

    From "Quickly generating billion-record synthetic databases" (SIGMOD 1994): ranks 0 and 1 are
    exact, the tail inverts a continuous approximation of the zipfian CDF. Needs zeta(count), which is
    cached and extended when `count` grows.
    """

    def __init__(self, theta: float) -> None:
        self.theta = theta
        self._alpha = 1.0 / (1.0 - theta)
        self._zeta_two = zeta(2, theta)
        self._rank_one_limit = 1.0 + 0.5**theta  # u * zeta(count) below this (and >= 1) means rank 1
        self.count = 0
        self.zeta_count = 0.0
        self._eta = 0.0

    def rank(self, uniform: float, count: int) -> int:
        """The zipfian rank for a uniform draw in [0, 1) over `count` items."""
        if count != self.count:
            self._resize(count)
        scaled = uniform * self.zeta_count
        if scaled < 1.0:
            return 0
        if scaled < self._rank_one_limit:
            return 1
        eta = self._eta
        return min(int(count * (eta * uniform - eta + 1.0) ** self._alpha), count - 1)

    def _resize(self, count: int) -> None:
        if count > self.count:
            self.zeta_count = zeta(count, self.theta, from_count=self.count, from_zeta=self.zeta_count)
        else:
            # Key spaces rarely shrink (a new run, a smaller table): recompute rather than subtract,
            # which would lose precision.
            self.zeta_count = zeta(count, self.theta)
        self.count = count
        self._eta = self._gray_eta(count)

    def _gray_eta(self, count: int) -> float:
        # With two items or fewer every draw is rank 0 or 1 before eta is read, and the formula
        # divides by zero at count == 2.
        if count <= 2:
            return 0.0
        return (1.0 - (2.0 / count) ** (1.0 - self.theta)) / (1.0 - self._zeta_two / self.zeta_count)


class ScrambledZipfianChooser:
    """Zipfian popularity with the popular keys spread over the key space (YCSB's scrambled zipfian).

    The rank is hashed and reduced modulo count, so the hottest keys are not the first ones loaded
    (which would sit together in one DynamoDB partition for sequential keys). Like YCSB, several ranks
    may share an index: the most popular indexes get slightly more than their ranks' share. Unlike
    YCSB, which hashes into a fixed range sized for the expected inserts, the modulus is the current
    count, so each insert moves the hot keys to new indexes.
    """

    def __init__(self, theta: float) -> None:
        self.ranks = ZipfianRanks(theta)

    def next_index(self, rng: random.Random, count: int) -> int:
        """The index of a zipfian rank, scattered by a 64-bit hash."""
        return splitmix64(self.ranks.rank(rng.random(), count)) % count


class LatestChooser:
    """Skewed towards the most recent inserts: index count-1 is the most popular (YCSB's skewed latest)."""

    def __init__(self, theta: float) -> None:
        self.ranks = ZipfianRanks(theta)

    def next_index(self, rng: random.Random, count: int) -> int:
        """count-1 minus an unscrambled zipfian rank, so popularity follows the newest key as count grows."""
        return count - 1 - self.ranks.rank(rng.random(), count)


class SequentialChooser:
    """0, 1, 2, ..., count-1, 0, 1, ...: each key once per lap, in load order; ignores the rng."""

    def __init__(self) -> None:
        self.next_position = 0

    def next_index(self, rng: random.Random, count: int) -> int:
        """The next index, wrapping at the current count (which may have grown or shrunk since the last call)."""
        index = self.next_position if self.next_position < count else 0
        self.next_position = index + 1
        return index


def splitmix64(value: int) -> int:
    """SplitMix64's output of a 64-bit value (Steele, Lea and Flood, 2014): a bijection with full avalanche.

    Chosen over YCSB's FNV-1a because it costs a third as much in CPython (no loop over bytes), and
    its golden-ratio offset keeps rank 0 from landing on index 0.
    """
    mixed = (value + 0x9E3779B97F4A7C15) & _UINT64_MASK
    mixed = ((mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9) & _UINT64_MASK
    mixed = ((mixed ^ (mixed >> 27)) * 0x94D049BB133111EB) & _UINT64_MASK
    return mixed ^ (mixed >> 31)


def _leading_count(count: int, fraction: float) -> int:
    # Rounded down like YCSB's hotspot set, but never empty.
    return max(1, int(count * fraction))


def _scale(uniform: float, count: int) -> int:
    # uniform * count can round up to count itself when uniform is within an ulp of 1.
    return min(int(uniform * count), count - 1)


def _is_between(value: object, lower: float, upper: float, *, include_upper: bool) -> bool:
    # NaN fails both comparisons; bool is an int subclass but never a meaningful fraction.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return lower < value < upper or (include_upper and value == upper)
