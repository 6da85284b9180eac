"""Run-time strings as Locust writes them ("90", "30s", "5m", "1h30m") to seconds."""

from __future__ import annotations

import re

_PATTERN = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


def parse_duration(text: str | int) -> int:
    """Seconds in a duration like "45", "30s", "2m", "1h30m"; ValueError when it does not parse or is zero."""
    value = str(text).strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        match = _PATTERN.match(value)
        if not value or match is None:
            raise ValueError(f"expected a duration like 30s, 5m or 1h30m, found {text!r}")
        seconds = sum(int(match[unit] or 0) * factor for unit, factor in (("h", 3600), ("m", 60), ("s", 1)))
    if seconds <= 0:
        raise ValueError(f"expected a duration above zero, found {text!r}")
    return seconds
