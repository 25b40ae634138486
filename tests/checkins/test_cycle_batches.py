"""The check-in cycle works in set-based batches: same outcome in small batches, nothing twice
on a re-run, and the same number of queries for 3 clients as for 12."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alliance.accounts.models import Role
from alliance.checkins.models import CheckIn, CheckInLink, CheckInPlan, CheckInSchedule
from alliance.checkins.schedule import (
    CycleResult,
    create_due_check_ins,
    mark_missed,
    run_cycle,
    send_due_reminders,
)
from tests.conftest import grant, make_client, make_staff

pytestmark = pytest.mark.django_db
WEEK0 = datetime(2026, 6, 1, 16, 5, tzinfo=UTC)  # 12:05 in New York, 5 minutes after due
MOMENTS = [
    WEEK0,
    WEEK0 + timedelta(hours=73),  # past the 72-hour window: missed
    WEEK0 + timedelta(weeks=1),
    WEEK0 + timedelta(weeks=1, hours=73),  # the second miss in a row: the therapist is told
]


def caseload(clinic, size, tag=""):
    therapist = make_staff(
        clinic, Role.THERAPIST, f"Tara {tag}{size}", f"tara{tag}{size}@north.test"
    )
    for i in range(size):
        c = make_client(
            clinic, f"Batch Client {i}", f"batch{tag}{size}.{i}@client.test", [therapist]
        )
        grant(c, "treatment", therapist)
        CheckInSchedule.objects.create(
            clinic=clinic,
            client=c,
            cadence="weekly",
            start_date=date(2026, 6, 1),
            due_time=time(12, 0),
        )
    return therapist


def test_small_batches_reach_the_same_outcome_and_nothing_goes_twice(personas):
    therapist = caseload(personas.clinic, 5)
    for moment in MOMENTS:
        assert create_due_check_ins(moment, batch_size=2) in (0, 5)
        assert mark_missed(moment, batch_size=2) in (0, 5)
        assert send_due_reminders(moment, batch_size=2) in (0, 5)
        # The same moment again (a re-run, a second worker): nothing new, nothing sent twice.
        sent = len(mail.outbox)
        assert run_cycle(moment) == CycleResult(0, 0, 0)
        assert len(mail.outbox) == sent
    assert (
        CheckIn.objects.filter(client__care_team__therapist=therapist, status="missed").count()
        == 10
    )
    assert CheckInLink.objects.count() == 10
    reminders = [m for m in mail.outbox if m.subject.startswith("A short check-in")]
    told = [m for m in mail.outbox if therapist.email in m.to]
    assert len(reminders) == 10 and len(told) == 5
    assert {m.to[0] for m in reminders} == {f"batch5.{i}@client.test" for i in range(5)}
    assert all("missed 2 check-ins" in m.body for m in told)
    assert CheckIn.objects.filter(therapist_told_at__isnull=False).count() == 5


def test_each_clients_own_plan_is_used(personas):
    caseload(personas.clinic, 3)
    lenient = CheckInSchedule.objects.order_by("created_at").first().client
    CheckInPlan.for_client(lenient).save()  # reading makes no row; the plan form saves it
    CheckInPlan.objects.filter(client=lenient).update(window_hours=100, notify_after_misses=1)
    run_cycle(MOMENTS[0])
    run_cycle(MOMENTS[1])
    assert set(CheckIn.objects.filter(status="due").values_list("client_id", flat=True)) == {
        lenient.pk
    }
    run_cycle(WEEK0 + timedelta(hours=101))
    told = [m for m in mail.outbox if "missed 1 check-in" in m.body]
    assert len(told) == 1


def cycle_queries(personas, size):
    with transaction.atomic():
        caseload(personas.other_clinic, size, tag="q")
        counts, sent = [], []
        for moment in MOMENTS:
            before = len(mail.outbox)
            with CaptureQueriesContext(connection) as queries:
                run_cycle(moment)
            counts.append(len(queries))
            sent.append(len(mail.outbox) - before)
        transaction.set_rollback(True)
    assert sent == [size, 0, size, size]  # reminders, -, reminders, one email per told care team
    return counts


def test_query_count_does_not_grow_with_clients(personas):
    assert cycle_queries(personas, 3) == cycle_queries(personas, 12)
