"""When check-ins fall due, when reminders go out, when a check-in is missed.

Every function takes ``now`` so tests (and a catch-up run) control the clock. Due times are
wall-clock times in the client's own time zone (zoneinfo), so "Tuesdays at 18:00" stays 18:00
for the client across daylight-saving changes. Nobody is reminded or scheduled who is
discharged or has no active treatment consent; nobody is reminded in their quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from alliance.checkins.models import CheckIn, CheckInLink, CheckInPlan, CheckInSchedule
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core.emails import site_url

AFTER_SESSION_DELAY = timedelta(hours=2)


def client_zone(client: ClientRecord) -> ZoneInfo:
    try:
        return ZoneInfo(client.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(client.clinic.time_zone)


def may_contact(client: ClientRecord) -> bool:
    """Reminders only for clients in care, with treatment consent and an active sign-in."""
    return (
        client.status == ClientRecord.Status.ACTIVE
        and client.user is not None
        and client.user.is_active
        and client.has_consent("treatment")
    )


def in_quiet_hours(moment: datetime, plan: CheckInPlan, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone).time()
    start, end = plan.quiet_start, plan.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the usual case: across midnight


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def latest_due(schedule: CheckInSchedule, now: datetime, zone: ZoneInfo, plan: CheckInPlan) -> datetime | None:
    """The most recent due time at or before ``now`` (UTC), or None."""
    if schedule.cadence == CheckInSchedule.Cadence.AFTER_SESSION:
        # The latest booked or attended session that ended (plus the delay) by now.
        session = (
            TherapySession.objects.filter(
                client_id=schedule.client_id,
                status__in=(TherapySession.Status.SCHEDULED, TherapySession.Status.ATTENDED),
                scheduled_at__lte=now - AFTER_SESSION_DELAY,
            )
            .order_by("-scheduled_at")
            .values_list("scheduled_at", flat=True)
            .first()
        )
        return None if session is None else session + AFTER_SESSION_DELAY
    interval = CheckInSchedule.CADENCE_DAYS[schedule.cadence]
    today = now.astimezone(zone).date()
    k = (today - schedule.start_date).days // interval
    if k < 0:
        return None
    due = _local(schedule.start_date + timedelta(days=k * interval), schedule.due_time, zone)
    if due > now:
        k -= 1
        if k < 0:
            return None
        due = _local(schedule.start_date + timedelta(days=k * interval), schedule.due_time, zone)
    return due


def create_due_check_ins(now: datetime) -> int:
    """Create the check-in for each schedule's latest due time (never backfilling old ones)."""
    created = 0
    schedules = CheckInSchedule.objects.filter(active=True, client__status=ClientRecord.Status.ACTIVE).select_related(
        "client__clinic", "client__user"
    )
    for schedule in schedules:
        client = schedule.client
        if not may_contact(client):
            continue
        plan = CheckInPlan.for_client(client)
        due = latest_due(schedule, now, client_zone(client), plan)
        if due is None or now >= due + timedelta(hours=plan.window_hours):
            continue
        try:
            with transaction.atomic():
                _, made = CheckIn.objects.get_or_create(
                    schedule=schedule, due_at=due, defaults={"clinic_id": client.clinic_id, "client": client}
                )
        except IntegrityError:  # a concurrent run made it first
            made = False
        created += made
    return created


def send_due_reminders(now: datetime) -> int:
    """Email one reminder per due check-in that may have one now; returns how many were sent."""
    sent = 0
    due = CheckIn.objects.filter(status=CheckIn.Status.DUE, due_at__lte=now).select_related(
        "client__clinic", "client__user", "schedule"
    )
    for check_in in due:
        client = check_in.client
        plan = CheckInPlan.for_client(client)
        if not may_contact(client) or check_in.reminders_sent >= plan.max_reminders:
            continue
        if now >= check_in.due_at + timedelta(hours=plan.window_hours):
            continue
        if check_in.last_reminded_at and now - check_in.last_reminded_at < timedelta(hours=plan.reminder_gap_hours):
            continue
        if in_quiet_hours(now, plan, client_zone(client)):
            continue
        # Claim the reminder first, so two workers never send the same one twice.
        claimed = CheckIn.objects.filter(
            pk=check_in.pk, reminders_sent=check_in.reminders_sent, status=CheckIn.Status.DUE
        ).update(reminders_sent=check_in.reminders_sent + 1, last_reminded_at=now)
        if not claimed:
            continue
        _, token = CheckInLink.issue(check_in, now)
        send_reminder_email(check_in, token)
        sent += 1
    return sent


