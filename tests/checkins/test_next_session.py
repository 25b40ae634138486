"""One source of truth for the next session: the scheduled TherapySession, booked from the
check-in settings, read the same way by the client's home and the therapist's caseload."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.checkins.models import CheckInPlan
from alliance.clients.models import TherapySession
from alliance.core.seeding import seed_demo
from alliance.core.timezones import zone_for
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PLAN = {
    "form": "plan",
    "quiet_start": "21:00",
    "quiet_end": "08:00",
    "max_reminders": 3,
    "notify_after_misses": 2,
    "window_hours": 72,
}


def _local(when: dt.datetime, viewer=None) -> str:
    """A time as typed into a form: in the zone of the person filling it in."""
    zone = zone_for(viewer) if viewer is not None else None
    return timezone.localtime(when, zone).strftime("%Y-%m-%dT%H:%M")


def _both_views(client, personas):
    sign_in(client, personas.client_user)
    home = client.get(reverse("client_home"))
    sign_in(client, personas.therapist)
    (row,) = client.get(reverse("caseload")).context["rows"]
    return home, row


def test_booked_session_is_the_one_both_the_client_and_the_therapist_see(client, personas):
    when = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    sign_in(client, personas.therapist)
    r = client.post(
        reverse("check_ins_staff", args=[personas.client.pk]),
        {**PLAN, "next_session_at": _local(when, personas.therapist)},
    )
    assert r.status_code == 302
    session = TherapySession.objects.get(client=personas.client)
    assert (session.number, session.scheduled_at, session.status, session.therapist) == (
        1,
        when,
        "scheduled",
        personas.therapist,
    )
    home, row = _both_views(client, personas)
    shown = timezone.localtime(when, zone_for(personas.client_user)).strftime("%a %-d %b, %H:%M")
    assert f"Your next session: <strong>{shown}</strong>" in home.content.decode()
    assert row.client.next_session_at == when and row.client.next_session_number == 1
    # Moving it moves the same session, for both.
    later = when + dt.timedelta(hours=3)
    sign_in(client, personas.therapist)
    form = client.get(reverse("check_ins_staff", args=[personas.client.pk])).context["plan_form"]
    assert form.initial["next_session_at"] == timezone.localtime(when)
    client.post(
        reverse("check_ins_staff", args=[personas.client.pk]),
        {**PLAN, "next_session_at": _local(later, personas.therapist)},
    )
    assert list(TherapySession.objects.values_list("number", "scheduled_at")) == [(1, later)]
    home, row = _both_views(client, personas)
    assert (
        timezone.localtime(later, zone_for(personas.client_user)).strftime("%H:%M")
        in home.content.decode()
    )
    assert row.client.next_session_at == later


def test_a_session_booked_elsewhere_shows_on_the_client_home(client, personas):
    """Before, the home read the check-in plan and said "No session is booked yet"."""
    when = timezone.now() + dt.timedelta(days=3)
    TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=4,
        scheduled_at=when,
    )
    home, row = _both_views(client, personas)
    assert "No session is booked yet" not in home.content.decode()
    assert row.client.next_session_at == when


def test_booking_refuses_the_past_and_out_of_order_times_and_keeps_everything(client, personas):
    soon = timezone.now() + dt.timedelta(days=1)
    for n, when in ((1, soon), (2, soon + dt.timedelta(days=7))):
        TherapySession.objects.create(
            clinic=personas.clinic,
            client=personas.client,
            therapist=personas.therapist,
            number=n,
            scheduled_at=when,
        )
    before = list(TherapySession.objects.values_list("number", "scheduled_at"))
    sign_in(client, personas.therapist)
    url = reverse("check_ins_staff", args=[personas.client.pk])
    cases = (
        (timezone.now() - dt.timedelta(days=1), "Choose a time in the future"),
        (soon + dt.timedelta(days=8), "Session 2 is already booked before that time"),
    )
    for when, message in cases:
        r = client.post(
            url, {**PLAN, "max_reminders": 5, "next_session_at": _local(when, personas.therapist)}
        )
        assert r.status_code == 200 and message in r.content.decode()
    assert list(TherapySession.objects.values_list("number", "scheduled_at")) == before
    assert (
        CheckInPlan.for_client(personas.client).max_reminders == 3
    )  # the plan was not saved either


def test_an_empty_field_leaves_the_booking_alone(client, personas):
    when = timezone.now() + dt.timedelta(days=1)
    TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=1,
        scheduled_at=when,
    )
    sign_in(client, personas.therapist)
    client.post(
        reverse("check_ins_staff", args=[personas.client.pk]), {**PLAN, "next_session_at": ""}
    )
    assert list(TherapySession.objects.values_list("scheduled_at", flat=True)) == [when]


@pytest.mark.slow
def test_demo_books_each_next_session_after_every_past_one():
    ctx = seed_demo()
    booked = 0
    for c in ctx.clients[:8]:
        upcoming = TherapySession.next_for(c)
        if c.status != "active":
            continue
        assert upcoming is not None, c.full_name
        booked += 1
        last = TherapySession.objects.filter(client=c).order_by("-number").first()
        assert last == upcoming  # the highest number is the latest date
    assert booked >= 6
