"""Expected change: the rules band agrees with the not-on-track rule, the clinic's own band is
fitted by the documented method, and the chart draws it with where it comes from."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.cache import cache
from django.urls import reverse

from alliance.measures import expected
from alliance.measures.models import EpisodeOfCare, Response
from alliance.measures.outcomes import OutcomeSettings, classify
from tests.conftest import sign_in
from tests.monitoring.helpers import phq9


def test_rules_band_edges_follow_reliable_improvement_and_response():
    band = expected.from_rules("phq9", 18, reliable_change=6, response_fraction=0.5, by_session=6)
    assert band.source == "rules" and "not from published percentiles" in band.label
    assert band.at(1) == (18, 18, 18)
    assert band.at(6) == (9, 10.5, 12)  # response (50%) and reliable improvement (6 points)
    assert band.at(12) == band.at(6)  # flat after session N, like the rule
    assert band.at(3) == (
        round(18 - 9 * math.log(3) / math.log(6), 1),
        band.at(3)[1],
        round(18 - 6 * math.log(3) / math.log(6), 1),
    )
    assert band.is_worse(6, 12.5) and not band.is_worse(6, 12) and not band.is_worse(1, 27)
    assert band.above(3, 16) and not band.is_worse(3, 16)  # shown, not flagged, before session 6
    # Intake below 2 x 6: the better edge is 1.5 reliable changes, never above the worse edge.
    small = expected.from_rules("phq9", 10, reliable_change=6)
    assert small.at(6) == (1, 2.5, 4)
    gad = expected.from_rules("gad7", 15, reliable_change=4)
    assert gad.at(6) == (7.5, 9.2, 11) and gad.scale == (0, 21)


@pytest.mark.parametrize("intake", [6, 10, 14, 18, 22, 27])
def test_worse_than_the_band_from_session_6_is_exactly_the_not_on_track_rule(intake):
    settings = OutcomeSettings(instrument="phq9", schueller_checkpoints=())
    band = expected.from_rules("phq9", intake, reliable_change=6, by_session=6)
    for session in (6, 8, 12):
        for latest in range(0, 28):
            c = classify([(1, None, intake), (session, None, latest)], settings)
            rule = any(r.startswith("no reliable improvement") for r in c.not_on_track_reasons)
            assert band.is_worse(session, latest) == rule, (intake, session, latest)


def _episodes(n: int, intake: float, centre: float):
    """n episodes whose share of change at session s is (centre + d)·ln(s), d spread evenly."""
    out = []
    for k in range(n):
        d = -0.1 + 0.2 * k / (n - 1)
        out.append(
            [(1, intake)] + [(s, intake * (1 + (centre + d) * math.log(s))) for s in range(2, 9)]
        )
    return out


def test_clinic_fit_recovers_the_quantile_coefficients():
    ref = expected.fit_clinic("phq9", _episodes(41, 18, -0.25))
    n, (q25, q50, q75) = ref.groups["15–19"]
    assert n == 41
    assert q50 == pytest.approx(-0.25)
    assert q25 == pytest.approx(-0.25 - 0.05) and q75 == pytest.approx(-0.25 + 0.05)
    band = ref.band(17, (0, 27))
    assert band is not None and band.source == "clinic"
    assert band.label.endswith("from 41 completed cases at this clinic")
    low, mid, high = band.at(6)
    assert mid == round(17 * (1 - 0.25 * math.log(6)), 1) and low < mid < high
    assert ref.band(22, (0, 27)) is None  # no cases in that intake group


def test_too_few_clinic_cases_fall_back_to_the_rules_band():
    ref = expected.fit_clinic("phq9", _episodes(expected.MIN_CASES - 1, 18, -0.25))
    assert ref.groups == {}
    band = expected.band_for(ref, "phq9", 18, 6, 0.5, 6)
    assert band.source == "rules"


@pytest.mark.django_db
def test_client_page_chart_draws_the_band_and_says_where_it_comes_from(client, personas):
    for n, total in enumerate([18, 17, 16], start=1):
        phq9(personas.client, n, total)
    sign_in(client, personas.therapist)
    html = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert 'class="expected-band"' in html and "cut-off 10" in html
    assert "reliable improvement ≤ 12" in html and "reliable deterioration ≥ 24" in html
    assert "derived from the outcome rules" in html
    assert (
        "the latest score is above the expected path, which counts as not on track from session 6"
        in html
    )
    # 30 ended episodes at the clinic with intake 15–19: the band becomes the clinic's own.
    other = personas.other_client
    start = dt.date(2025, 1, 1)
    for k, episode_scores in enumerate(_episodes(30, 17, -0.2)):
        ep = EpisodeOfCare.objects.create(
            clinic=personas.clinic,
            client=other,
            started=start + dt.timedelta(days=100 * k),
            ended=start + dt.timedelta(days=100 * k + 90),
        )
        Response.objects.bulk_create(
            Response(
                clinic=personas.clinic,
                client=other,
                episode=ep,
                instrument_id="phq9",
                source="form",
                total=round(score, 1),
                session_number=s,
                completed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
                + dt.timedelta(days=100 * k + 7 * s),
            )
            for s, score in episode_scores
        )
    cache.clear()
    html = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "from 30 completed cases at this clinic" in html
    # At this clinic, cases starting at 17 are at 15 or below by session 3 (75th percentile),
    # so Cleo's 16 is worse than the range, while the rules band still counts it as within.
    assert "the latest score is worse than the expected range: not on track" in html
