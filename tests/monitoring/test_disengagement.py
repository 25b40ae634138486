"""Disengagement signals, each with its reason in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.monitoring.detection import check_all, check_disengagement, disengagement_reasons
from tests.monitoring.helpers import rate, session

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def weekly(client, statuses, last_days_ago=3):
    for i, status in enumerate(statuses, start=1):
        session(
            client,
            i,
            status=status,
            when=NOW - dt.timedelta(days=last_days_ago + 7 * (len(statuses) - i)),
        )


def test_missed_and_cancelled_sessions(personas):
    c = personas.client
    weekly(c, ["attended", "attended", "missed", "attended", "cancelled"])
    session(c, 6, status="scheduled", when=NOW + dt.timedelta(days=4))
    (reason,) = disengagement_reasons(c)
    assert reason.rule == "missed_sessions"
    assert reason.words == "2 of the last 4 sessions were missed or cancelled (sessions 3, 5)"
    alert = check_disengagement(c)
    assert alert.kind == "disengagement" and "sessions 3, 5" in alert.reason
    assert (
        alert.rules == ["missed_sessions"]
        and alert.evidence[-1]["settings"]["missed_threshold"] == 2
    )
    assert (
        check_disengagement(c) == alert and len(Alert.objects.get(pk=alert.pk).evidence) == 1
    )  # no repeat noise


def test_one_missed_session_is_not_a_signal(personas):
    c = personas.client
    weekly(c, ["attended", "missed", "attended", "attended"])
    session(c, 5, status="scheduled", when=NOW + dt.timedelta(days=4))
    assert disengagement_reasons(c) == [] and check_disengagement(c) is None


def test_long_gap_with_nothing_booked(personas):
    c = personas.client
    weekly(c, ["attended", "attended"], last_days_ago=30)
    (reason,) = disengagement_reasons(c)
    assert reason.rule == "long_gap" and reason.words.startswith(
        "no session for 30 days (last attended: session 2)"
    )
    alert = check_disengagement(c)
    assert alert.status == "open"
    session(c, 3, status="scheduled", when=NOW + dt.timedelta(days=2))
    assert disengagement_reasons(c) == []
    # Once the signal is gone the alert closes by itself, with the reason.
    assert check_disengagement(c) is None
    alert.refresh_from_db()
    assert alert.status == "closed" and "No disengagement signal" in alert.close_reason


def test_falling_check_in_completion(personas):
    c = personas.client
    weekly(c, ["attended"] * 3)
    session(c, 4, status="scheduled", when=NOW + dt.timedelta(days=4))
    schedule = CheckInSchedule.objects.create(
        clinic=c.clinic, client=c, start_date=(NOW - dt.timedelta(days=56)).date()
    )
    for day in range(1, 56, 7):
        due = NOW - dt.timedelta(days=day)
        recent = day < 28
        CheckIn.objects.create(
            clinic=c.clinic,
            client=c,
            schedule=schedule,
            due_at=due,
            status="missed" if recent and day > 1 else "completed",
        )
    (reason,) = disengagement_reasons(c)
    assert reason.rule == "check_ins_falling"
    assert reason.words == "check-ins completed fell from 100% to 25% over the last 4 weeks"


def test_low_alliance_in_the_first_three_sessions(personas):
    c = personas.client
    rate(c, 1, 5)
    rate(c, 2, 3.25)
    alert = Alert.objects.get(client=c, kind="disengagement")  # raised by the rating itself
    assert "low_early_alliance" in alert.rules
    assert "3.25 at session 2 (below 4 in the first 3 sessions)" in alert.reason


def test_check_all_wakes_snoozed_alerts_and_checks_everyone(personas):
    c = personas.client
    weekly(c, ["attended", "missed", "missed"])
    alert, _ = Alert.raise_for(c, "disagreement", "x", {})
    alert.snooze(personas.therapist, NOW + dt.timedelta(days=1), "talked about it")
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=NOW - dt.timedelta(minutes=1))
    counts = check_all()
    assert counts == {"woken": 1, "disengagement": 1}
    assert Alert.objects.get(pk=alert.pk).status == "open"
