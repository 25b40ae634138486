"""Background work for alerts (run by ``alliance db_worker``).

Escalation of unacknowledged safety alerts goes through the worker in two ways:
- when a safety alert opens, ``escalate_alert`` is enqueued to run once the clinic's
  escalation time has passed (``run_after``);
- ``check_overdue_alerts`` finds every overdue alert, for deployments whose backend cannot
  defer tasks and as a backstop after restarts. ``alliance escalate_alerts`` enqueues it; run
  that command from cron every 15 minutes. The clinic's escalation time is
  ``MonitoringSettings.escalation_hours``.

Emails name no client and carry no client text: they point to the alert list in the app.

Every task here may run twice (a re-run after a crash, a lease that expired): each records what it
did and commits before it sends, so an email goes out at most once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from alliance.accounts.models import Membership, Role
from alliance.alerts.models import OPEN_STATUSES, Alert, AlertKind
from alliance.core import audit
from alliance.core.emails import site_url
from alliance.core.models import IdempotencyKey
from alliance.monitoring import detection  # a module import: detection imports tasks too
from alliance.monitoring.models import MonitoringSettings
from alliance.monitoring.signals import supervisors_wanted

logger = logging.getLogger(__name__)


def schedule_escalation(alert_id: str, run_after: dt.datetime) -> None:
    """Enqueue the escalation of one alert for when it becomes overdue."""
    try:
        escalate_alert.using(run_after=run_after).enqueue(alert_id)
    except Exception:  # a backend without deferred tasks; check_overdue_alerts covers it
        logger.info(
            "Deferred escalation not supported by this task backend; relying on the periodic check."
        )


# Alerts per batch of the overdue check: each batch costs a fixed number of queries.
BATCH_SIZE = 500


def _escalation_hours(cache: dict[Any, int], clinic_ids: set[Any]) -> dict[Any, int]:
    """Each clinic's escalation time, read once per clinic per run (one query for many)."""
    missing = clinic_ids - cache.keys()
    if missing:
        for clinic_id, hours in MonitoringSettings.objects.filter(
            clinic_id__in=missing
        ).values_list("clinic_id", "escalation_hours"):
            cache[clinic_id] = hours
        for clinic_id in missing - cache.keys():  # a clinic that never saved its settings
            cache[clinic_id] = MonitoringSettings.objects.get_or_create(clinic_id=clinic_id)[
                0
            ].escalation_hours
    return cache


def _escalate(alert_ids: list[Any], now: dt.datetime, hours: dict[Any, int]) -> dict[Any, int]:
    """Escalate these safety alerts if they are still overdue and unacknowledged.

    In one transaction the alerts are locked (ones another worker holds are skipped), marked
    escalated in one UPDATE and audited per clinic in one INSERT; the emails, one per alert to
    its clinic's supervisors and admins, go after the commit. A re-run finds them escalated and
    sends nothing. Returns {alert id: recipients} for the alerts escalated here.
    """
    with transaction.atomic():
        alerts = [
            a
            for a in Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("clinic")
            .filter(
                pk__in=alert_ids,
                kind=AlertKind.SAFETY,
                status__in=OPEN_STATUSES,
                escalated_at__isnull=True,
            )
            .order_by("pk")
            if a.created_at
            + dt.timedelta(hours=_escalation_hours(hours, {a.clinic_id})[a.clinic_id])
            <= now
        ]
        if not alerts:
            return {}
        recipients: dict[Any, set[str]] = {}
        for clinic_id, email in Membership.objects.filter(
            clinic_id__in={a.clinic_id for a in alerts},
            is_active=True,
            role__in=[Role.SUPERVISOR, Role.ADMIN],
            user__is_active=True,
        ).values_list("clinic_id", "user__email"):
            recipients.setdefault(clinic_id, set()).add(email)
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(escalated_at=now)
        by_clinic: dict[Any, list[Any]] = {}
        for a in alerts:
            a.escalated_at = now
            count = len(recipients.get(a.clinic_id, ()))
            by_clinic.setdefault(a.clinic_id, []).append(
                (
                    a.client_id,
                    "send",
                    "safety_alert",
                    f"escalated to {count} supervisor(s)/admin(s)",
                )
            )
        for clinic_id, entries in by_clinic.items():
            audit.record_system(clinic_id, entries)
    sent: dict[Any, int] = {}
    for alert in alerts:
        to = sorted(recipients.get(alert.clinic_id, ()))
        sent[alert.pk] = len(to)
        if to:
            hours_open = int((now - alert.created_at).total_seconds() // 3600)
            body = render_to_string(
                "monitoring/email/escalation.txt",
                {"alert": alert, "hours": hours_open, "site_url": site_url()},
            )
            send_mail("A safety alert has not been acknowledged", body, None, to)
    return sent


@task()
def escalate_alert(alert_id: str) -> int:
    """Email the clinic's supervisors and admins about one overdue, unacknowledged safety alert.

    Returns the number of recipients (0 when the alert was acknowledged in the meantime, or was
    already escalated: ``escalated_at`` is set and committed, under a row lock, before the send).
    """
    return sum(_escalate([alert_id], timezone.now(), {}).values())


def escalate_overdue(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Escalate every overdue, unacknowledged safety alert, in keyset batches by primary key;
    returns how many were escalated. Clinic settings are read once per clinic."""
    now = now or timezone.now()
    hours: dict[Any, int] = {}
    count = 0
    last_pk = None
    while True:
        rows = Alert.objects.filter(
            kind=AlertKind.SAFETY, status__in=OPEN_STATUSES, escalated_at__isnull=True
        )
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.order_by("pk").values_list("pk", "clinic_id", "created_at")[:batch_size])
        if not batch:
            return count
        last_pk = batch[-1][0]
        _escalation_hours(hours, {clinic_id for _, clinic_id, _ in batch})
        overdue = [
            pk
            for pk, clinic_id, created in batch
            if created + dt.timedelta(hours=hours[clinic_id]) <= now
        ]
        if overdue:
            count += len(_escalate(overdue, now, hours))
        if len(batch) < batch_size:
            return count


@task()
def check_overdue_alerts() -> int:
    """Escalate every overdue, unacknowledged safety alert; returns how many were escalated."""
    return escalate_overdue()


@task()
def check_monitoring() -> dict[str, int]:
    """Daily pass: snoozed alerts whose time is up open again; disengagement for every client."""
    # Imported when run: detection imports this module (it enqueues the tasks here).

    return detection.check_all()


@task()
def notify_unrepaired_rupture(alert_id: str) -> int:
    """Email the supervisors of the client's therapists about an unrepaired rupture.

    Only called when the client consented to supervision sharing. The email names no client
    and carries no client text: it points to the alerts page, where supervisors see the
    escalation by pseudonym. Supervisors linked to the therapist (supervision links, asked
    through ``monitoring.signals.supervisors_wanted``) are preferred; without links, the
    clinic's supervisors are told.
    """
    alert = Alert.objects.select_related("clinic", "client").filter(pk=alert_id).first()
    if (
        alert is None
        or alert.escalated_to != "supervisor"
        or not alert.client.has_consent("supervision")
    ):
        return 0
    therapists = list(alert.client.care_team.values_list("therapist_id", flat=True))
    recipients: set[str] = set()
    for _receiver, emails in supervisors_wanted.send(
        sender=Alert, clinic=alert.clinic, therapist_ids=therapists
    ):
        recipients |= set(emails or ())
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
