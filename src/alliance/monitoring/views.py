"""The care team's alert list and acknowledging an alert (with what was done)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from alliance.accounts.models import CLINICAL_ROLES, Role
from alliance.clients.scoping import client_or_404
from alliance.core.access import staff
from alliance.monitoring.models import Alert, AlertKind

CLINICAL_STAFF = tuple(CLINICAL_ROLES)


@staff(*CLINICAL_STAFF, Role.ADMIN)
def alert_list(request: HttpRequest) -> HttpResponse:
    """Alerts needing attention first (safety at the top), then recently acknowledged ones.

    Supervisors and admins also see safety alerts of their clinic that were escalated to
    them, by pseudonym only: they reach the client through the care team or emergency access.
    """
    user = request.user
    mine = Alert.objects.visible_to(user).select_related("client", "acknowledged_by")  # type: ignore[arg-type]
    open_alerts = list(mine.needing_attention().by_urgency())
    done = list(mine.exclude(status__in=("open", "snoozed")).order_by("-acknowledged_at")[:20])
    escalated = []
    if user.role in (Role.SUPERVISOR, Role.ADMIN):  # type: ignore[union-attr]
        escalated = list(
            Alert.objects.filter(
                clinic=user.clinic,  # type: ignore[union-attr]
                kind=AlertKind.SAFETY,
                status__in=("open", "snoozed"),
                escalated_at__isnull=False,
            )
            .exclude(pk__in=[a.pk for a in open_alerts])
            .select_related("client")
            .order_by("created_at")
        )
    return render(
        request,
        "monitoring/alert_list.html",
        {"open_alerts": open_alerts, "done_alerts": done, "escalated": escalated},
    )


@staff(*CLINICAL_STAFF, Role.ADMIN)
def alert_acknowledge(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    """Acknowledge an alert; recording what was done is required. The software does not
    judge the risk: the clinician's note is the record."""
    alert = Alert.objects.filter(pk=alert_id, clinic=request.user.clinic).first()  # type: ignore[union-attr]
    if alert is None:
        raise Http404
    record_type = "safety_alert" if alert.kind == AlertKind.SAFETY else "alert"
    client = client_or_404(request, alert.client_id, record_type=record_type, action="view" if request.method == "GET" else "")
    error = ""
    if request.method == "POST":
        action_taken = request.POST.get("action_taken", "").strip()
        if not alert.needs_attention:
            messages.info(request, "This alert was already acknowledged.")
            return redirect("alert_list")
        if not action_taken:
            error = "Please record what was done (for example: called the client, safety plan reviewed) before acknowledging."
        else:
            with transaction.atomic():
                alert.acknowledge(request.user, action_taken[:4000])  # type: ignore[arg-type]
                from alliance.core import audit

                audit.record_request(request, "acknowledge", record_type, client=client, note=alert.kind)
            messages.success(request, "Alert acknowledged and what was done is recorded.")
            nxt = request.POST.get("next", "")
            if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                return redirect(nxt)
            return redirect("alert_list")
    return render(
        request,
        "monitoring/alert_acknowledge.html",
        {"alert": alert, "client": client, "error": error, "next": request.GET.get("next", "")},
        status=400 if error else 200,
    )


def client_alerts_panel(request: HttpRequest, client: object) -> dict[str, object] | None:
    """The alerts section at the top of the clinician's client page."""
    alerts = list(Alert.objects.filter(client=client).needing_attention().by_urgency())
    recent = list(
        Alert.objects.filter(client=client, status="acknowledged")
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at")[:3]
    )
    if not alerts and not recent:
        return None
    return {"alerts": alerts, "recent": recent, "client": client}
