"""Outcome classification per episode (settings stored with the result) and the charts."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.measures import scoring
from alliance.measures.models import EpisodeOfCare, MeasureSettings, OutcomeResult, Response
from alliance.measures.services import record_response
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def add(client_record, total, days_ago, instrument="phq9"):
    when = timezone.now() - dt.timedelta(days=days_ago)
    return record_response(
        client=client_record,
        instrument_id=instrument,
        result=scoring.score_total_only(instrument, total),
        answers={},
        source="paper",
        completed_at=when,
    ).response


def test_improvement_is_classified_with_reason_and_settings(client, personas):
    for total, days in [(18, 70), (14, 56), (9, 42)]:
        add(personas.client, total, days)
    outcome = OutcomeResult.objects.get(client=personas.client, instrument_id="phq9")
    assert outcome.reason.startswith("PHQ-9 fell from 18 to 9: reliable improvement, response")
    assert outcome.settings["reliable_change"] == 6 and outcome.n_scores == 3
    assert not outcome.not_on_track
    sign_in(client, personas.therapist)
    html = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "PHQ-9 fell from 18 to 9: reliable improvement, response" in html
    assert (
        "<svg" in html and "moderately severe<tspan" in html and ">15–19</tspan>" in html
    )  # bands are labelled
    assert "no reliable change: 12 to 24" in html  # the reliable-change band around the baseline
    assert '<th scope="col">Session</th>' in html  # the data table alternative


def test_clinic_thresholds_change_the_result_and_are_stored_with_it(personas):
    s = MeasureSettings.for_clinic(personas.clinic)
    s.reliable_change_phq9 = 10
    s.save()
    add(personas.client, 18, 30)
    add(personas.client, 10, 10)
    outcome = OutcomeResult.objects.get()
    assert outcome.settings["reliable_change"] == 10
    assert "no reliable change" in outcome.statuses


def test_deterioration_opens_a_not_on_track_alert(personas):
    add(personas.client, 8, 30)
    add(personas.client, 15, 10)
    outcome = OutcomeResult.objects.get()
    assert outcome.not_on_track and "reliable deterioration" in outcome.reason
    alert = Alert.objects.get(kind="not_on_track")
    assert "PHQ-9 rose from 8 to 15" in alert.reason


def test_new_episode_starts_classification_afresh(client, personas):
    add(personas.client, 20, 100)
    add(personas.client, 8, 80)
    sign_in(client, personas.therapist)
    client.post(reverse("measures_episode_change", args=[personas.client.pk]), {"action": "start"})
    assert EpisodeOfCare.objects.filter(client=personas.client).count() == 2
    add(personas.client, 12, 0)
    latest = (
        OutcomeResult.objects.filter(client=personas.client).order_by("-episode__started").first()
    )
    assert latest.n_scores == 1 and "one score so far" in latest.reason


def test_client_sees_own_scores_in_plain_words(client, personas):
    add(personas.client, 16, 40)
    add(personas.client, 7, 5)
    sign_in(client, personas.client_user)
    html = client.get(reverse("client_home")).content.decode()
    assert "Your PHQ-9 score was 16 at the start and 7 most recently" in html
    assert "lower scores mean less low mood" in html
    assert "<svg" in html
    assert "style=" not in html


def test_gad7_gets_its_own_chart_and_outcome(personas):
    add(personas.client, 15, 40, "gad7")
    add(personas.client, 10, 5, "gad7")
    outcome = OutcomeResult.objects.get(instrument_id="gad7")
    assert outcome.settings["reliable_change"] == 4 and "reliable improvement" in outcome.statuses


def test_client_home_tells_the_alliance_trend_in_plain_words(client, personas):
    now = timezone.now()
    for i, total in enumerate([5.0, 5.25, 5.0, 3.5]):
        Response.objects.create(
            clinic=personas.clinic,
            client=personas.client,
            instrument_id="sac_client",
            source="client",
            answers={},
            total=total,
            completed_at=now - timedelta(days=10 - i),
        )
    sign_in(client, personas.client_user)
    html = client.get(reverse("client_home")).content.decode()
    assert "You rated how your last session went 3.5 out of 6." in html
    assert "lower than your recent sessions" in html
