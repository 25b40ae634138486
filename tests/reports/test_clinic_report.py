"""Clinic outcome report: figures match hand-computed values; small cells are suppressed;
per-therapist figures follow the clinic setting and are never a ranking."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from reportlab import rl_config

from alliance.accounts.models import Role
from alliance.alerts.models import Alert
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.reports import compute
from alliance.reports.models import ReportSettings
from alliance.reports.stats import correlation, rate
from tests.conftest import make_client, make_staff, sign_in
from tests.supervision.helpers import episode, link, score

TODAY = dt.date(2026, 6, 15)  # periods 2025-Q3 .. 2026-Q2; all data in 2026-Q2


def at(month: int, day: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, 12, 0))


# (PHQ-9 first, latest, session alliance ratings) per client; hand-computed below.
CONSTRUCTED = [
    (20, 8, [5, 5]),  # reliable improvement, response, recovery (not remission: 8 >= 5)
    (15, 12, [4, 4]),  # no reliable change
    (12, 4, [6, 5]),  # reliable improvement, response, remission, recovery
    (8, 16, [2, 3]),  # reliable deterioration (not in the recovery pool: started < 10)
    (22, 14, [4, 5]),  # reliable improvement only (36% reduction, still >= 10)
    (4, 3, [3, 3]),  # no change; in neither the remission nor the recovery pool
]


@pytest.fixture
def clinic_data(personas):
    clients = []
    for i, (first, latest, sac) in enumerate(CONSTRUCTED):
        c = make_client(personas.clinic, f"Case {i}", f"case{i}@client.test", [personas.therapist])
        ep = episode(c, dt.date(2026, 4, 1))
        score(c, "phq9", first, at(4, 2), number=1, ep=ep)
        score(c, "sac_client", sac[0], at(4, 9), number=2)
        score(c, "sac_client", sac[1], at(5, 7), number=6)
        score(c, "phq9", latest, at(5, 14), number=7, ep=ep)
        clients.append(c)
    return clients


def test_outcome_rates_match_hand_computed_values(personas, clinic_data):
    report = compute.build_report(personas.clinic, today=TODAY)
    assert report.periods == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    q = "2026-Q2"
    assert report.episodes[q].value == 6
    ri = report.outcomes["reliable_improvement"][q]
    assert (ri.numerator, ri.denominator, ri.value) == (3, 6, 50.0)
    assert report.outcomes["reliable_deterioration"][q].value == pytest.approx(100 / 6)
    assert report.outcomes["response"][q].value == pytest.approx(100 * 2 / 6)
    remission = report.outcomes["remission"][q]  # pool: started >= 5 -> 5 clients, 1 remitted
    assert (remission.numerator, remission.denominator, remission.value) == (1, 5, 20.0)
    # Recovery pool: started >= 10 -> 4 clients: a small cell, suppressed.
    assert (
        report.outcomes["recovery"][q].suppressed and report.outcomes["recovery"][q].value is None
    )
    # Earlier quarters: nobody -> suppressed, never a misleading 0%.
    assert report.outcomes["reliable_improvement"]["2026-Q1"].suppressed
    assert report.alliance[q].value == pytest.approx(49 / 12)
    assert report.settings["reliable_change"] == 6


def test_alliance_outcome_correlation_matches_hand_computation(personas, clinic_data):
    c = compute.build_report(personas.clinic, today=TODAY).correlation
    # x = mean alliance (5, 4, 5.5, 2.5, 4.5, 3), y = PHQ-9 fall (12, 3, 8, -8, 8, 1):
    # Sxy = 37, Sxx = 6.7083, Syy = 250 -> r = 37 / sqrt(6.7083 * 250) = 0.9035;
    # Fisher z: atanh(r) ± 1.96 / sqrt(3) -> CI 0.345 to 0.990.
    assert c.n == 6 and c.r == pytest.approx(0.9035, abs=1e-4)
    assert c.low == pytest.approx(0.3446, abs=1e-3) and c.high == pytest.approx(0.9895, abs=1e-3)


def test_small_cells_are_suppressed_everywhere(personas):
    for i, (first, latest, _sac) in enumerate(CONSTRUCTED[:4]):
        c = make_client(personas.clinic, f"Few {i}", f"few{i}@client.test", [personas.therapist])
        ep = episode(c, dt.date(2026, 4, 1))
        score(c, "phq9", first, at(4, 2), number=1, ep=ep)
        score(c, "phq9", latest, at(5, 14), number=7, ep=ep)
        score(c, "sac_client", 5, at(4, 9), number=2)
    report = compute.build_report(personas.clinic, today=TODAY)
    q = "2026-Q2"
    assert report.episodes[q].suppressed
    assert all(report.outcomes[k][q].suppressed for k, _l in compute.OUTCOME_ROWS)
    assert report.alliance[q].suppressed and report.correlation.suppressed
    assert rate(1, 4, 4).suppressed and not rate(1, 5, 5).suppressed
    assert correlation([1, 2, 3, 4], [1, 2, 3, 5]).suppressed


def test_rupture_repair_rate_by_hand(personas):
    # Four clients with a V that comes back (repaired), one whose dip stays down (unrepaired).
    series = [[5.5, 5.6, 5.4, 2.0, 5.5]] * 4 + [[5.5, 5.6, 5.4, 2.0, 2.0, 2.0, 2.0]]
    for i, values in enumerate(series):
        c = make_client(personas.clinic, f"Rup {i}", f"rup{i}@client.test", [personas.therapist])
        for n, v in enumerate(values, start=1):
            score(c, "sac_client", v, at(4, 1) + dt.timedelta(days=7 * (n - 1)), number=n)
    report = compute.build_report(personas.clinic, today=TODAY)
    cell = report.repair["2026-Q2"]
    assert (cell.numerator, cell.denominator, cell.value) == (4, 5, 80.0)


def test_check_ins_and_alerts_by_hand(personas):
    clients = [
        make_client(personas.clinic, f"Chk {i}", f"chk{i}@client.test", [personas.therapist])
        for i in range(5)
    ]
    statuses = ["completed"] * 7 + ["missed"] * 3
    for i, status in enumerate(statuses):
        c = clients[i % 5]
        schedule = CheckInSchedule.objects.filter(
            client=c
        ).first() or CheckInSchedule.objects.create(
            clinic=c.clinic, client=c, start_date=dt.date(2026, 4, 1)
        )
        CheckIn.objects.create(
            clinic=c.clinic, client=c, schedule=schedule, due_at=at(4, 1 + i), status=status
        )
    for i, c in enumerate(clients):
        Alert.objects.create(
            clinic=c.clinic,
            client=c,
            kind="safety",
            reason="r",
            created_at=at(5, 1),
            acknowledged_at=at(5, 2) if i < 3 else None,
            status="acknowledged" if i < 3 else "open",
            useful=[True, True, False, None, None][i],
        )
    for c in clients[:2]:
        Alert.objects.create(
            clinic=c.clinic, client=c, kind="not_on_track", reason="r", created_at=at(5, 1)
        )
    report = compute.build_report(personas.clinic, today=TODAY)
    chk = report.check_ins["2026-Q2"]
    assert (chk.numerator, chk.denominator, chk.value) == (7, 10, 70.0)
    rows = {a["kind"]: a for a in report.alerts}
    assert rows["safety"]["count"].value == 5 and rows["safety"]["acted_on"].value == 60.0
    assert rows["safety"]["count"].display == "5"  # a count, not "5.00"
    # 2 of the 3 rated alerts were marked useful; 5 clients, so the cell is shown.
    assert (rows["safety"]["useful"].numerator, rows["safety"]["useful"].denominator) == (2, 3)
    assert round(rows["safety"]["useful"].value, 1) == 66.7
    assert rows["not_on_track"]["count"].suppressed


def test_report_page_csv_and_print_for_admin_and_supervisor(client, personas, clinic_data):
    for user in (personas.admin, personas.supervisor):
        sign_in(client, user)
        page = client.get(reverse("clinic_report")).content.decode()
        assert "Outcome report" in page and "<svg" in page and "suppressed" in page
        assert "Case 0" not in page  # aggregate only
        response = client.get(reverse("clinic_report_csv"))
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][:4] == ["scope", "measure", "period", "value"]
        assert "Save as PDF" in client.get(reverse("clinic_report_print")).content.decode()
        rl_config.pageCompression = 0  # readable page streams, so the test can look inside
        pdf = client.get(reverse("clinic_report_pdf"))
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
        assert b"Alerts per rule" in pdf.content and b"reliable improvement" in pdf.content.lower()
        assert b"Case 0" not in pdf.content
        assert (
            b".00" not in pdf.content.split(b"Alerts per rule")[1].split(b"Correlation")[0]
        )  # counts
    for name in ("therapist", "colleague", "client", "foreign_therapist"):
        sign_in(client, personas.all()[name])
        assert client.get(reverse("clinic_report")).status_code == 404
        assert client.get(reverse("clinic_report_csv")).status_code == 404
        assert client.get(reverse("clinic_report_pdf")).status_code == 404


def test_csv_figures_match(personas, clinic_data):
    rows = compute.csv_rows(compute.build_report(personas.clinic, today=TODAY), "clinic")
    found = {(r[1], r[2]): r for r in rows[1:]}
    assert found[("phq9_reliable_improvement_percent", "2026-Q2")][3:8] == [
        "50.00",
        "3",
        "6",
        "6",
        "no",
    ]
    assert (
        found[("phq9_recovery_percent", "2026-Q2")][3] == ""
        and found[("phq9_recovery_percent", "2026-Q2")][7] == "yes"
    )
    assert found[("alliance_outcome_r", "2025-Q3..2026-Q2")][3] == "0.903"


def test_per_therapist_figures_follow_the_setting_and_are_not_a_ranking(client, personas):
    aaron = make_staff(personas.clinic, Role.THERAPIST, "Aaron Able", "aaron@north.test")
    zed = make_staff(personas.clinic, Role.THERAPIST, "Zed Zenith", "zed@north.test")
    link(personas, aaron)
    link(personas, zed)
    # Zed's clients all improve reliably; Aaron's none: order must still be alphabetical.
    for who, (first, latest) in ((zed, (20, 5)), (aaron, (15, 14))):
        for i in range(5):
            c = make_client(
                personas.clinic, f"{who.full_name} client {i}", f"{who.pk.hex[:6]}{i}@c.test", [who]
            )
            ep = episode(c, timezone.localdate() - dt.timedelta(days=30))
            score(c, "phq9", first, timezone.now() - dt.timedelta(days=20), number=1, ep=ep)
            score(c, "phq9", latest, timezone.now() - dt.timedelta(days=1), number=4, ep=ep)
    sign_in(client, personas.supervisor)
    assert "Aaron Able" not in client.get(reverse("clinic_report")).content.decode()
    ReportSettings.objects.create(clinic=personas.clinic, supervisors_see_therapist_figures=True)
    page = client.get(reverse("clinic_report")).content.decode()
    assert "not a ranking" in page
    assert page.index("Aaron Able") < page.index("Zed Zenith")
    assert "rank" not in page.replace("not a ranking", "")
    # The clinic admin never sees per-therapist figures.
    sign_in(client, personas.admin)
    assert "Zed Zenith" not in client.get(reverse("clinic_report")).content.decode()
    # A therapist sees their own figures on their development page, and nobody else's.
    sign_in(client, zed)
    dev = client.get(reverse("development")).content.decode()
    assert "My development" in dev and "100%" in dev and "Aaron" not in dev
    assert client.get(reverse("development")).status_code == 200
    sign_in(client, personas.admin)
    assert client.get(reverse("development")).status_code == 404


def test_report_settings_are_admin_only(client, personas):
    sign_in(client, personas.admin)
    client.post(reverse("report_settings"), {"supervisors_see_therapist_figures": "on"})
    assert ReportSettings.objects.get(clinic=personas.clinic).supervisors_see_therapist_figures
    sign_in(client, personas.supervisor)
    assert client.get(reverse("report_settings")).status_code == 404
