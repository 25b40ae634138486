"""When check-ins fall due, when reminders go out, when a check-in is missed.

Every function takes ``now`` so tests (and a catch-up run) control the clock. Due times are
wall-clock times in the client's own time zone (zoneinfo), so "Tuesdays at 18:00" stays 18:00
for the client across daylight-saving changes. Nobody is reminded or scheduled who is
discharged or has no active treatment consent; nobody is reminded in their quiet hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from alliance.checkins.models import CheckIn, CheckInLink, CheckInPlan, CheckInSchedule
from alliance.clients.models import CareTeamMember, ClientRecord, Consent, TherapySession
from alliance.core.emails import site_url
from alliance.core.languages import language_for
from alliance.lib.timezones import first_zone

AFTER_SESSION_DELAY = timedelta(hours=2)
T = TypeVar("T")


def client_zone(client: ClientRecord) -> ZoneInfo:
    return first_zone(client.time_zone, default=client.clinic.time_zone)


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


def _sessions_ended_by(now: datetime, client_ids: Iterable[Any]) -> dict[Any, datetime]:
    """Each client's latest booked or attended session that ended (plus the delay) by ``now``,
    for a whole batch in one query."""
    latest: dict[Any, datetime] = {}
    rows = (
        TherapySession.objects.filter(
            client_id__in=list(client_ids),
            status__in=(TherapySession.Status.SCHEDULED, TherapySession.Status.ATTENDED),
            scheduled_at__lte=now - AFTER_SESSION_DELAY,
        )
        .order_by("client_id", "-scheduled_at")
        .values_list("client_id", "scheduled_at")
    )
    for client_id, scheduled_at in rows:
        latest.setdefault(client_id, scheduled_at)
    return latest


def latest_due(
    schedule: CheckInSchedule,
    now: datetime,
    zone: ZoneInfo,
    plan: CheckInPlan,
    sessions_ended: dict[Any, datetime] | None = None,
) -> datetime | None:
    """The most recent due time at or before ``now`` (UTC), or None.

    ``sessions_ended`` is ``_sessions_ended_by`` read once for a batch; without it the one
    client's sessions are read here.
    """
    if schedule.cadence == CheckInSchedule.Cadence.AFTER_SESSION:
        if sessions_ended is None:
            sessions_ended = _sessions_ended_by(now, [schedule.client_id])
        session = sessions_ended.get(schedule.client_id)
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


# Rows per batch of the cycle: each batch costs a fixed number of queries, so a cycle costs
# (rows / BATCH_SIZE) x that number, and no batch holds more than this many rows in memory.
BATCH_SIZE = 500


def _treatment_consented(client_ids: Iterable[Any]) -> set[Any]:
    """Clients whose latest treatment consent is granted and not withdrawn (one query)."""
    latest: dict[Any, bool] = {}
    rows = (
        Consent.objects.filter(client_id__in=list(client_ids), kind="treatment")
        .order_by("client_id", "-recorded_at")
        .values_list("client_id", "granted", "withdrawn_at")
    )
    for client_id, granted, withdrawn_at in rows:
        latest.setdefault(client_id, granted and withdrawn_at is None)
    return {client_id for client_id, active in latest.items() if active}


def _plans_for(clients: dict[Any, Any]) -> dict[Any, CheckInPlan]:
    """Each client's plan, making the default plan for those without one (as ``for_client``).

    ``clients`` maps a client id to its clinic id.
    """
    plans = {p.client_id: p for p in CheckInPlan.objects.filter(client_id__in=list(clients))}
    missing = [client_id for client_id in clients if client_id not in plans]
    if missing:
        CheckInPlan.objects.bulk_create(
            [
                CheckInPlan(client_id=client_id, clinic_id=clients[client_id])
                for client_id in missing
            ],
            ignore_conflicts=True,  # a concurrent cycle made it first
        )
        plans.update({p.client_id: p for p in CheckInPlan.objects.filter(client_id__in=missing)})
    return plans


def _may_contact(client: ClientRecord, consented: set[Any]) -> bool:
    """``may_contact`` with the consent already read for the whole batch."""
    return (
        client.status == ClientRecord.Status.ACTIVE
        and client.user is not None
        and client.user.is_active
        and client.pk in consented
    )


def create_due_check_ins(now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Create the check-in for each schedule's latest due time (never backfilling old ones).

    Schedules are read in keyset batches by primary key; each batch reads consents, plans and
    the check-ins that already exist in one query each and inserts the new ones in one.
    """
    created = 0
    last_pk = None
    while True:
        batch = (
            CheckInSchedule.objects.filter(active=True, client__status=ClientRecord.Status.ACTIVE)
            .select_related("client__clinic", "client__user")
            .order_by("pk")
        )
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        schedules = list(batch[:batch_size])
        if not schedules:
            return created
        last_pk = schedules[-1].pk
        consented = _treatment_consented({s.client_id for s in schedules})
        reachable = [s for s in schedules if _may_contact(s.client, consented)]
        plans = _plans_for({s.client_id: s.client.clinic_id for s in reachable})
        after_session = [
            s.client_id for s in reachable if s.cadence == CheckInSchedule.Cadence.AFTER_SESSION
        ]
        sessions_ended = _sessions_ended_by(now, after_session) if after_session else {}
        wanted: dict[tuple[Any, datetime], CheckIn] = {}
        for schedule in reachable:
            client = schedule.client
            plan = plans[client.pk]
            due = latest_due(schedule, now, client_zone(client), plan, sessions_ended)
            if due is None or now >= due + timedelta(hours=plan.window_hours):
                continue
            wanted[(schedule.pk, due)] = CheckIn(
                schedule_id=schedule.pk, due_at=due, clinic_id=client.clinic_id, client_id=client.pk
            )
        if wanted:
            existing = set(
                CheckIn.objects.filter(
                    schedule_id__in={k[0] for k in wanted}, due_at__in={k[1] for k in wanted}
                ).values_list("schedule_id", "due_at")
            )
            created += _insert([c for k, c in wanted.items() if k not in existing])
        if len(schedules) < batch_size:
            return created


