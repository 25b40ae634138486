"""The caseload: what needs attention first, each row's content, and one query budget."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.core.timezones import zone_for
from alliance.monitoring.models import MonitoringSettings
from tests.conftest import make_client, sign_in
from tests.monitoring.helpers import phq9, rate, session

pytestmark = pytest.mark.django_db


def test_order_severity_then_not_on_track_then_low_alliance(client, personas):
    t = personas.therapist
    MonitoringSettings.objects.create(clinic=personas.clinic, long_gap_days=0)
    quiet = make_client(personas.clinic, "Aaron Quiet", "aaron@client.test", [t])
    safety = make_client(personas.clinic, "Zed Safety", "zed@client.test", [t])
    rupture = make_client(personas.clinic, "Ruth Rupture", "ruth@client.test", [t])
    snoozed = make_client(personas.clinic, "Sam Snoozed", "sam@client.test", [t])
    for c, n in ((rupture, 5),):
        for i, v in enumerate([5, 5, 5, 5, 2][:n], start=1):
            rate(c, i, v)
    Alert.raise_for(safety, "safety", "PHQ-9 item 9 above 0", {})
    a, _ = Alert.raise_for(snoozed, "unrepaired_rupture", "old", {})
    a.snooze(t, timezone.now() + dt.timedelta(days=2), "discussed")
    for n, total in enumerate([9, 12, 16], start=1):  # reliable deterioration: not on track
        phq9(personas.client, n, total)
    Alert.objects.filter(client=personas.client).delete()  # not-on-track status alone, no alert
    rate(quiet, 1, 3)  # low alliance, no alert beyond early-alliance disengagement
    Alert.objects.filter(client=quiet).delete()

    sign_in(client, t)
    response = client.get(reverse("caseload"))
    names = [r.client.full_name for r in response.context["rows"]]
    assert names == ["Zed Safety", "Ruth Rupture", "Cleo Client", "Aaron Quiet", "Sam Snoozed"]
    html = response.content.decode()
    assert html.index("Zed Safety") < html.index("Ruth Rupture") < html.index("Cleo Client")
    assert "Possible rupture at session 5" in html
    assert "16" in html and "↑ 4 higher (worse) than before" in html
    assert "Snoozed until" in html and "Not on track" in html
    assert "Otto Other" not in html


def test_row_shows_alliance_from_both_sides_and_next_session(client, personas):
    c = personas.client
    rate(c, 1, 5)
    rate(c, 1, 5.5, instrument="sac_therapist")
    session(c, 2, status="scheduled", when=timezone.now() + dt.timedelta(days=3))
    sign_in(client, personas.therapist)
    response = client.get(reverse("caseload"))
    (row,) = response.context["rows"]
    assert (
        row.client.sac_client_latest,
        row.client.sac_therapist_latest,
        row.client.next_session_number,
    ) == (5, 5.5, 2)
    html = response.content.decode()
    # One decimal for every alliance mean, the same date format as the client's home.
    assert "5.0 / 5.5" in html
    # In the viewer's own zone, as every page shows times.
    when = timezone.localtime(row.client.next_session_at, zone_for(personas.therapist)).strftime(
        "%a %-d %b, %H:%M"
    )
    assert f"{when} (session 2)" in html


def _caseload_of(personas, n):
    t = personas.therapist
    for i in range(n - 1):  # plus Cleo
        c = make_client(personas.clinic, f"Client {i:02d}", f"c{i}@client.test", [t])
        rate(c, 1, 5)
        rate(c, 2, 2)
        rate(c, 2, 5, instrument="sac_therapist")
        phq9(c, 1, 12)
        phq9(c, 2, 10)
        session(c, 3, status="scheduled", when=timezone.now() + dt.timedelta(days=i + 1))


BUDGET = (
    # session, user, membership, clients (with subqueries), alerts, scores for sparklines and
    # status, measure settings, expected-change reference (cache); a page view writes nothing.
    10
)


def _count(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("caseload"))
    return response, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.slow
def test_query_count_is_the_same_for_3_and_30_clients(
    client, personas, django_assert_max_num_queries
):
    _caseload_of(personas, 3)
    sign_in(client, personas.therapist)
    client.get(reverse("caseload"))  # warm up the session
    with django_assert_max_num_queries(BUDGET):
        small, small_queries = _count(client)
    assert len(small.context["rows"]) == 3
    _caseload_of_more(personas, 27)
    with django_assert_max_num_queries(BUDGET):
        large, large_queries = _count(client)
    assert len(large.context["rows"]) == 30
    assert sum(1 for r in large.context["rows"] if r.open_alerts) == 29
    # The new columns come from the same fixed set of queries.
    more = [r for r in large.context["rows"] if r.client.full_name.startswith("More")]
    assert {(r.status, r.phq9_spark.description, r.alliance_spark.description) for r in more} == {
        (
            "too_early",
            "PHQ-9, oldest to latest: 12",
            "Client's alliance rating (0–6), oldest to latest: 5.0, 2.0",
        )
    }
    assert all(r.client.last_session_number == 2 for r in more)
    assert len(small_queries) == len(large_queries), large_queries


def _caseload_of_more(personas, n):
    t = personas.therapist
    for i in range(n):
        c = make_client(personas.clinic, f"More {i:02d}", f"m{i}@client.test", [t])
        rate(c, 1, 5)
        rate(c, 2, 2)
        phq9(c, 1, 12)
