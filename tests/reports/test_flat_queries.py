"""Reports, the development page and the per-therapist figures: the same figures as before, from
a number of queries that does not grow with the number of clients (or supervisees).

The figures are pinned by a snapshot (``flat_snapshot.json``) written from the per-client
implementation before it was made set-based: a characterisation test, so any change in a
number shows up as a diff. Regenerate it only for an intended change in a rule:
``ALLIANCE_WRITE_SNAPSHOT=1 pytest tests/reports/test_flat_queries.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.alerts.models import Alert
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.reports import compute
from alliance.reports.models import ReportSettings
from tests.conftest import make_client, make_staff, sign_in
from tests.supervision.helpers import episode, link, page_queries, score

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)  # periods 2025-Q3 .. 2026-Q2
SNAPSHOT = Path(__file__).with_name("flat_snapshot.json")

# Alliance series (0–6): steady, a V that comes back (repaired), a dip that stays (unrepaired),
# a low start, and one with a "felt off" report and a repeated session number.
SERIES = [
    [5.5, 5.6, 5.4, 5.5, 5.7, 5.6],
    [5.5, 5.6, 5.4, 2.0, 5.5, 5.6],
    [5.5, 5.6, 5.4, 2.0, 2.0, 2.0, 2.0],
    [3.0, 3.5, 4.0, 4.5, 5.0],
    [4.5, 5.0, 4.0, 4.5, 5.5],
]
# PHQ-9 first/middle/latest per client (cycled); None: no middle score.
PHQ9 = [
    (20, 14, 8),
    (15, None, 12),
    (12, 8, 4),
    (8, 12, 16),
    (22, None, 14),
    (4, None, 3),
    (18, 10, 6),
]


def at(day_offset: int) -> dt.datetime:
    """Noon, ``day_offset`` days after 2025-09-01 (spreads data over several quarters)."""
    return timezone.make_aware(dt.datetime(2025, 9, 1, 12, 0)) + dt.timedelta(days=day_offset)


def add_clients(personas, therapists, start: int, n: int) -> list:
    """``n`` clients numbered from ``start``, primary therapist in turn, each with PHQ-9 episodes,
    alliance ratings, check-ins and alerts: deterministic, so figures depend only on ``n``."""

    made = []
    for i in range(start, start + n):
        primary = therapists[i % len(therapists)]
        others = [t for t in therapists if t != primary][: i % 2]
        c = make_client(
            personas.clinic, f"Flat {i:03d}", f"flat{i}@client.test", [primary, *others]
        )
        offset = (i * 11) % 200
        ep = episode(c, at(offset).date())
        first, middle, latest = PHQ9[i % len(PHQ9)]
        score(c, "phq9", first, at(offset), number=1, ep=ep)
        if middle is not None:
            score(c, "phq9", middle, at(offset + 21), number=4, ep=ep)
        score(c, "phq9", latest, at(offset + 63), number=9, ep=ep)
        if i % 4 == 0:  # a second, later episode with only one score: never classified
            ep2 = episode(c, at(offset + 90).date())
            score(c, "phq9", 11, at(offset + 90), number=12, ep=ep2)
        series = SERIES[i % len(SERIES)]
        for n_s, v in enumerate(series, start=1):
            answers = {"felt_off": 1} if (i % len(SERIES) == 4 and n_s == 3) else {}
            score(c, "sac_client", v, at(offset + 7 * (n_s - 1)), number=n_s, answers=answers)
        if i % len(SERIES) == 4:  # a second rating for session 2: the first one counts
            score(c, "sac_client", 1.0, at(offset + 8), number=2)
        schedule = CheckInSchedule.objects.create(
            clinic=c.clinic, client=c, start_date=at(0).date()
        )
        for k in range(4):
            status = ["completed", "missed", "completed", "due"][(i + k) % 4]
            CheckIn.objects.create(
                clinic=c.clinic,
                client=c,
                schedule=schedule,
                due_at=at(offset + 7 * k),
                status=status,
            )
        kind = ["safety", "not_on_track", "rupture", "disengagement", "unrepaired_rupture"][i % 5]
        Alert.objects.create(
            clinic=c.clinic,
            client=c,
            kind=kind,
            reason="r",
            created_at=at(offset + 30),
            acknowledged_at=at(offset + 31) if i % 3 else None,
            status="acknowledged" if i % 3 else "open",
            useful=[True, False, None][i % 3],
        )
        made.append(c)
    return made


@pytest.fixture
def team(personas):
    """The therapist and two more, all three supervised; per-therapist figures allowed."""
    extra = [
        make_staff(personas.clinic, Role.THERAPIST, "Aaron Able", "aaron@north.test"),
        make_staff(personas.clinic, Role.THERAPIST, "Zed Zenith", "zed@north.test"),
    ]
    therapists = [personas.therapist, *extra]
    for t in therapists:
        link(personas, t)
    ReportSettings.objects.create(clinic=personas.clinic, supervisors_see_therapist_figures=True)
    return therapists


def _figures(personas, therapists) -> dict[str, list[list[str]]]:
    out = {}
    for granularity, n in (("quarter", 4), ("month", 6)):
        report = compute.build_report(
            personas.clinic, granularity=granularity, n_periods=n, today=TODAY
        )
        out[f"clinic/{granularity}"] = compute.csv_rows(report, "clinic")
        for t in therapists:
            mine = compute.build_report(
                personas.clinic,
                clients=compute.clients_of(t),
                granularity=granularity,
                n_periods=n,
                today=TODAY,
            )
            out[f"{t.full_name}/{granularity}"] = compute.csv_rows(mine, t.full_name)
    return out


@pytest.mark.slow
def test_figures_are_unchanged(personas, team):
    add_clients(personas, team, 0, 40)
    figures = _figures(personas, team)
    if os.environ.get("ALLIANCE_WRITE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert figures.keys() == expected.keys()
    for key in expected:
        assert figures[key] == expected[key], key
    # The snapshot is not empty of meaning: shown cells, suppressed cells and a correlation.
    clinic_rows = figures["clinic/quarter"]
    assert any(r[-1] == "no" and r[3] for r in clinic_rows) and any(
        r[-1] == "yes" for r in clinic_rows
    )
    assert any(r[1] == "alliance_outcome_r" and r[3] for r in clinic_rows)


PAGES = [
    ("admin", "clinic_report"),
    ("admin", "clinic_report_print"),
    ("admin", "clinic_report_csv"),
    ("admin", "clinic_report_pdf"),
    ("supervisor", "clinic_report"),
    ("supervisor", "clinic_report_csv"),
    ("therapist", "development"),
    ("supervisor", "development"),
]


@pytest.mark.slow
@pytest.mark.parametrize("persona,page", PAGES)
def test_query_count_is_the_same_for_5_and_50_clients(client, personas, team, persona, page):
    add_clients(personas, team, 0, 5)
    sign_in(client, getattr(personas, persona))
    url = reverse(page)
    client.get(url)  # the first view after signing in records the activity time
    small, small_sql = page_queries(client, url)
    add_clients(personas, team, 5, 45)
    large, large_sql = page_queries(client, url)
    assert small == large, "\n".join(large_sql)
    # And it does not grow with the number of supervisees either.
    more = make_staff(personas.clinic, Role.THERAPIST, "Mo More", "mo@north.test")
    link(personas, more)
    add_clients(personas, [more], 50, 5)
    assert page_queries(client, url)[0] == large


def test_every_query_of_clinical_rows_filters_by_clinic(client, personas, team):
    add_clients(personas, team, 0, 5)
    sign_in(client, personas.supervisor)
    client.get(reverse("clinic_report"))
    _n, sql = page_queries(client, reverse("clinic_report"))
    clinical = ("measures_response", "checkins_checkin", "monitoring_alert")
    for statement in sql:
        table = next((t for t in clinical if f'FROM "{t}"' in statement), None)
        if table:
            assert f'"{table}"."clinic_id" =' in statement, statement


@pytest.mark.slow
def test_development_page_shows_the_reports_figures(client, personas, team):
    add_clients(personas, team, 0, 30)
    sign_in(client, personas.therapist)
    response = client.get(reverse("development"))
    mine = compute.build_report(personas.clinic, clients=compute.clients_of(personas.therapist))
    everyone = compute.build_report(personas.clinic)
    assert compute.csv_rows(response.context["mine"], "x") == compute.csv_rows(mine, "x")
    assert compute.csv_rows(response.context["everyone"], "x") == compute.csv_rows(everyone, "x")


@pytest.mark.slow
def test_supervisor_sections_show_each_supervisees_figures(client, personas, team):
    add_clients(personas, team, 0, 30)
    sign_in(client, personas.supervisor)
    response = client.get(reverse("clinic_report"))
    sections = response.context["therapist_sections"]
    assert [s["therapist"].full_name for s in sections] == [
        "Aaron Able",
        "Tess Therapist",
        "Zed Zenith",
    ]
    for s in sections:
        direct = compute.build_report(personas.clinic, clients=compute.clients_of(s["therapist"]))
        assert compute.csv_rows(s["report"], "x") == compute.csv_rows(direct, "x")
