"""Demo clinic: a repaired rupture (after a concern about homework, with the repair recorded),
an unrepaired rupture escalated to the supervisor (consent on file), a therapist–client
disagreement with a fresh open rupture, and a disengaging client. All fictional.

Runs after ``measures`` and before ``goals``/``checkins``/``supervision`` (INSTALLED_APPS order):
it uses clients 18–21, which the later seeders leave alone (supervision seeds the first 18
active clients), and writes concerns and check-ins itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInSchedule, Concern
from alliance.checkins.services import on_concern_raised
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core.seeding import DemoContext
from alliance.measures import scoring
from alliance.measures.services import record_response
from alliance.monitoring.detection import check_disengagement
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode

# (client index, client ratings, therapist ratings, "felt off" sessions); None: no rating.
REPAIRED = (18, [5, 5, 6, 5, 5, 2.5, 4.25, 5], [5, 5, 5.5, 5, 5, 4, 4.5, 5], {6})
UNREPAIRED = (19, [5, 5, 6, 5, 2, 2.5, 2.5, 3], [5, 5.5, 5.5, 5, 4, 4.5, 4.5, 4.5], {5})
DISAGREEMENT = (21, [5, 4.5, 4.5, 4.25, 2.5], [5.5, 6, 6, 6, 5], {5})
# Attendance of the disengaging client (index 20), oldest first, and the client's ratings.
DISENGAGING = ["attended", "attended", "missed", "cancelled", "attended", "missed"]
DISENGAGING_RATINGS = [3.5, 4.5, None, None, 4.75, None]


def _answers(mean: float, felt_off: bool) -> dict[str, Any]:
    total = round(mean * 4)
    items = []
    for i in range(4):
        v = min(6, -(-total // (4 - i)))
        items.append(v)
        total -= v
    return {**{f"item{i + 1}": v for i, v in enumerate(items)}, "felt_off": 1 if felt_off else 0}


def _rate(
    client: ClientRecord,
    session: TherapySession,
    instrument: str,
    mean: float,
    felt_off: bool = False,
) -> None:
    answers = _answers(mean, felt_off)
    record_response(
        client=client,
        instrument_id=instrument,
        result=scoring.score(instrument, answers),
        answers=answers,
        source="form",
        actor=client.user if instrument == "sac_client" else session.therapist,
        completed_at=session.scheduled_at + dt.timedelta(hours=1),
        session_number=session.number if instrument == "sac_therapist" else None,
    )


def _session(client: ClientRecord, number: int, when: dt.datetime, status: str) -> TherapySession:
    primary = client.care_team.filter(is_primary=True).first()
    assert primary is not None  # every demo client is seeded with a primary therapist
    therapist = primary.therapist
    return TherapySession.objects.create(
        clinic=client.clinic,
        client=client,
        therapist=therapist,
        number=number,
        scheduled_at=when,
        status=status,
    )


def _history(
    client: ClientRecord,
    spec: tuple[int, list[float], list[float], set[int]],
    now: dt.datetime,
    between: Any = None,
) -> list[TherapySession]:
    _i, ratings, therapist, felt_off = spec
    sessions: list[TherapySession] = []
    for n, (c, t) in enumerate(zip(ratings, therapist, strict=True), start=1):
        if between is not None:
            between(n, sessions)
        s = _session(
            client, n, now - dt.timedelta(days=7 * (len(ratings) - n) + 2, hours=3), "attended"
        )
        sessions.append(s)
        _rate(client, s, "sac_client", c, n in felt_off)
        _rate(client, s, "sac_therapist", t)
    _session(client, len(ratings) + 1, now + dt.timedelta(days=5, hours=2), "scheduled")
    return sessions


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    MonitoringSettings.for_clinic(ctx.clinic)

    # 1. Repaired: a concern about the homework before session 6, a dip, the repair recorded.
    repaired = ctx.clients[REPAIRED[0]]

    def before_session(n: int, sessions: list[TherapySession]) -> None:
        if n == 6:
            concern = Concern.objects.create(
                clinic=repaired.clinic,
                client=repaired,
                raised_by=repaired.user,
                topic="tasks",
                detail="The worksheets feel like school again.",
                raised_at=sessions[-1].scheduled_at + dt.timedelta(days=3),
            )
            on_concern_raised(concern)
        if n == 7:
            episode = (
                RuptureEpisode.objects.filter(client=repaired).order_by("-start_session").first()
            )
            if episode is not None:
                episode.record_repair(
                    sessions[-1].therapist,
                    ["clarify", "change_tasks", "own_part"],
                    "Asked what felt off; the worksheets felt like school. Swapped them for a five-minute "
                    "practice she chose, and said I had pushed the plan too fast.",
                )

    _history(repaired, REPAIRED, now, before_session)

    # 2. Unrepaired, escalated to the supervisor (this client consented to supervision sharing).
    _history(ctx.clients[UNREPAIRED[0]], UNREPAIRED, now)

    # 3. The therapist rates the sessions clearly higher than the client; the latest dips.
    _history(ctx.clients[DISAGREEMENT[0]], DISAGREEMENT, now)

    # 4. Disengaging: low early alliance, missed and cancelled sessions, a long gap, fewer check-ins.
    drifting = ctx.clients[20]
    for n, (status, rating) in enumerate(
        zip(DISENGAGING, DISENGAGING_RATINGS, strict=True), start=1
    ):
        s = _session(drifting, n, now - dt.timedelta(days=7 * (len(DISENGAGING) - n) + 24), status)
        if rating is not None:
            _rate(drifting, s, "sac_client", rating)
    _falling_check_ins(drifting, now)
    check_disengagement(drifting, now)

    names = ", ".join(ctx.clients[i].full_name for i in (18, 19, 21, 20))
    ctx.notes.append(
        "Monitoring: repaired rupture with a recorded repair, unrepaired rupture escalated to the supervisor, "
        f"therapist–client disagreement with an open rupture, and a disengaging client ({names})."
    )


def _falling_check_ins(client: ClientRecord, now: dt.datetime) -> None:
    schedule = CheckInSchedule.objects.create(
        clinic=client.clinic,
        client=client,
        start_date=(now - dt.timedelta(days=56)).date(),
        cadence="weekly",
    )
    for day in range(2, 56, 7):
        recent = day < 28
        done = not recent or day == 2
        CheckIn.objects.create(
            clinic=client.clinic,
            client=client,
            schedule=schedule,
            due_at=now - dt.timedelta(days=day),
            status="completed" if done else "missed",
            completed_at=now - dt.timedelta(days=day) if done else None,
        )
