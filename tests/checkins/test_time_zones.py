"""Every viewer reads times in their own zone: a client in Los Angeles and a therapist in New
York see one check-in at their own local times; staff without a setting use the clinic's."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import Membership
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.checkins.services import submit_check_in
from alliance.clients.models import BreakGlassAccess
from alliance.clients.tasks import notify_break_glass
from alliance.core.timezones import zone_for
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(
    2026, 11, 20, 11, 11, tzinfo=dt.UTC
)  # 03:11 in LA, 06:11 in NY, 05:11 in Chicago


@pytest.fixture
def la_client_ny_therapist(personas):
    personas.clinic.time_zone = "America/Chicago"
    personas.clinic.save()
    personas.client.time_zone = "America/Los_Angeles"
    personas.client.save()
    Membership.objects.filter(user=personas.therapist).update(time_zone="America/New_York")
    schedule = CheckInSchedule.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        cadence="daily",
        start_date=MOMENT.date(),
        due_time=dt.time(3, 11),
    )
    check_in = CheckIn.objects.create(
        clinic=personas.clinic, client=personas.client, schedule=schedule, due_at=MOMENT
    )
    assert submit_check_in(check_in, mood=6, note="", key=uuid.uuid4(), via="home")
    CheckIn.objects.filter(pk=check_in.pk).update(completed_at=MOMENT)
    return check_in


def test_zone_for_each_viewer(personas, la_client_ny_therapist):
    assert str(zone_for(personas.client_user)) == "America/Los_Angeles"
    assert str(zone_for(personas.therapist)) == "America/New_York"
    assert str(zone_for(personas.colleague)) == "America/Chicago"  # no own setting: the clinic's


def test_therapist_in_new_york_sees_the_check_in_at_new_york_time(
    client, personas, la_client_ny_therapist
):
    sign_in(client, personas.therapist)
    html = client.get(reverse("check_ins_staff", args=[personas.client.pk])).content.decode()
    assert "2026-11-20 06:11" in html
    assert "11:11" not in html
    assert "at 03:11 the client's time" in html  # a schedule's time of day is the client's clock
    assert "Times in America/New_York (your time zone; the client's is America/Los_Angeles)" in html


def test_client_in_los_angeles_sees_the_same_check_in_at_los_angeles_time(
    client, personas, la_client_ny_therapist
):
    sign_in(client, personas.client_user)
    html = client.get(reverse("my_data_summary")).content.decode()
    assert "2026-11-20 03:11" in html and "11:11" not in html


def test_pages_render_in_the_viewers_zone_and_reset_after(client, personas, la_client_ny_therapist):
    sign_in(client, personas.colleague)
    html = client.get(reverse("alert_list")).content.decode()
    assert "Times in America/Chicago." in html
    assert timezone.get_current_timezone_name() == "UTC"  # nothing leaks past the request


def test_staff_choose_their_own_zone(client, personas):
    sign_in(client, personas.colleague)
    page = client.get(reverse("my_settings")).content.decode()
    assert "The clinic&#x27;s time zone (America/New_York)" in page
    bad = client.post(reverse("my_settings"), {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 200 and 'id="error-summary"' in bad.content.decode()
    assert Membership.objects.get(user=personas.colleague).time_zone == ""
    r = client.post(reverse("my_settings"), {"time_zone": "Europe/London"})
    assert r.status_code == 302
    assert Membership.objects.get(user=personas.colleague).time_zone == "Europe/London"
    assert "Times in Europe/London." in client.get(reverse("alert_list")).content.decode()


def test_clients_cannot_open_staff_settings(client, personas):
    sign_in(client, personas.client_user)
    assert client.get(reverse("my_settings")).status_code in (403, 404)


def test_emails_use_each_recipients_zone(personas):
    Membership.objects.filter(user=personas.therapist).update(time_zone="America/Los_Angeles")
    access = BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="unreachable",
        started_at=MOMENT,
        expires_at=MOMENT + dt.timedelta(hours=1),
    )
    notify_break_glass.call(str(access.pk))
    body = mail.outbox[-1].body
    assert "2026-11-20 03:11 (America/Los_Angeles time)" in body and "11:11" not in body
