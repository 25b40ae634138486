"""Check-in schedule and reminders with a controllable clock: DST, quiet hours, stop after N,
missed check-ins, discharged clients and withdrawn consent."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInLink, CheckInPlan, CheckInSchedule, hash_token
from alliance.checkins.schedule import (
    complete_instrument_check_in,
    due_for_client,
    in_quiet_hours,
    latest_due,
    run_cycle,
)
from alliance.clients.models import ClientRecord, ConsentText, TherapySession
from tests.conftest import run_worker


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def schedule(personas, **kw):
    values = {"cadence": "weekly", "start_date": date(2026, 3, 1), "due_time": time(18, 0)}
    values.update(kw)
    return CheckInSchedule.objects.create(clinic=personas.clinic, client=personas.client, **values)


def test_weekly_due_time_stays_18_local_across_the_dst_change(personas):
    # New York: 18:00 EST is 23:00 UTC; after 8 March 2026 18:00 EDT is 22:00 UTC.
    s = schedule(personas)
    plan = CheckInPlan.for_client(personas.client)

    ny = ZoneInfo("America/New_York")
    assert latest_due(s, utc(2026, 3, 1, 22, 59), ny, plan) is None
    assert latest_due(s, utc(2026, 3, 1, 23, 0), ny, plan) == utc(2026, 3, 1, 23, 0)
    assert latest_due(s, utc(2026, 3, 8, 21, 59), ny, plan) == utc(2026, 3, 1, 23, 0)
    assert latest_due(s, utc(2026, 3, 8, 22, 0), ny, plan) == utc(2026, 3, 8, 22, 0)
    # And back in November: 18:00 EST again.
    s.start_date = date(2026, 10, 25)
    assert latest_due(s, utc(2026, 11, 1, 23, 30), ny, plan) == utc(2026, 11, 1, 23, 0)


def test_cycle_creates_each_due_check_in_once_and_reminds_across_dst(personas):
    schedule(personas)
    run_cycle(utc(2026, 3, 1, 23, 5))
    run_cycle(utc(2026, 3, 1, 23, 6))
    assert CheckIn.objects.count() == 1 and len(mail.outbox) == 1
    run_cycle(utc(2026, 3, 8, 22, 5))  # the week after, now on daylight time
    assert list(CheckIn.objects.order_by("due_at").values_list("due_at", flat=True)) == [
        utc(2026, 3, 1, 23, 0),
        utc(2026, 3, 8, 22, 0),
    ]


def test_quiet_hours_hold_reminders_until_morning(personas):
    # Due at 20:30 local; the worker first runs at 21:30 local (quiet), then 08:30 next day.
    schedule(personas, due_time=time(20, 30), cadence="daily", start_date=date(2026, 6, 1))
    run_cycle(utc(2026, 6, 2, 1, 30))  # 21:30 EDT on 1 June
    assert CheckIn.objects.count() == 1 and mail.outbox == []
    run_cycle(utc(2026, 6, 2, 11, 59))  # 07:59 EDT: still quiet
    assert mail.outbox == []
    run_cycle(utc(2026, 6, 2, 12, 30))  # 08:30 EDT
    assert len(mail.outbox) == 1


def test_quiet_hours_are_the_clients_own_setting_in_their_time_zone(personas):
    plan = CheckInPlan.for_client(personas.client)

    tokyo = ZoneInfo("Asia/Tokyo")
    assert in_quiet_hours(utc(2026, 6, 1, 13, 0), plan, tokyo)  # 22:00 in Tokyo
    assert not in_quiet_hours(utc(2026, 6, 1, 3, 0), plan, tokyo)  # 12:00
    plan.quiet_start, plan.quiet_end = time(13, 0), time(14, 0)
    assert in_quiet_hours(utc(2026, 6, 1, 4, 30), plan, tokyo)


def test_reminders_stop_after_the_set_number_and_the_check_in_is_missed(personas):
    schedule(personas, cadence="monthly", start_date=date(2026, 6, 1), due_time=time(12, 0))
    plan = CheckInPlan.for_client(personas.client)
    plan.max_reminders, plan.reminder_gap_hours, plan.window_hours = 2, 12, 72
    plan.save()
    start = utc(2026, 6, 1, 16, 0)  # 12:00 EDT
    for hours in range(0, 72, 6):
        run_cycle(start + timedelta(hours=hours))
    assert len(mail.outbox) == 2
    check_in = CheckIn.objects.get()
    assert check_in.reminders_sent == 2 and check_in.status == "due"
    run_cycle(start + timedelta(hours=72))
    check_in.refresh_from_db()
    assert check_in.status == "missed" and len(mail.outbox) == 2


def test_therapist_is_told_once_after_n_misses_without_the_clients_name(personas):
    schedule(personas, cadence="weekly", start_date=date(2026, 6, 1), due_time=time(12, 0))
    plan = CheckInPlan.for_client(personas.client)
    plan.max_reminders, plan.notify_after_misses, plan.window_hours = 0, 2, 48
    plan.save()
    t = utc(2026, 6, 1, 16, 0)
    for week in range(4):
        run_cycle(t + timedelta(weeks=week))
        run_cycle(t + timedelta(weeks=week, hours=49))
    assert CheckIn.objects.filter(status="missed").count() == 4
    told = [m for m in mail.outbox if personas.therapist.email in m.to]
    assert len(told) == 1
    assert "Cleo" not in told[0].body and "Cleo" not in told[0].subject
    assert "missed 2 check-ins" in told[0].body


def test_no_check_ins_or_reminders_for_discharged_client(personas):
    schedule(personas)
    run_cycle(utc(2026, 3, 1, 23, 5))
    assert len(mail.outbox) == 1
    ClientRecord.objects.filter(pk=personas.client.pk).update(status="discharged")
    run_cycle(utc(2026, 3, 2, 23, 30))
    run_cycle(utc(2026, 3, 8, 22, 30))
    assert len(mail.outbox) == 1 and CheckIn.objects.count() == 1


def test_no_reminders_after_treatment_consent_is_withdrawn(personas):
    schedule(personas)
    consent = personas.client.current_consent("treatment")
    consent.withdrawn_at = timezone.now()
    consent.save()
    run_cycle(utc(2026, 3, 1, 23, 5))
    assert mail.outbox == [] and CheckIn.objects.count() == 0


def test_reminder_has_no_clinical_content_and_a_hashed_single_use_link(personas):
    schedule(personas, kind="instrument", instrument="phq9")
    run_cycle(utc(2026, 3, 1, 23, 5))
    message = mail.outbox[0]
    text = message.subject + message.body
    assert "Hello Cleo," in message.body
    assert "Client" not in text  # the surname: only the greeting name appears
    for word in ("PHQ", "phq9", "depress", "mood", "goal", "therapy session"):
        assert word.lower() not in text.lower()
    token = re.search(r"/check-in/\?t=([\w-]+)", message.body).group(1)
    link = CheckInLink.objects.get()
    assert link.token_hash == hash_token(token) and token not in link.token_hash


def test_due_for_client_is_the_hook_for_instrument_administration(personas):
    schedule(personas, kind="instrument", instrument="phq9", cadence="fortnightly")
    run_cycle(utc(2026, 3, 1, 23, 5))
    due = due_for_client(personas.client, utc(2026, 3, 2, 0, 0))
    assert [(d.kind, d.instrument) for d in due] == [("instrument", "phq9")]
    assert complete_instrument_check_in(due[0].check_in_id, utc(2026, 3, 2, 1, 0))
    assert due_for_client(personas.client, utc(2026, 3, 2, 2, 0)) == []


def test_after_session_check_in_uses_the_session_time(personas):
    schedule(personas, cadence="after_session")

    TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=1,
        scheduled_at=utc(2026, 5, 5, 15, 0),
    )
    run_cycle(utc(2026, 5, 5, 16, 0))
    assert CheckIn.objects.count() == 0
    run_cycle(utc(2026, 5, 5, 17, 1))
    assert CheckIn.objects.get().due_at == utc(2026, 5, 5, 17, 0)


@pytest.fixture
def consent_texts(transactional_db):
    # An earlier transactional test's flush may have removed the seeded consent texts.
    ConsentText.objects.get_or_create(
        kind="treatment", version=1, defaults={"body": "Consent to treatment."}
    )


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_sends_reminders(consent_texts, personas):
    schedule(personas)
    call_command("send_reminders", "--enqueue", "--now", "2026-03-01T23:05:00+00:00")
    assert mail.outbox == []
    run_worker()
    assert len(mail.outbox) == 1 and CheckIn.objects.get().reminders_sent == 1


def test_send_reminders_command_runs_the_cycle_now(personas, capsys):
    schedule(personas)
    call_command("send_reminders", "--now", "2026-03-01T23:05:00+00:00")
    assert "reminders sent: 1" in capsys.readouterr().out
