"""Whose clock a page is read on: every viewer sees times in their own zone.

A client reads their own record's zone; a staff member reads their own setting, or their
clinic's zone when they have not chosen one. Emails and PDFs use the recipient's zone through
the same ``zone_for``. Stored times stay in UTC; only rendering changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from alliance.lib.timezones import first_zone


def zone_named(*names: str | None) -> ZoneInfo:
    """The first valid IANA zone among ``names``; the site's zone when none is."""
    return first_zone(*names, default=settings.TIME_ZONE)


def zone_for(user: object) -> ZoneInfo:
    """The zone ``user`` reads times in (a staff member, a client, or anyone else: the site's)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ZoneInfo(settings.TIME_ZONE)
    membership = getattr(user, "membership", None)
    if membership is not None:
        return zone_named(membership.time_zone, membership.clinic.time_zone)
    record = getattr(user, "client_record", None)
    if record is not None:
        return zone_named(record.time_zone, record.clinic.time_zone)
    return ZoneInfo(settings.TIME_ZONE)


def readable_time(moment: datetime | None, tz: tzinfo) -> str:
    """A moment as a person reads it, "2026-11-20 14:05" in ``tz`` (empty for none)."""
    if moment is None:
        return ""
    if timezone.is_aware(moment):
        moment = moment.astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M")


class ViewerTimeZoneMiddleware:
    """Activate the signed-in viewer's zone for the request, so templates and
    ``timezone.localtime``/``localdate`` render in it; deactivated afterwards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_for(getattr(request, "user", None))
        timezone.activate(zone)
        request.viewer_zone = zone  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