def _insert(check_ins: list[CheckIn]) -> int:
    """One INSERT; when a concurrent cycle made some of them first (the unique schedule and due
    time), each goes through ``get_or_create`` instead. Returns how many this call made."""
    if not check_ins:
        return 0
    try:
        with transaction.atomic():
            CheckIn.objects.bulk_create(check_ins)
        return len(check_ins)
    except IntegrityError:
        pass
    made = 0
    for c in check_ins:
        try:
            with transaction.atomic():
                _, new = CheckIn.objects.get_or_create(
                    schedule_id=c.schedule_id,
                    due_at=c.due_at,
                    defaults={"clinic_id": c.clinic_id, "client_id": c.client_id},
                )
        except IntegrityError:
            new = False
        made += new
    return made


def _clinics_with_due(now: datetime) -> list[Any]:
    return list(
        CheckIn.objects.filter(status=CheckIn.Status.DUE, due_at__lte=now)
        .order_by("clinic_id")
        .values_list("clinic_id", flat=True)
        .distinct()
    )


def _each_due_batch(
    clinic_id: Any,
    now: datetime,
    batch_size: int,
    work: Callable[[list[CheckIn]], T],
    *related: str,
) -> list[T]:
    """Run ``work`` on the clinic's due check-ins, ``batch_size`` at a time, each batch locked
    in its own transaction (rows another worker holds are skipped: that worker handles them).

    The filter is the ``(clinic, status, due_at)`` index; pages follow the primary key.
    """
    last_pk = None
    done: list[T] = []
    while True:
        with transaction.atomic():
            rows = CheckIn.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                clinic_id=clinic_id, status=CheckIn.Status.DUE, due_at__lte=now
            )
            if related:
                rows = rows.select_related(*related)
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.order_by("pk")[:batch_size])
            if not batch:
                return done
            last_pk = batch[-1].pk
            done.append(work(batch))
        if len(batch) < batch_size:  # the last page: no need to ask for an empty one
            return done


