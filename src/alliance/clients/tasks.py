"""Background work for client records (run by the task worker)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from alliance.clients.models import BreakGlassAccess
from alliance.core.models import IdempotencyKey
from alliance.core.timezones import zone_for


@task()
def notify_break_glass(access_id: str) -> int:
    """Tell the care team that a clinic admin opened emergency access to their client.

    The email names no client: it points to the record inside the app. Sent at most once per
    access, however often the task runs (a re-run after a crash or an expired lease).
    """

    access = BreakGlassAccess.objects.select_related("user", "client").get(pk=access_id)
    recipients = [
        member.therapist
        for member in access.client.care_team.select_related("therapist")
        if member.therapist.is_active
    ]
    if not recipients:
        return 0
    # Record, commit, then send: a crash between the two loses this email rather than sending it
    # twice; the access itself stays in the audit trail and the client's access log.
    with transaction.atomic():
        if not IdempotencyKey.claim(f"break-glass-email:{access.pk}"):
            return 0
    for therapist in recipients:
        # One email each, with the times in that therapist's own zone.
        zone = zone_for(therapist)
        with timezone.override(zone):
            body = render_to_string(
                "clients/email/break_glass.txt", {"access": access, "zone": str(zone)}
            )
        send_mail(
            "Emergency access was opened to a client on your caseload",
            body,
            None,
            [therapist.email],
        )
    return len(recipients)
