"""Background work for alerts (run by ``alliance db_worker``).

Escalation of unacknowledged safety alerts goes through the worker in two ways:
- when a safety alert opens, ``escalate_alert`` is enqueued to run once the clinic's
  escalation time has passed (``run_after``);
- ``check_overdue_alerts`` finds every overdue alert, for deployments whose backend cannot
  defer tasks and as a backstop after restarts. ``alliance escalate_alerts`` enqueues it; run
  that command from cron every 15 minutes.

Emails name no client and carry no client text: they point to the alert list in the app.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def schedule_escalation(alert_id: str, run_after: dt.datetime) -> None:
    """Enqueue the escalation of one alert for when it becomes overdue."""
    try:
        escalate_alert.using(run_after=run_after).enqueue(alert_id)
    except Exception:  # a backend without deferred tasks; check_overdue_alerts covers it
        logger.info("Deferred escalation not supported by this task backend; relying on the periodic check.")


def _overdue(alert, now: dt.datetime) -> bool:  # type: ignore[no-untyped-def]
    from alliance.measures.models import MeasureSettings
    from alliance.monitoring.models import AlertKind

    if alert.kind != AlertKind.SAFETY or not alert.needs_attention or alert.escalated_at is not None:
        return False
    hours = MeasureSettings.for_clinic(alert.clinic).escalation_hours
    return alert.created_at + dt.timedelta(hours=hours) <= now


@task()
def escalate_alert(alert_id: str) -> int:
    """Email the clinic's supervisors and admins about one overdue, unacknowledged safety alert.

    Returns the number of recipients (0 when the alert was acknowledged in the meantime).
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
            {"alert": alert, "hours": hours, "site_url": getattr(settings, "SITE_URL", "")},
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
