"""Time-zone names: which are valid IANA zones, and the first valid one of several.

The Django side (whose clock a page is read on) lives in ``alliance.core.timezones``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone called ``name``, or None when it is empty or not a known IANA zone."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_valid_zone(name: str | None) -> bool:
    return zone_or_none(name) is not None


def first_zone(*names: str | None, default: str) -> ZoneInfo:
    """The first valid zone among ``names``; ``default`` (a valid zone name) when none is."""
    for name in names:
        zone = zone_or_none(name)
        if zone is not None:
            return zone
    return ZoneInfo(default)