def send_reminder_email(check_in: CheckIn, token: str) -> None:
    """The email greets the client and links to the check-in: no clinical content at all."""
    client = check_in.client
    body = render_to_string(
        "checkins/email/reminder.txt",
        {
            "greeting_name": client.display_name,
            "link": site_url() + reverse("check_in_link") + f"?t={token}",
            "signin": site_url() + reverse("client_signin"),
            "hours": int(CheckInLink.LIFETIME.total_seconds() // 3600),
            "crisis_line": client.clinic.crisis_line,
        },
    )
    send_mail("A short check-in is waiting for you", body, None, [client.user.email])  # type: ignore[union-attr]


def mark_missed(now: datetime) -> int:
    """Mark overdue check-ins missed; tell the care team once a client misses N in a row."""
    overdue = list(CheckIn.objects.filter(status=CheckIn.Status.DUE).select_related("client"))
    missed = 0
    clients = {}
    for check_in in overdue:
        plan = CheckInPlan.for_client(check_in.client)
        if now >= check_in.due_at + timedelta(hours=plan.window_hours):
            CheckIn.objects.filter(pk=check_in.pk, status=CheckIn.Status.DUE).update(
                status=CheckIn.Status.MISSED, missed_at=now
            )
            missed += 1
            clients[check_in.client_id] = (check_in.client, plan)
    for client, plan in clients.values():
        streak = missed_streak(client)
        if len(streak) >= plan.notify_after_misses and not any(c.therapist_told_at for c in streak):
            # Record, then send: a re-run (or a second worker) finds it recorded and stays quiet.
            if CheckIn.objects.filter(pk=streak[0].pk, therapist_told_at__isnull=True).update(therapist_told_at=now):
                tell_therapists_about_misses(client, len(streak))
    return missed


def missed_streak(client: ClientRecord) -> list[CheckIn]:
    """The client's most recent missed check-ins, back to the last one they completed."""
    streak = []
    for check_in in CheckIn.objects.filter(client=client).exclude(status=CheckIn.Status.DUE).order_by("-due_at"):
        if check_in.status != CheckIn.Status.MISSED:
            break
        streak.append(check_in)
    return streak


def tell_therapists_about_misses(client: ClientRecord, count: int) -> int:
    """Email the care team; the message names no client and links into the app."""
    recipients = [m.therapist.email for m in client.care_team.select_related("therapist") if m.therapist.is_active]
    if not recipients:
        return 0
    body = render_to_string(
        "checkins/email/misses.txt",
        {"count": count, "link": site_url() + reverse("client_detail", args=[client.pk])},
    )
    send_mail("A client on your caseload has missed check-ins", body, None, recipients)
    return len(recipients)


@dataclass(frozen=True)
class CycleResult:
    created: int
    missed: int
    reminded: int


def run_cycle(now: datetime) -> CycleResult:
    """One pass of the check-in worker: create what fell due, mark what was missed, remind."""
    created = create_due_check_ins(now)
    missed = mark_missed(now)
    reminded = send_due_reminders(now)
    return CycleResult(created, missed, reminded)


@dataclass(frozen=True)
class DueItem:
    """What is due for a client: for the measures app to administer instruments."""

    check_in_id: str
    kind: str  # "mood" or "instrument"
    instrument: str  # e.g. "phq9"; "" for a mood check-in
    due_at: datetime


def due_for_client(client: ClientRecord, now: datetime) -> list[DueItem]:
    """Open check-ins of a client that are due at ``now``, oldest first.

    The measures app calls this to learn which instruments to offer (``kind == "instrument"``),
    and calls ``complete_instrument_check_in`` once the administration is stored.
    """
    rows = CheckIn.objects.filter(client=client, status=CheckIn.Status.DUE, due_at__lte=now).select_related("schedule")
    return [
        DueItem(str(c.pk), c.schedule.kind, c.schedule.instrument, c.due_at) for c in rows.order_by("due_at")
    ]


def complete_instrument_check_in(check_in_id: str, when: datetime) -> bool:
    """Mark an instrument check-in done (called by measures); False when it was not open."""
    return bool(
        CheckIn.objects.filter(pk=check_in_id, status__in=[CheckIn.Status.DUE, CheckIn.Status.MISSED]).update(
            status=CheckIn.Status.COMPLETED, completed_at=when
        )
    )
