"""Background work for client records (run by the task worker)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task


@task()
def notify_break_glass(access_id: str) -> int:
    """Tell the care team that a clinic admin opened emergency access to their client.

    The email names no client: it points to the record inside the app.
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
    send_mail("Emergency access was opened to a client on your caseload", body, None, recipients)
    return len(recipients)
