"""Demo check-ins: schedules, answered and missed check-ins, and an open concern. All fictional."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInPlan, CheckInResponse, CheckInSchedule
from alliance.checkins.services import raise_concern
from alliance.clients.models import TherapySession
from alliance.core.seeding import DemoContext


def _book(client, when) -> None:  # noqa: ANN001
    if TherapySession.next_for(client) is None:
        primary = client.care_team.order_by("-is_primary").first()
        TherapySession.book_next(client, when, primary.therapist)


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    now = timezone.now()
    for index, client in enumerate(ctx.clients[:8]):
        if client.status != "active":
            continue
        CheckInPlan.for_client(client)
        when = now + timedelta(days=1 + index % 6, hours=rng.randint(0, 6))
        # Booked once every app has seeded its past sessions, so numbers follow dates.
        ctx.after_all.append(lambda client=client, when=when: _book(client, when))
        mood = CheckInSchedule.objects.create(
            clinic=ctx.clinic,
            client=client,
            cadence="weekly",
            start_date=(now - timedelta(days=63)).date(),
            due_time=time(18, 0),
        )
        CheckInSchedule.objects.create(
            clinic=ctx.clinic,
            client=client,
            kind="instrument",
            instrument="phq9",
            cadence="fortnightly",
            start_date=(now - timedelta(days=56)).date(),
        )
        for week in range(8, 0, -1):
            due = now - timedelta(weeks=week)
            missed = (index == 4 and week <= 3) or rng.random() < 0.1
            check_in = CheckIn.objects.create(
                clinic=ctx.clinic,
                client=client,
                schedule=mood,
                due_at=due,
                status="missed" if missed else "completed",
                missed_at=due + timedelta(days=3) if missed else None,
                completed_at=None if missed else due + timedelta(hours=2),
                reminders_sent=3 if missed else 1,
            )
            if not missed:
                CheckInResponse.objects.create(
                    clinic=ctx.clinic,
                    check_in=check_in,
                    mood=rng.randint(3, 8),
                    note="" if rng.random() < 0.7 else "Busy week, but managing.",
                    idempotency_key=uuid.uuid4(),
                    submitted_at=due + timedelta(hours=2),
                )
        CheckIn.objects.create(
            clinic=ctx.clinic, client=client, schedule=mood, due_at=now - timedelta(hours=3)
        )
    raise_concern(
        ctx.clients[0],
        ctx.clients[0].user,
        "not_working",
        "Sessions feel rushed at the end and we skip the homework review.",
    )
    ctx.notes.append(
        "Check-ins: client 5 missed 3 in a row; the first demo client has an open concern."
    )
