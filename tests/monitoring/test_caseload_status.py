"""The caseload a clinician scans in five seconds: a status per client by the documented
precedence, sparklines with the latest score and its band, last and next session, search and
status filter by GET, reasons in full on demand and never cut mid-word."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.core.timezones import zone_for
from alliance.monitoring.caseload import fmt_score, headline
from alliance.monitoring.models import MonitoringSettings
from tests.conftest import make_client, sign_in
from tests.monitoring.helpers import phq9, rate, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def caseload(personas):
    t = personas.therapist
    MonitoringSettings.objects.create(clinic=personas.clinic, long_gap_days=0)
    c = {
        "safety": make_client(personas.clinic, "Sara Safety", "sara@client.test", [t]),
        "nora": make_client(personas.clinic, "Nora Notrack", "nora@client.test", [t]),
        "ollie": make_client(personas.clinic, "Ollie Ontrack", "ollie@client.test", [t]),
        "una": make_client(personas.clinic, "Una Unrepaired", "una@client.test", [t]),
        "tim": make_client(personas.clinic, "Tim Early", "tim@client.test", [t]),
        "cleo": personas.client,
    }
    Alert.raise_for(c["safety"], "safety", "PHQ-9 item 9 above 0", {})
    for n, total in ((1, 9), (2, 12), (3, 16)):  # reliable deterioration
        phq9(c["cleo"], n, total)
    for n, total in ((1, 20), (6, 17)):  # no reliable improvement by session 6
        phq9(c["nora"], n, total)
    for n, total in ((1, 18), (3, 10)):
        phq9(c["ollie"], n, total)
    phq9(c["una"], 1, 15)
    phq9(c["una"], 2, 14)
    Alert.raise_for(
        c["una"], "unrepaired_rupture", "The rupture from session 2 is not repaired: no return.", {}
    )
    phq9(c["tim"], 1, 14)
    return c


def _page(client, personas, **params):
    sign_in(client, personas.therapist)
    return client.get(reverse("caseload"), params)


def test_each_client_gets_the_first_status_that_holds(client, personas, caseload):
    rows = {r.client.full_name: r for r in _page(client, personas).context["rows"]}
    assert {name: r.status for name, r in rows.items()} == {
        "Sara Safety": "safety",
        "Cleo Client": "off_track",
        "Una Unrepaired": "off_track",
        "Nora Notrack": "not_on_track",
        "Tim Early": "too_early",
        "Ollie Ontrack": "on_track",
    }
    assert rows["Cleo Client"].status_reason.startswith(
        "PHQ-9 is reliably worse than at the start of this episode: 16, up 7 from 9"
    )
    assert "not repaired" in rows["Una Unrepaired"].status_reason
    nora = rows["Nora Notrack"].status_reason
    assert "no reliable improvement by session 6" in nora
    assert (
        "PHQ-9 17 at session 6 is worse than the expected range (10 to 14) for an intake of 20"
        in nora
    )
    assert (
        rows["Tim Early"].status_reason
        == "One PHQ-9 score in this episode so far: change needs two."
    )
    # Latest score with its severity band, and the sparkline's data.
    ollie = rows["Ollie Ontrack"]
    assert (ollie.phq9_text, ollie.phq9_band) == ("10", "moderate")
    assert ollie.phq9_spark.description == "PHQ-9, oldest to latest: 18, 10"
    assert ollie.phq9_spark.points == "2.0,8.7 98.0,14.6"  # y = 22 - 20 * score / 27


def test_row_html_shows_status_sparklines_and_sessions(client, personas, caseload):
    c = caseload["ollie"]
    rate(c, 1, 4.5)
    rate(c, 2, 5)
    rate(c, 2, 5.5, instrument="sac_therapist")
    session(c, 4, status="scheduled", when=timezone.now() + dt.timedelta(days=2))
    html = _page(client, personas).content.decode()
    row = re.search(rf'<tr id="client-{c.pk}".*?</tr>', html, re.S).group(0)
    assert '<span class="status-tag status-tag-on_track">On track</span>' in row
    assert 'aria-label="PHQ-9, oldest to latest: 18, 10"' in row
    assert 'aria-label="Client&#x27;s alliance rating (0–6), oldest to latest: 4.5, 5.0"' in row
    assert "<strong>10</strong> moderate" in row and "5.0 / 5.5" in row
    # The page shows times in the viewer's zone, which is not the test process's at every hour.
    viewer = zone_for(personas.therapist)
    last = c.therapy_sessions.get(number=2).scheduled_at.astimezone(viewer).strftime("%a %-d %b")
    assert f"{last} (session 2)" in row and "(session 4)" in row
    assert " style=" not in html  # the CSP has no inline styles


def test_reason_is_a_headline_in_the_row_and_in_full_on_demand(client, personas, caseload):
    c = caseload["ollie"]
    for i, v in enumerate([5, 5, 5, 5, 2], start=1):
        rate(c, i, v)
    html = _page(client, personas).content.decode()
    row = re.search(rf'<tr id="client-{c.pk}".*?</tr>', html, re.S).group(0)
    alert = Alert.objects.get(client=c, kind="rupture")
    assert "SD" in alert.reason  # the detection's arithmetic...
    outside = re.sub(r"<details.*?</details>", "", row, flags=re.S)
    assert "Possible rupture at session 5" in outside
    assert "SD" not in outside and " x " not in outside  # ...is not in the row itself
    assert "<summary>Full reason</summary><p>" + alert.reason.replace("'", "&#x27;") in row


def test_headline_never_cuts_a_word_and_numbers_have_one_format():
    long = "The client " + "answered every question carefully " * 5 + "and then stopped"
    cut = headline(long, limit=60)
    assert cut.endswith("…") and len(cut) <= 61
    assert long.startswith(cut[:-1]) and long[len(cut) - 1] == " "
    assert (
        headline("Possible rupture at session 5: 2 is below 4 - 2 x SD 0.6 = 3.3.")
        == "Possible rupture at session 5"
    )
    assert [fmt_score(12.0), fmt_score(12.5), fmt_score(4, 1), fmt_score(None)] == [
        "12",
        "12.5",
        "4.0",
        "–",
    ]


def test_search_and_status_filter_work_by_get(client, personas, caseload):
    page = _page(client, personas, status="off_track")
    assert sorted(r.client.full_name for r in page.context["rows"]) == [
        "Cleo Client",
        "Una Unrepaired",
    ]
    html = page.content.decode()
    assert "Showing 2 of 6 clients." in html
    assert '<option value="off_track" selected>Off track (2)</option>' in html
    page = _page(client, personas, q="  NORA  ")
    assert [r.client.full_name for r in page.context["rows"]] == ["Nora Notrack"]
    page = _page(client, personas, q="nora", status="on_track")
    assert page.context["rows"] == [] and "No client matches this search." in page.content.decode()
    page = _page(client, personas, status="bogus")  # an unknown status is ignored, not an error
    assert (
        page.status_code == 200 and len(page.context["rows"]) == 6 and page.context["status"] == ""
    )
