"""Client-page panels: the therapist's check-ins/concerns panel and the client's home sections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInPlan, Concern
from alliance.checkins.schedule import missed_streak
from alliance.core.access import signed_in_user
from alliance.core.models import AuditEvent


def staff_panel(request: HttpRequest, client: Any) -> dict[str, Any]:
    since = timezone.now() - timedelta(weeks=8)
    concerns = Concern.objects.filter(client=client)
    return {
        "client": client,
        "open_concerns": list(concerns.filter(acknowledged_at__isnull=True)),
        "acknowledged": concerns.filter(acknowledged_at__isnull=False).count(),
        "missed": list(CheckIn.objects.filter(client=client, status=CheckIn.Status.MISSED, due_at__gte=since)),
        "streak": len(missed_streak(client)),
        "recent": CheckIn.objects.filter(client=client, status=CheckIn.Status.COMPLETED)
        .select_related("response").order_by("-completed_at").first(),
    }


def client_due(request: HttpRequest, client: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"next_session": next_session_at(client, now), "due": list(
        CheckIn.objects.filter(client=client, status=CheckIn.Status.DUE, due_at__lte=now)
        .select_related("schedule").order_by("due_at")
    )}


def next_session_at(client: Any, now: Any) -> Any:
    """The next booked session: from the clinic's session list where there is one, else the
    time the therapist entered in the check-in settings."""
    try:
        TherapySession = apps.get_model("clients", "TherapySession")
    except LookupError:
        TherapySession = None
    if TherapySession is not None:
        upcoming = TherapySession.objects.filter(client=client, scheduled_at__gt=now, status="scheduled")
        first = upcoming.order_by("scheduled_at").values_list("scheduled_at", flat=True).first()
        if first:
            return first
    plan = CheckInPlan.objects.filter(client=client).first()
    return plan.next_session_at if plan and plan.next_session_at and plan.next_session_at > now else None


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
