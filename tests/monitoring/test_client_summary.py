"""The clinician's client page starts with "At a glance": status, the latest scores against
their band and expected range, open alerts, current goals, last and next session; links to
the sections below replace scrolling through the whole page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.clients.models import ClientRecord
from alliance.core.timezones import zone_for
from alliance.goals.models import Goal
from tests.conftest import sign_in
from tests.monitoring.helpers import phq9, rate, session

pytestmark = pytest.mark.django_db


def _glance(html: str) -> str:
    return re.search(r'<section class="panel" id="panel-summary">.*?</section>', html, re.S).group(
        0
    )


def test_at_a_glance_comes_first_with_the_data(client, personas):
    c = personas.client
    for n, total in ((1, 20), (6, 17)):
        phq9(c, n, total)
    rate(c, 6, 4.5)
    session(c, 7, status="scheduled", when=timezone.now() + dt.timedelta(days=1))
    goal = Goal.propose(
        c, c.user, "client", wording="Sleep before midnight", importance=3, difficulty=2
    )
    goal.agree(personas.therapist, "therapist", goal.version)
    Alert.raise_for(
        c,
        "disengagement",
        "Missed 2 of the last 4 sessions: worth asking what gets in the way.",
        {},
    )
    sign_in(client, personas.therapist)
    html = client.get(reverse("client_detail", args=[c.pk])).content.decode()
    glance = _glance(html)
    assert (
        html.index('id="panel-summary"')
        < html.index('id="panel-alerts"')
        < html.index('id="consents"')
    )
    assert '<span class="status-tag status-tag-not_on_track">Not on track</span>' in glance
    assert "<strong>17</strong> moderately severe" in glance
    assert "Expected at session 6: 10 to 14" in glance
    assert "<strong>4.5</strong> / –" in glance
    assert "<strong>Disengagement.</strong> Missed 2 of the last 4 sessions" in glance
    assert "worth asking" not in glance  # the headline; the full reason is in the alerts section
    assert "Sleep before midnight" in glance
    # The page shows times in the viewer's zone, which is not the test process's at every hour.
    when = (timezone.now() + dt.timedelta(days=1)).astimezone(zone_for(personas.therapist))
    assert f"{when:%a %-d %b}" in glance and "(session 7)" in glance and "Last: <span" not in glance
    assert (
        '<a href="#panel-measures">Measures</a>' in html
        and '<a href="#consents">Consents</a>' in html
    )


def test_no_glance_for_someone_outside_the_caseload(client, personas):
    sign_in(client, personas.therapist)
    ClientRecord.objects.filter(pk=personas.client.pk).update(status=ClientRecord.Status.DISCHARGED)
    html = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert 'id="panel-summary"' not in html and "Consents" in html
