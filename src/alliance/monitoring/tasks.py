"""Background work for alerts (run by ``alliance db_worker``).

Escalation of unacknowledged safety alerts goes through the worker in two ways:
- when a safety alert opens, ``escalate_alert`` is enqueued to run once the clinic's
  escalation time has passed (``run_after``);
- ``check_overdue_alerts`` finds every overdue alert, for deployments whose backend cannot
  defer tasks and as a backstop after restarts. ``alliance escalate_alerts`` enqueues it; run
  that command from cron every 15 minutes.

Emails name no client and carry no client text: they point to the alert list in the app.

Every task here may run twice (a re-run after a crash, a lease that expired): each records what it
did and commits before it sends, so an email goes out at most once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from alliance.core.emails import site_url
from alliance.core.models import IdempotencyKey

logger = logging.getLogger(__name__)


def schedule_escalation(alert_id: str, run_after: dt.datetime) -> None:
    """Enqueue the escalation of one alert for when it becomes overdue."""
    try:
        escalate_alert.using(run_after=run_after).enqueue(alert_id)
    except Exception:  # a backend without deferred tasks; check_overdue_alerts covers it
        logger.info("Deferred escalation not supported by this task backend; relying on the periodic check.")


def _overdue(alert, now: dt.datetime) -> bool:
    from alliance.measures.models import MeasureSettings
    from alliance.monitoring.models import AlertKind

    if alert.kind != AlertKind.SAFETY or not alert.needs_attention or alert.escalated_at is not None:
        return False
    hours = MeasureSettings.for_clinic(alert.clinic).escalation_hours
    return alert.created_at + dt.timedelta(hours=hours) <= now


@task()
def escalate_alert(alert_id: str) -> int:
    """Email the clinic's supervisors and admins about one overdue, unacknowledged safety alert.

    Returns the number of recipients (0 when the alert was acknowledged in the meantime, or was
    already escalated: ``escalated_at`` is set and committed, under a row lock, before the send).
    """
    from alliance.accounts.models import Membership, Role
    from alliance.core import audit
    from alliance.monitoring.models import Alert

    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("clinic").filter(pk=alert_id).first()
        if alert is None or not _overdue(alert, now):
            return 0
        recipients = sorted(
            {
                m.user.email
                for m in Membership.objects.select_related("user").filter(
                    clinic=alert.clinic, is_active=True, role__in=[Role.SUPERVISOR, Role.ADMIN], user__is_active=True
                )
            }
        )
        alert.escalated_at = now
        alert.save(update_fields=["escalated_at"])
        audit.record(
            clinic=alert.clinic,
            actor=None,
            actor_role="system",
            action="send",
            record_type="safety_alert",
            client=alert.client,
            note=f"escalated to {len(recipients)} supervisor(s)/admin(s)",
        )
    if recipients:
        hours = int((now - alert.created_at).total_seconds() // 3600)
        body = render_to_string(
            "monitoring/email/escalation.txt",
            {"alert": alert, "hours": hours, "site_url": site_url()},
        )
        send_mail("A safety alert has not been acknowledged", body, None, recipients)
    return len(recipients)


@task()
def check_overdue_alerts() -> int:
    """Escalate every overdue, unacknowledged safety alert; returns how many were escalated."""
    from alliance.monitoring.models import Alert, AlertKind

    now = timezone.now()
    count = 0
    candidates = Alert.objects.filter(
        kind=AlertKind.SAFETY, status__in=("open", "snoozed"), escalated_at__isnull=True
    ).select_related("clinic")
    for alert in candidates:
        if _overdue(alert, now) and escalate_alert.call(str(alert.pk)) >= 0:
            count += 1
    return count


@task()
def check_monitoring() -> dict[str, int]:
    """Daily pass: snoozed alerts whose time is up open again; disengagement for every client."""
    from alliance.monitoring.detection import check_all

    return check_all()


@task()
def notify_unrepaired_rupture(alert_id: str) -> int:
    """Email the supervisors of the client's therapists about an unrepaired rupture.

    Only called when the client consented to supervision sharing. The email names no client
    and carries no client text: it points to the alerts page, where supervisors see the
    escalation by pseudonym. Supervisors linked to the therapist (supervision links) are
    preferred; without links, the clinic's supervisors are told.
    """
    from alliance.accounts.models import Membership, Role
    from alliance.core import audit
    from alliance.monitoring.models import Alert

    alert = Alert.objects.select_related("clinic", "client").filter(pk=alert_id).first()
    if alert is None or alert.escalated_to != "supervisor" or not alert.client.has_consent("supervision"):
        return 0
    therapists = list(alert.client.care_team.values_list("therapist_id", flat=True))
    recipients: set[str] = set()
    try:
        from alliance.supervision.models import SupervisionLink

        recipients = set(
            SupervisionLink.objects.active()
            .filter(clinic=alert.clinic, supervisee_id__in=therapists, supervisor__is_active=True)
            .values_list("supervisor__email", flat=True)
        )
    except (ImportError, LookupError):  # the supervision app is optional
        recipients = set()
    if not recipients:
        recipients = set(
            Membership.objects.filter(
                clinic=alert.clinic, is_active=True, role=Role.SUPERVISOR, user__is_active=True
            ).values_list("user__email", flat=True)
        )
    if not recipients:
        return 0
    # Key and audit entry commit before the send: a re-run finds the key and sends nothing.
    with transaction.atomic():
        if not IdempotencyKey.claim(f"unrepaired-rupture-email:{alert.pk}"):
            return 0
        audit.record(
            clinic=alert.clinic,
            actor=None,
            actor_role="system",
            action="send",
            record_type="rupture_episode",
            client=alert.client,
            note=f"unrepaired rupture sent to {len(recipients)} supervisor(s)",
        )
    body = render_to_string(
        "monitoring/email/unrepaired_rupture.txt",
        {"site_url": site_url()},
    )
    send_mail("An alliance rupture was not repaired", body, None, sorted(recipients))
    return len(recipients)
