"""Journeys at 390 px and 1280 px: the caseload's status and sparklines (filter, reasons on
demand), the expected-change band on a client's PHQ-9 chart, and item 9 → the therapist's
immediate notice through the worker. axe-core on every page this work changed. Screenshots
go to /tmp/shots-caseload/ for a person to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from alliance.accounts.models import Clinic, Role
from alliance.alerts.models import Alert
from alliance.clients.models import ConsentText, TherapySession
from alliance.core.timezones import zone_for
from alliance.measures.models import Administration
from alliance.monitoring.models import MonitoringSettings, SafetyNotice
from tests.browser.conftest import _new_page, client_login, staff_login
from tests.browser.test_accessibility import violations
from tests.conftest import grant, make_client, make_staff, run_worker
from tests.monitoring.helpers import phq9, rate, session

SHOTS = Path("/tmp/shots-caseload")
PASSWORD = "a long caseload password"
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser, live_server, transactional_db):
    context, page = _new_page(browser, live_server, WIDTHS[request.param])
    page.width_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()
    assert page.console_errors == [], page.console_errors  # type: ignore[attr-defined]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.width_name}.png"), full_page=True)


def seed_caseload():
    ConsentText.objects.get_or_create(
        kind="treatment", version=1, defaults={"body": "Consent to treatment."}
    )
    clinic = Clinic.objects.create(name="Caseload Clinic")
    MonitoringSettings.objects.create(clinic=clinic, long_gap_days=0)
    therapist = make_staff(clinic, Role.THERAPIST, "Cal Caseload", "cal@caseload.test", PASSWORD)
    people = {}
    for name, scores in (
        ("Dora Deteriorating", [9, 12, 16]),
        ("Otto Ontrack", [18, 15, 11]),
        ("Nina Notontrack", [20, None, None, None, None, 17]),
        ("Ed Early", [14]),
    ):
        record = make_client(clinic, name, f"{name.split()[0].lower()}@client.test", [therapist])
        grant(record, "treatment", therapist)
        for n, total in enumerate(scores, start=1):
            if total is not None:
                phq9(record, n, total)
        people[name] = record
    for n, v in enumerate([5, 5, 4.5, 5, 5.5], start=1):
        rate(people["Otto Ontrack"], n, v)
    session(
        people["Otto Ontrack"], 6, status="scheduled", when=timezone.now() + dt.timedelta(days=2)
    )
    Alert.raise_for(
        people["Ed Early"],
        "safety",
        "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered above 0 (1). Contact the client and record what was done.",
        {},
    )
    return therapist, people


def test_caseload_status_sparklines_filter_and_reasons(sized_page):
    page = sized_page
    therapist, people = seed_caseload()
    staff_login(page, therapist.email, PASSWORD)
    page.goto("/caseload/")
    rows = page.locator("#caseload tbody tr")
    assert rows.count() == 4
    status = {
        rows.nth(i).locator("th").inner_text().split("\n")[0]: rows.nth(i)
        .locator(".status-tag")
        .inner_text()
        for i in range(4)
    }
    assert status == {
        "Ed Early": "Safety",
        "Dora Deteriorating": "Off track",
        "Nina Notontrack": "Not on track",
        "Otto Ontrack": "On track",
    }
    otto = page.locator(f"#client-{people['Otto Ontrack'].pk}")
    assert otto.locator("svg.spark").count() == 2
    assert (
        otto.locator("svg.spark").first.get_attribute("aria-label")
        == "PHQ-9, oldest to latest: 18, 15, 11"
    )
    assert "11 moderate" in otto.inner_text() and "(session 6)" in otto.inner_text()
    box = otto.locator("svg.spark").first.bounding_box()
    assert box is not None and box["width"] == 100 and box["height"] == 24
    # The reason is hidden until asked for, then shown in full.
    dora = page.locator(f"#client-{people['Dora Deteriorating'].pk}")
    reason = dora.locator(".status-cell details p")
    assert not reason.is_visible()
    dora.locator(".status-cell summary").click()
    assert reason.inner_text().startswith(
        "PHQ-9 is reliably worse than at the start of this episode: 16, up 7 from 9"
    )
    if page.width_name == "desktop":
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, "caseload")
    # Filter by status and search, with the form (plain GET, no script needed).
    page.get_by_label("Status").select_option("not_on_track")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**status=not_on_track**")
    assert page.locator("#caseload tbody tr").count() == 1
    assert "Nina Notontrack" in page.locator("#caseload tbody").inner_text()
    assert page.locator("#caseload-count").inner_text() == "Showing 1 of 4 clients."
    page.get_by_label("Status").select_option("")
    page.get_by_label("Name").fill("otto")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**q=otto**")
    assert page.locator("#caseload tbody tr").count() == 1
    shot(page, "caseload-filtered")
    assert violations(page, "/caseload/") == []


def test_expected_change_band_on_the_phq9_chart(sized_page):
    page = sized_page
    therapist, people = seed_caseload()
    staff_login(page, therapist.email, PASSWORD)
    nina = people["Nina Notontrack"]
    page.goto(f"/clients/{nina.pk}/")
    chart = page.locator("figure.measure-chart").first
    band = chart.locator("polygon.expected-band")
    band.wait_for()
    assert band.is_visible() and chart.locator("path.expected-line").count() == 1
    assert (
        chart.locator("line.cutoff-line").count() == 1
        and chart.locator("line.rc-line").count() == 2
    )
    caption = chart.locator("figcaption").inner_text()
    assert "At session 6 the expected range is 10 to 14 (expected 12)" in caption
    assert "worse than the expected range: not on track" in caption
    assert "derived from the outcome rules" in caption
    chart.scroll_into_view_if_needed()
    shot(page, "expected-band")
    assert violations(page, f"/clients/{nina.pk}/") == []


def test_client_summary_then_the_printable_report(sized_page):
    page = sized_page
    therapist, people = seed_caseload()
    staff_login(page, therapist.email, PASSWORD)
    otto = people["Otto Ontrack"]
    page.goto(f"/clients/{otto.pk}/")
    glance = page.locator("#panel-summary")
    # The summary is the first thing under the name, inside the first screen.
    box = glance.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"]
    text = glance.inner_text()
    assert (
        "On track" in text and "11 moderate" in text and "5.5 / –" in text and "(session 6)" in text
    )
    page.screenshot(path=str(SHOTS / f"client-summary-{page.width_name}.png"))
    glance.get_by_role("link", name="Progress report to print or share (PDF)").click()
    page.wait_for_url("**/report/")
    page.get_by_role("heading", name="Progress report: Otto Ontrack").wait_for()
    assert page.locator("polygon.expected-band").count() == 1
    assert "Caseload Clinic" in page.locator("article.progress-report header").inner_text()
    page.emulate_media(media="print")
    assert (
        not page.locator(".site-header").is_visible()
        and not page.locator("form.report-range").is_visible()
    )
    shot(page, "progress-report-print")
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    assert download.value.suggested_filename.startswith("progress-")
    assert violations(page, f"/clients/{otto.pk}/report/") == []


def test_item9_reaches_the_therapist_at_once(sized_page):
    page = sized_page
    clinic = Clinic.objects.create(name="Notice Clinic")
    MonitoringSettings.objects.create(clinic=clinic, on_call_email="duty@notice.test")
    therapist = make_staff(clinic, Role.THERAPIST, "Nell Notice", "nell@notice.test", PASSWORD)
    admin = make_staff(clinic, Role.ADMIN, "Ada Admin", "ada@notice.test", PASSWORD)
    record = make_client(clinic, "Kit Keeper", "kit@client.test", [therapist])
    Administration.objects.create(clinic=clinic, client=record, instrument_id="phq9")

    client_login(page, record.user)
    page.get_by_role("link", name="Answer the PHQ-9").click()
    page.wait_for_url("**/me/measures/**")
    for n in range(1, 9):
        page.locator(f"#q-item{n}").get_by_label("Not at all").check()
    page.locator("#q-item9").get_by_label("Several days").check()
    page.get_by_text("9 of 9 answered").wait_for()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/done/")
    assert mail.outbox == []  # sent by the worker, not by the request
    run_worker()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_to) == ["duty@notice.test", "nell@notice.test"]
    notice = by_to["nell@notice.test"]
    assert notice.subject == "Alliance: a safety alert needs attention now"
    assert "Kit" not in notice.body and "/alerts/" in notice.body
    assert SafetyNotice.objects.filter(status="sent").count() == 2

    # The clinic admin sees the deliveries.
    page.context.clear_cookies()
    staff_login(page, admin.email, PASSWORD)
    page.goto("/clinic/safety-notices/")
    table = page.locator("#safety-notices").inner_text()
    assert table.count("Sent") == 2 and "Nell Notice (therapist)" in table and "Kit" not in table
    shot(page, "safety-notices")
    assert violations(page, "/clinic/safety-notices/") == []


def test_check_in_settings_book_the_next_session(sized_page):
    page = sized_page
    therapist, people = seed_caseload()
    staff_login(page, therapist.email, PASSWORD)
    ed = people["Ed Early"]
    page.goto(f"/clients/{ed.pk}/check-ins/")
    page.locator("summary", has_text="Reminders and quiet hours").click()
    # Typed and shown in the therapist's own zone.
    zone = zone_for(therapist)
    when = timezone.localtime(timezone.now() + dt.timedelta(days=3), zone).replace(
        hour=15, minute=30
    )
    page.get_by_label("Next session").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save").last.click()
    page.get_by_text("Reminders saved").or_(
        page.get_by_text("Reminder settings saved.")
    ).first.wait_for()
    booked = TherapySession.objects.get(client=ed, status="scheduled")
    assert timezone.localtime(booked.scheduled_at, zone).strftime("%H:%M") == "15:30"
    page.goto("/caseload/")
    assert f"{when:%a %-d %b}, 15:30 (session 1)" in page.locator(f"#client-{ed.pk}").inner_text()
    assert violations(page, f"/clients/{ed.pk}/check-ins/") == []
