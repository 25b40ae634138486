"""Background work for client records (run by the task worker)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django_tasks import task

from alliance.core.models import IdempotencyKey


@task()
def notify_break_glass(access_id: str) -> int:
    """Tell the care team that a clinic admin opened emergency access to their client.

    The email names no client: it points to the record inside the app. Sent at most once per
    access, however often the task runs (a re-run after a crash or an expired lease).
    """
    from alliance.clients.models import BreakGlassAccess

    access = BreakGlassAccess.objects.select_related("user", "client").get(pk=access_id)
    recipients = [
        member.therapist.email
        for member in access.client.care_team.select_related("therapist")
        if member.therapist.is_active
    ]
    if not recipients:
        return 0
    body = render_to_string("clients/email/break_glass.txt", {"access": access})
    # Record, commit, then send: a crash between the two loses this email rather than sending it
    # twice; the access itself stays in the audit trail and the client's access log.
    with transaction.atomic():
        if not IdempotencyKey.claim(f"break-glass-email:{access.pk}"):
            return 0
    send_mail("Emergency access was opened to a client on your caseload", body, None, recipients)
    return len(recipients)
