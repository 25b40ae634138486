"""The one-line crisis pointer uses the clinic's own numbers on every surface a client sees.

A clinic outside the US must not have its clients told to call 988 or 911: the footer of every
client page, the page after answering, unusable-link pages and the reminder and questionnaire
emails all read ``Clinic.crisis_line``; a link that matches nothing names no country's numbers.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import GENERIC_CRISIS_LINE
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.checkins.schedule import send_reminder_email
from alliance.measures.models import AccessLink
from tests.conftest import run_worker, sign_in
from tests.measures.helpers import assign, phq9_post

pytestmark = pytest.mark.django_db

UK = "Call Samaritans free on 116 123, or 999 in an emergency."


@pytest.fixture
def uk_clinic(personas):
    personas.clinic.crisis_line = UK
    personas.clinic.save()
    return personas


def test_client_pages_and_the_done_page_use_the_clinic_line(client, uk_clinic):
    p = uk_clinic
    sign_in(client, p.client_user)
    home = client.get(reverse("client_home")).content.decode()
    assert UK in home and "988" not in home
    adm = assign(p.client)
    done = client.post(
        reverse("measures_answer", args=[adm.pk]), phq9_post(adm, [0] * 9), follow=True
    )
    text = done.content.decode()
    assert UK in text and "911" not in text


def test_unusable_links_use_the_clinic_line_or_no_country(client, uk_clinic):
    p = uk_clinic
    adm = assign(p.client)
    sign_in(client, p.therapist)
    url = client.post(reverse("measures_issue_link", args=[adm.pk])).context["url"]
    client.logout()
    AccessLink.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    expired = client.get(url.replace("http://testserver", "")).content.decode()
    assert "expired" in expired and UK in expired and "988" not in expired
    unknown = client.get(reverse("measures_link", args=["nonsense"])).content.decode()
    assert GENERIC_CRISIS_LINE in unknown and "988" not in unknown


@pytest.mark.django_db(transaction=True)
def test_emails_use_the_clinic_line(client, personas, mailoutbox):
    cache.clear()
    p = personas
    p.clinic.crisis_line = UK
    p.clinic.save()
    schedule = CheckInSchedule.objects.create(
        clinic=p.clinic,
        client=p.client,
        cadence="weekly",
        start_date=date(2026, 3, 1),
        due_time=time(18, 0),
    )
    check_in = CheckIn.objects.create(
        clinic=p.clinic, client=p.client, schedule=schedule, due_at=timezone.now()
    )
    send_reminder_email(check_in, "token")
    adm = assign(p.client)
    sign_in(client, p.therapist)
    client.post(reverse("measures_email_link", args=[adm.pk]))
    run_worker()
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert UK in message.body and "988" not in message.body


def test_admins_set_the_line_in_clinic_settings(client, personas):
    sign_in(client, personas.admin)
    form = client.get(reverse("clinic_settings")).content.decode()
    assert 'name="crisis_line"' in form
