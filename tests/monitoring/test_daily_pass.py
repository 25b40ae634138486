"""The daily monitoring pass (``check_all``) works in set-based batches.

It must reach the same alerts as checking each client on its own (``check_disengagement``),
change nothing on a second run, and make the same number of queries for 3 clients as for 12.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.alerts.models import Alert
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.clients.models import ClientRecord, TherapySession
from alliance.monitoring.detection import check_all, check_disengagement
from alliance.monitoring.models import MonitoringSettings
from tests.conftest import grant, make_client, make_staff
from tests.monitoring.helpers import rate

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def weekly(client, statuses, last_days_ago=3, therapist=None):
    therapist = therapist or client.care_team.first().therapist
    for i, status in enumerate(statuses, start=1):
        TherapySession.objects.create(
            clinic=client.clinic,
            client=client,
            therapist=therapist,
            number=i,
            status=status,
            scheduled_at=NOW - dt.timedelta(days=last_days_ago + 7 * (len(statuses) - i)),
        )


def check_ins(client, completed_before, completed_recent):
    schedule = CheckInSchedule.objects.create(
        clinic=client.clinic, client=client, start_date=(NOW - dt.timedelta(days=56)).date()
    )
    for week in range(8):
        due = NOW - dt.timedelta(days=1 + 7 * week)
        done = (completed_recent if week < 4 else completed_before) > (week % 4)
        CheckIn.objects.create(
            clinic=client.clinic,
            client=client,
            schedule=schedule,
            due_at=due,
            status="completed" if done else "missed",
        )


def scenarios(personas):
    """Clients covering every rule and every alert transition; returns them."""
    clinic, therapist = personas.clinic, personas.therapist
    out = []

    def new(name):
        c = make_client(clinic, name, f"{name.lower().replace(' ', '.')}@client.test", [therapist])
        grant(c, "treatment", therapist)
        out.append(c)
        return c

    weekly(new("Missed Twice"), ["attended", "missed", "attended", "cancelled"])
    weekly(new("Long Gap"), ["attended", "attended"], last_days_ago=30)
    c = new("Falling Checkins")
    weekly(c, ["attended"] * 3)
    TherapySession.objects.create(
        clinic=clinic,
        client=c,
        therapist=therapist,
        number=4,
        scheduled_at=NOW + dt.timedelta(days=3),
    )
    check_ins(c, completed_before=4, completed_recent=1)
    c = new("Low Early")
    rate(c, 1, 3.0)
    TherapySession.objects.filter(client=c).update(scheduled_at=NOW - dt.timedelta(days=2))
    TherapySession.objects.create(
        clinic=clinic,
        client=c,
        therapist=therapist,
        number=2,
        scheduled_at=NOW + dt.timedelta(days=3),
    )
    c = new("Came Back")  # an open alert whose signal went away
    weekly(c, ["attended", "attended"])
    TherapySession.objects.create(
        clinic=clinic,
        client=c,
        therapist=therapist,
        number=3,
        scheduled_at=NOW + dt.timedelta(days=3),
    )
    Alert.raise_for(
        c, "disengagement", "Possible disengagement: old reason.", {}, rules=["long_gap"]
    )
    c = new("New Reason")  # an open alert with a different reason gets the new evidence
    weekly(c, ["missed", "missed", "attended", "missed"])
    Alert.raise_for(
        c, "disengagement", "Possible disengagement: old reason.", {}, rules=["long_gap"]
    )
    c = new("Snoozed Same")  # unchanged signal: no new evidence
    weekly(c, ["attended", "attended"], last_days_ago=40)
    alert = check_disengagement(c, NOW)
    alert.snooze(therapist, NOW + dt.timedelta(days=3), "on holiday")
    c = new("Discharged")
    weekly(c, ["missed", "missed"])
    ClientRecord.objects.filter(pk=c.pk).update(status="discharged")
    weekly(new("All Well"), ["attended", "attended"])
    return out


def alert_state():
    return sorted(
        (a.client.full_name, a.status, a.reason, tuple(a.rules), len(a.evidence), a.close_reason)
        for a in Alert.objects.select_related("client")
    )


def test_batches_reach_the_same_alerts_as_checking_each_client(personas):
    clients = scenarios(personas)
    with transaction.atomic():
        for c in ClientRecord.objects.filter(status="active"):
            with transaction.atomic():
                check_disengagement(c, NOW)
        expected = alert_state()
        transaction.set_rollback(True)
    assert {name for name, *_ in expected} >= {c.full_name for c in clients[:7]}
    counts = check_all(NOW, batch_size=2)  # several batches, one clinic split across them
    assert alert_state() == expected
    assert counts["disengagement"] == 6
    evidence = Alert.objects.get(client__full_name="New Reason").evidence[-1]
    assert (
        evidence["reasons"][0]["rule"] == "missed_sessions"
        and evidence["settings"]["missed_threshold"] == 2
    )
    # A second run adds nothing: no new alert, no new evidence.
    check_all(NOW, batch_size=5)
    assert alert_state() == expected


def test_settings_are_read_per_clinic(personas):
    clients = scenarios(personas)
    ms = MonitoringSettings.for_clinic(personas.clinic)
    ms.missed_threshold = 3
    ms.save()
    check_all(NOW, batch_size=3)
    flagged = set(
        Alert.objects.filter(kind="disengagement", status="open").values_list(
            "client__full_name", flat=True
        )
    )
    assert "New Reason" in flagged and "Missed Twice" not in flagged  # 2 misses are below 3 now
    assert clients


def build_caseload(clinic, therapist, size):
    """``size`` clients who each raise a disengagement alert, with ratings and check-ins."""
    for i in range(size):
        c = make_client(clinic, f"Size Client {i}", f"size{i}@client.test", [therapist])
        grant(c, "treatment", therapist)
        weekly(c, ["attended", "missed", "missed"], therapist=therapist)
        check_ins(c, completed_before=4, completed_recent=1)


def queries_for_pass(personas, size):
    with transaction.atomic():
        clinic = personas.other_clinic
        therapist = make_staff(clinic, Role.THERAPIST, f"T {size}", f"t{size}@south.test")
        build_caseload(clinic, therapist, size)
        MonitoringSettings.for_clinic(clinic)
        MonitoringSettings.for_clinic(personas.clinic)
        with CaptureQueriesContext(connection) as first:
            counts = check_all(NOW)
        with CaptureQueriesContext(connection) as second:
            check_all(NOW)
        transaction.set_rollback(True)
    assert counts["disengagement"] == size
    return len(first), len(second)


def test_query_count_does_not_grow_with_clients(personas):
    assert queries_for_pass(personas, 3) == queries_for_pass(personas, 12)
