"""Client-page panels: the therapist's check-ins/concerns panel and the client's home sections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from alliance.checkins.models import CheckIn, Concern
from alliance.checkins.schedule import missed_streak
from alliance.clients.models import TherapySession
from alliance.core.access import signed_in_user
from alliance.core.models import AuditEvent


def staff_panel(request: HttpRequest, client: Any) -> dict[str, Any]:
    since = timezone.now() - timedelta(weeks=8)
    concerns = Concern.objects.filter(client=client)
    return {
        "client": client,
        "open_concerns": list(concerns.filter(acknowledged_at__isnull=True)),
        "acknowledged": concerns.filter(acknowledged_at__isnull=False).count(),
        "missed": list(
            CheckIn.objects.filter(client=client, status=CheckIn.Status.MISSED, due_at__gte=since)
        ),
        "streak": len(missed_streak(client)),
        "recent": CheckIn.objects.filter(client=client, status=CheckIn.Status.COMPLETED)
        .select_related("response")
        .order_by("-completed_at")
        .first(),
    }


def client_due(request: HttpRequest, client: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "next_session": next_session_at(client, now),
        "due": list(
            CheckIn.objects.filter(client=client, status=CheckIn.Status.DUE, due_at__lte=now)
            .select_related("schedule")
            .order_by("due_at")
        ),
    }


def next_session_at(client: Any, now: Any) -> Any:
    """The next booked session's time: the same scheduled TherapySession the caseload shows."""
    session = TherapySession.next_for(client, now)
    return session.scheduled_at if session else None


def client_concerns(request: HttpRequest, client: Any) -> dict[str, Any]:
    return {"latest": Concern.objects.filter(client=client).first()}


def client_access(request: HttpRequest, client: Any) -> dict[str, Any]:
    """Who has access (the care team) and who else opened the record, from the audit trail."""
    team = [m.therapist.full_name for m in client.care_team.select_related("therapist")]
    others: dict[str, tuple[str, str, Any]] = {}
    events = (
        AuditEvent.objects.filter(client=client)
        .exclude(actor=signed_in_user(request))
        .exclude(actor_name__in=team)
        .exclude(actor__isnull=True)
        .order_by("-at")[:500]
    )
    for e in events:
        others.setdefault(e.actor_name, (e.actor_name, e.actor_role.replace("_", " "), e.at))
    return {"care_team": team, "others": list(others.values())[:10]}
