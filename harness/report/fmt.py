"""Numbers as the report prints them; "–" for anything unknown (NaN or None)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

MISSING = "–"


def _unknown(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    """12,345"""
    return MISSING if _unknown(value) else f"{int(value):,}"


def ms(value) -> str:
    """Milliseconds with about 3 significant digits: 0.84, 24.3, 1,016."""
    if _unknown(value):
        return MISSING
    if float(value).is_integer():
        return f"{int(value):,}"  # Locust's own percentiles are whole milliseconds
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def rate(value) -> str:
    """Per-second rates and capacity units: 145.3"""
    return MISSING if _unknown(value) else f"{value:,.1f}"


def units(value) -> str:
    """Capacity units, which come in halves: 147.5, 12"""
    return MISSING if _unknown(value) else f"{value:,.1f}".removesuffix(".0")


def percent(value) -> str:
    """A ratio as a percentage: 0.0123 -> 1.23%"""
    return MISSING if _unknown(value) else f"{100 * value:.2f}%"


def ratio(value) -> str:
    """A plain ratio such as retries per request: 0.42"""
    return MISSING if _unknown(value) else f"{value:.2f}"


def usd(value) -> str:
    """Dollars with 3 significant digits below $1 ($0.000123), cents above ($1,234.56)."""
    if _unknown(value):
        return MISSING
    if value == 0:
        return "$0"
    if abs(value) < 0.000001:
        return "<$0.000001"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    digits = max(2, 2 - math.floor(math.log10(abs(value))))
    return f"${value:.{digits}f}"


def seconds(value) -> str:
    """A duration: 4.1 s, 12 min 30 s, 1 h 0 min."""
    if _unknown(value):
        return MISSING
    if value < 120:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def utc(timestamp) -> str:
    """A UNIX time as 2026-01-01 12:00:00 UTC."""
    if _unknown(timestamp):
        return MISSING
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def limit(metric: str, value) -> str:
    """A threshold value in its metric's unit."""
    if _unknown(value):
        return MISSING
    return f"{value:.4g}" if metric.endswith("_ratio") else f"{value:.4g} ms"