def send_due_reminders(now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Email one reminder per due check-in that may have one now; returns how many were sent.

    Clinic by clinic, in locked batches: a batch's reminders are claimed (``reminders_sent``
    + 1) and their links stored in one statement each before the transaction commits, and only
    then are the emails sent, so two workers never send the same reminder.
    """
    sent = 0
    for clinic_id in _clinics_with_due(now):
        claimed = _each_due_batch(
            clinic_id,
            now,
            batch_size,
            partial(_claim_reminders, now=now),
            "client__clinic",
            "client__user",
        )
        for check_in, token in (
            pair for part in claimed for pair in part
        ):  # after the claims committed
            send_reminder_email(check_in, token)
            sent += 1
    return sent


def _claim_reminders(batch: list[CheckIn], now: datetime) -> list[tuple[CheckIn, str]]:
    """The batch's reminders due now, claimed and with their links stored: (check-in, token)."""
    consented = _treatment_consented({c.client_id for c in batch})
    plans = _plans_for({c.client_id: c.clinic_id for c in batch})
    claim: list[CheckIn] = []
    for check_in in batch:
        client = check_in.client
        plan = plans[client.pk]
        if not _may_contact(client, consented) or check_in.reminders_sent >= plan.max_reminders:
            continue
        if now >= check_in.due_at + timedelta(hours=plan.window_hours):
            continue
        if check_in.last_reminded_at and now - check_in.last_reminded_at < timedelta(
            hours=plan.reminder_gap_hours
        ):
            continue
        if in_quiet_hours(now, plan, client_zone(client)):
            continue
        claim.append(check_in)
    if not claim:
        return []
    CheckIn.objects.filter(pk__in=[c.pk for c in claim]).update(
        reminders_sent=F("reminders_sent") + 1, last_reminded_at=now
    )
    links, out = [], []
    for check_in in claim:
        token, token_hash = CheckInLink.new_token()
        links.append(
            CheckInLink(
                clinic_id=check_in.clinic_id,
                check_in_id=check_in.pk,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + CheckInLink.LIFETIME,
            )
        )
        out.append((check_in, token))
    CheckInLink.objects.bulk_create(links)
    return out


