"""Immediate safety notices: the treating therapist (and the clinic's on-call address) is told
at once when a safety alert opens (PHQ-9 item 9 above 0) or the client raises a concern.

The notice says only that something in Alliance needs attention and links to the alert list:
no client name, no score, no answer, no concern text (the same rule as the 4-hour escalation
email, which is unchanged). The worker sends each notice (``deliver_safety_notice``); one row
per source, channel and address makes it idempotent, and a failed delivery is tried again with
growing gaps (``RETRY_AFTER``) before it is marked failed and listed for the clinic admin.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task
from django_tasks.exceptions import InvalidTaskError
from sms import send_sms

from alliance.core import audit
from alliance.core.emails import site_url
from alliance.monitoring.models import MonitoringSettings, SafetyNotice

logger = logging.getLogger(__name__)

# Wait before attempt 2, 3, 4, 5; after the fifth failure the notice is marked failed.
RETRY_AFTER = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1

SUBJECTS = {
    SafetyNotice.Source.SAFETY: "Alliance: a safety alert needs attention now",
    SafetyNotice.Source.CONCERN: "Alliance: a client raised a concern",
}


def _recipients(client: Any, settings: MonitoringSettings) -> list[tuple[str, str, Any, str]]:
    """(channel, address, user, role) for the treating therapist(s) and the on-call contacts."""
    team = list(client.care_team.select_related("therapist").filter(therapist__is_active=True))
    primary = [m for m in team if m.is_primary] or team
    out: list[tuple[str, str, Any, str]] = [
        (SafetyNotice.Channel.EMAIL, m.therapist.email, m.therapist, "therapist") for m in primary
    ]
    if settings.on_call_email:
        out.append((SafetyNotice.Channel.EMAIL, settings.on_call_email, None, "on-call"))
    if settings.sms_enabled and settings.on_call_sms:
        out.append((SafetyNotice.Channel.SMS, settings.on_call_sms, None, "on-call"))
    return out


def notify(client: Any, source: str, source_id: Any, alert: Any = None) -> list[SafetyNotice]:
    """Record one notice per recipient for this source and have the worker send them once the
    caller's transaction commits. A source already notified adds nothing."""
    settings = MonitoringSettings.for_clinic(client.clinic)
    created: list[SafetyNotice] = []
    for channel, address, user, role in _recipients(client, settings):
        try:
            with transaction.atomic():
                notice, made = SafetyNotice.objects.get_or_create(
                    source=source,
                    source_id=source_id,
                    channel=channel,
                    address=address,
                    defaults={
                        "clinic": client.clinic,
                        "alert": alert,
                        "recipient": user,
                        "role": role,
                    },
                )
        except IntegrityError:  # a concurrent writer recorded it first
            continue
        if made:
            created.append(notice)
    ids = [str(n.pk) for n in created]
    if ids:
        transaction.on_commit(lambda: _enqueue_all(ids))
    return created


def _enqueue_all(ids: list[str]) -> None:
    for notice_id in ids:
        _enqueue(notice_id)


def _enqueue(notice_id: str, run_after: dt.datetime | None = None) -> None:
    try:
        if run_after is None:
            deliver_safety_notice.enqueue(notice_id)
        else:
            deliver_safety_notice.using(run_after=run_after).enqueue(notice_id)
    except (InvalidTaskError, DatabaseError):
        # A backend without deferred tasks, or the queue's database away for a moment: the
        # notice row is stored, and the periodic resend_due_notices picks it up.
        logger.warning("Could not enqueue a safety notice; the periodic resend will pick it up.")


def _send(notice: SafetyNotice) -> None:
    body = render_to_string(
        f"monitoring/email/notice_{notice.source}.txt",
        {"site_url": site_url(), "clinic": notice.clinic, "role": notice.role},
    )
    if notice.channel == SafetyNotice.Channel.EMAIL:
        send_mail(SUBJECTS[notice.source], body, None, [notice.address])  # type: ignore[index]
        return

    words = (
        "a safety alert"
        if notice.source == SafetyNotice.Source.SAFETY
        else "a concern from a client"
    )
    send_sms(
        f"Alliance ({notice.clinic.name}): {words} needs attention now. Sign in: {site_url()}/alerts/",
        None,
        [notice.address],
    )


@task()
def deliver_safety_notice(notice_id: str) -> str:
    """Send one notice; on failure schedule the next attempt or give up. Returns the status."""
    now = timezone.now()
    with transaction.atomic():
        notice = (
            # Lock the notice row only: PostgreSQL refuses FOR UPDATE on the nullable side of
            # the outer join to the alert.
            SafetyNotice.objects.select_for_update(of=("self",))
            .select_related("clinic", "alert__client")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "missing"
        if notice.status in (SafetyNotice.Status.SENT, SafetyNotice.Status.FAILED):
            return str(notice.status)
        if notice.next_attempt_at and notice.next_attempt_at > now:
            return str(notice.status)  # an early duplicate run: the scheduled one will send it
        notice.attempts += 1
        notice.last_attempt_at = now
        try:
            _send(notice)
        except Exception as exc:
            # The exception type only: provider messages can echo the recipient or the body.
            notice.last_error = (
                str(exc) if exc.__class__.__name__ == "SmsDeliveryError" else type(exc).__name__
            )[:200]
            if notice.attempts >= MAX_ATTEMPTS:
                notice.status = SafetyNotice.Status.FAILED
                notice.next_attempt_at = None
            else:
                notice.status = SafetyNotice.Status.RETRYING
                notice.next_attempt_at = now + RETRY_AFTER[notice.attempts - 1]
            logger.warning(
                "Safety notice delivery failed (attempt %s of %s).", notice.attempts, MAX_ATTEMPTS
            )
        else:
            notice.status = SafetyNotice.Status.SENT
            notice.sent_at = now
            notice.next_attempt_at = None
            notice.last_error = ""
            client = notice.alert.client if notice.alert is not None else None
            audit.record(
                clinic=notice.clinic,
                actor=None,
                actor_role="system",
                action="send",
                record_type="safety_alert"
                if notice.source == SafetyNotice.Source.SAFETY
                else "concern",
                client=client,
                note=f"immediate notice to {notice.role} by {notice.channel}",
            )
        notice.save()
        status, retry_at = notice.status, notice.next_attempt_at
    if status == SafetyNotice.Status.RETRYING and retry_at is not None:
        _enqueue(notice_id, retry_at)
    return str(status)


@task()
def resend_due_notices() -> int:
    """Backstop for lost or undeferrable tasks: send every notice whose time has come."""
    now = timezone.now()
    due = SafetyNotice.objects.filter(
        status__in=(SafetyNotice.Status.PENDING, SafetyNotice.Status.RETRYING),
        created_at__lte=now - dt.timedelta(minutes=1),
    ).exclude(next_attempt_at__gt=now)
    count = 0
    for notice_id in due.values_list("pk", flat=True):
        deliver_safety_notice.call(str(notice_id))
        count += 1
    return count


def send_again(notice: SafetyNotice) -> None:
    """The clinic admin asks for a failed notice to be tried again (a fresh set of attempts)."""
    SafetyNotice.objects.filter(pk=notice.pk, status=SafetyNotice.Status.FAILED).update(
        status=SafetyNotice.Status.PENDING, attempts=0, next_attempt_at=None
    )
    transaction.on_commit(lambda: _enqueue(str(notice.pk)))