def send_reminder_email(check_in: CheckIn, token: str) -> None:
    """The email greets the client and links to the check-in: no clinical content at all."""
    client = check_in.client
    # In the client's own language.
    with translation.override(language_for(client)):
        body = render_to_string(
            "checkins/email/reminder.txt",
            {
                "greeting_name": client.display_name,
                "link": site_url() + reverse("check_in_link") + f"?t={token}",
                "signin": site_url() + reverse("client_signin"),
                "hours": int(CheckInLink.LIFETIME.total_seconds() // 3600),
                "crisis_line": client.clinic.crisis_line_for(),
            },
        )
        subject = _("A short check-in is waiting for you")
    send_mail(subject, body, None, [client.user.email])  # type: ignore[union-attr]


def mark_missed(now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Mark overdue check-ins missed; tell the care team once a client misses N in a row.

    Clinic by clinic, in locked batches: one UPDATE marks the batch's missed check-ins, one
    query reads those clients' streaks, one UPDATE records who is told; the emails go after
    the batch commits, one per client.
    """
    missed = 0
    for clinic_id in _clinics_with_due(now):
        tell: list[tuple[Any, int]] = []
        missed += sum(
            _each_due_batch(clinic_id, now, batch_size, partial(_miss, now=now, tell=tell))
        )
        _tell_care_teams(tell)  # after the batches committed
    return missed


def _miss(batch: list[CheckIn], now: datetime, tell: list[tuple[Any, int]]) -> int:
    """Mark the batch's overdue check-ins missed and record which care teams to tell (added to
    ``tell``); returns how many were marked."""
    plans = _plans_for({c.client_id: c.clinic_id for c in batch})
    over = [c for c in batch if now >= c.due_at + timedelta(hours=plans[c.client_id].window_hours)]
    if not over:
        return 0
    missed = CheckIn.objects.filter(pk__in=[c.pk for c in over]).update(
        status=CheckIn.Status.MISSED, missed_at=now
    )
    heads = []
    for client_id, streak in _missed_streaks({c.client_id for c in over}).items():
        if len(streak) >= plans[client_id].notify_after_misses and not any(
            told for _, told in streak
        ):
            heads.append(streak[0][0])
            tell.append((client_id, len(streak)))
    if heads:
        CheckIn.objects.filter(pk__in=heads).update(therapist_told_at=now)
    return missed


def _missed_streaks(client_ids: set[Any]) -> dict[Any, list[tuple[Any, datetime | None]]]:
    """Like ``missed_streak`` for many clients in one query: (pk, therapist_told_at) of each
    client's missed check-ins since the last one they completed, newest first."""
    last_done = (
        CheckIn.objects.filter(client_id=OuterRef("client_id"), status=CheckIn.Status.COMPLETED)
        .order_by("-due_at")
        .values("due_at")[:1]
    )
    rows = (
        CheckIn.objects.filter(client_id__in=list(client_ids), status=CheckIn.Status.MISSED)
        .annotate(last_done=Subquery(last_done))
        .filter(Q(last_done__isnull=True) | Q(due_at__gt=F("last_done")))
        .order_by("client_id", "-due_at")
        .values_list("client_id", "pk", "therapist_told_at")
    )
    out: dict[Any, list[tuple[Any, datetime | None]]] = {}
    for client_id, pk, told in rows:
        out.setdefault(client_id, []).append((pk, told))
    return out


def _tell_care_teams(tell: list[tuple[Any, int]]) -> None:
    """One email per client to its active care team (read in one query)."""
    if not tell:
        return
    teams: dict[Any, list[str]] = {}
    members = CareTeamMember.objects.filter(
        client_id__in=[c for c, _ in tell], therapist__is_active=True
    )
    for client_id, email in members.order_by("-is_primary", "added_at").values_list(
        "client_id", "therapist__email"
    ):
        teams.setdefault(client_id, []).append(email)
    for client_id, count in tell:
        _send_misses_email(client_id, count, teams.get(client_id, []))


def missed_streak(client: ClientRecord) -> list[CheckIn]:
    """The client's most recent missed check-ins, back to the last one they completed."""
    streak = []
    for check_in in (
        CheckIn.objects.filter(client=client).exclude(status=CheckIn.Status.DUE).order_by("-due_at")
    ):
        if check_in.status != CheckIn.Status.MISSED:
            break
        streak.append(check_in)
    return streak


def _send_misses_email(client_id: Any, count: int, recipients: list[str]) -> int:
    if not recipients:
        return 0
    body = render_to_string(
        "checkins/email/misses.txt",
        {"count": count, "link": site_url() + reverse("client_detail", args=[client_id])},
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
    rows = CheckIn.objects.filter(
        client=client, status=CheckIn.Status.DUE, due_at__lte=now
    ).select_related("schedule")
    return [
        DueItem(str(c.pk), c.schedule.kind, c.schedule.instrument, c.due_at)
        for c in rows.order_by("due_at")
    ]


def complete_instrument_check_in(check_in_id: str, when: datetime) -> bool:
    """Mark an instrument check-in done (called by measures); False when it was not open."""
    return bool(
        CheckIn.objects.filter(
            pk=check_in_id, status__in=[CheckIn.Status.DUE, CheckIn.Status.MISSED]
        ).update(status=CheckIn.Status.COMPLETED, completed_at=when)
    )
