"""Clinical-correctness journeys at 390 px (a phone) and 1280 px: an empty PHQ-9 is refused
with an error summary that takes focus; a partly answered one is confirmed first; a client in
Los Angeles and a therapist in New York see one check-in at their own local times; the check-in
scale is big tiles; the alliance line is a line, not a filled blob. Screenshots go to
$ALLIANCE_SHOTS (when set) for people to look at."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from alliance.accounts.models import Clinic, Membership, Role
from alliance.checkins.models import CheckIn, CheckInResponse, CheckInSchedule
from alliance.checkins.services import submit_check_in
from alliance.measures.models import Administration, Response
from tests.browser.conftest import _new_page, client_login, staff_login
from tests.browser.test_accessibility import WCAG
from tests.conftest import grant, make_client, make_staff
from tests.monitoring.helpers import rate

pytestmark = pytest.mark.browser

WIDTHS = [390, 1280]
MOMENT = dt.datetime(2026, 11, 20, 11, 11, tzinfo=dt.UTC)  # 03:11 in Los Angeles, 06:11 in New York


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized_page(request, browser, live_server, transactional_db):
    width = request.param
    context, page = _new_page(
        browser, live_server, {"width": width, "height": 800 if width < 600 else 900}
    )
    page.width = width  # type: ignore[attr-defined]
    yield page
    context.close()
    assert page.console_errors == [], page.console_errors  # type: ignore[attr-defined]


def shot(page, name: str) -> None:
    folder = os.environ.get("ALLIANCE_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}-{page.width}.png", full_page=True)


def axe_violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG)
    return [
        f"{page.url}: {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and box["y"] >= 0 and box["y"] < height


def test_empty_phq9_is_refused_and_a_partial_one_is_confirmed(sized_page):
    page = sized_page
    clinic = Clinic.objects.create(name="Refusal Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Ria Refuse", "ria@refuse.test", "a refusal journey password"
    )
    record = make_client(clinic, "Pat Partial", "pat@client.test", [therapist])
    adm = Administration.objects.create(clinic=clinic, client=record, instrument_id="phq9")

    client_login(page, record.user)
    page.get_by_role("link", name="Answer the PHQ-9").click()
    page.wait_for_url("**/me/measures/**")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert "Please answer at least 8 of the 9 questions" in summary.inner_text()
    assert focused_id(page) == "error-summary" and in_viewport(page, "#error-summary")
    assert not Response.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "phq9-empty-refused")
    found = axe_violations(page)

    for n in range(1, 9):
        page.locator(f"#q-item{n}").get_by_label("Not at all").check()
    page.get_by_text("8 of 9 answered · saved").wait_for()  # the htmx autosave has landed
    page.wait_for_timeout(500)
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()
    confirm = page.locator("#confirm-missing")
    assert "Question 9 is not answered" in confirm.inner_text()
    assert focused_id(page) == "confirm-missing" and in_viewport(page, "#confirm-missing")
    assert page.locator("#q-item1").get_by_label("Not at all").is_checked()  # answers kept
    shot(page, "phq9-confirm-missing")
    found += axe_violations(page)
    page.get_by_role("button", name="Send with 1 unanswered").click()
    page.wait_for_url("**/done/")
    response = Response.objects.get(administration=adm)
    assert response.item9_positive is None and response.total == 0
    assert found == [], "\n".join(found)


def test_los_angeles_client_and_new_york_therapist_see_their_own_times(sized_page):
    page = sized_page
    clinic = Clinic.objects.create(name="Two Coasts Clinic", time_zone="America/Chicago")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Nia Newyork", "nia@coasts.test", "a two coasts password"
    )
    Membership.objects.filter(user=therapist).update(time_zone="America/New_York")
    record = make_client(clinic, "Lee Losangeles", "lee@client.test", [therapist])
    record.time_zone = "America/Los_Angeles"
    record.save()
    grant(record, "treatment", therapist)
    schedule = CheckInSchedule.objects.create(
        clinic=clinic,
        client=record,
        cadence="daily",
        start_date=MOMENT.date(),
        due_time=dt.time(3, 11),
    )
    check_in = CheckIn.objects.create(
        clinic=clinic, client=record, schedule=schedule, due_at=MOMENT
    )
    submit_check_in(check_in, mood=6, note="", key=uuid.uuid4(), via="home")
    CheckIn.objects.filter(pk=check_in.pk).update(completed_at=MOMENT)

    client_login(page, record.user)
    page.goto("/me/data/")
    text = page.locator("main").inner_text()
    assert "2026-11-20 03:11" in text and "11:11" not in text
    assert "times in America/Los_Angeles" in text
    shot(page, "tz-client-los-angeles")
    found = axe_violations(page)

    page.context.clear_cookies()
    staff_login(page, "nia@coasts.test", "a two coasts password")
    page.goto(f"/clients/{record.pk}/check-ins/")
    text = page.locator("main").inner_text()
    assert "2026-11-20 06:11" in text and "11:11" not in text
    assert "Times in America/New_York (your time zone; the client's is America/Los_Angeles)" in text
    shot(page, "tz-therapist-new-york")
    found += axe_violations(page)
    page.goto("/settings/")
    assert page.get_by_label("Show times in").input_value() == "America/New_York"
    found += axe_violations(page)
    assert found == [], "\n".join(found)


def test_check_in_scale_is_big_tiles_and_the_result_survives_a_reload(sized_page):
    page = sized_page
    clinic = Clinic.objects.create(name="Tiles Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Tom Tiles", "tom@tiles.test", "a tiles journey password"
    )
    record = make_client(clinic, "Mo Mood", "mo@client.test", [therapist])
    grant(record, "treatment", therapist)
    schedule = CheckInSchedule.objects.create(
        clinic=clinic,
        client=record,
        cadence="daily",
        start_date=dt.date.today(),
        due_time=dt.time(0, 0),
    )
    check_in = CheckIn.objects.create(
        clinic=clinic,
        client=record,
        schedule=schedule,
        due_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    client_login(page, record.user)
    page.goto(f"/me/check-ins/{check_in.pk}/")
    tiles = page.locator("#id_mood label")
    assert tiles.count() == 11
    for i in range(11):
        box = tiles.nth(i).bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, (i, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    found = axe_violations(page)
    tiles.nth(7).click()
    assert page.locator("#id_mood_7").is_checked()
    shot(page, "check-in-tiles")
    page.get_by_role("button", name="Send my check-in").click()
    page.wait_for_url("**/check-in/done/")
    page.reload()  # post/redirect/get: a reload sends nothing again
    assert "your check-in was sent" in page.locator("main").inner_text()
    assert CheckInResponse.objects.filter(check_in=check_in).count() == 1
    found += axe_violations(page)
    assert found == [], "\n".join(found)


def test_alliance_line_is_not_filled_and_login_has_no_sign_up(sized_page):
    page = sized_page
    page.goto("/accounts/login/")
    assert "sign up" not in page.locator("main").inner_text().lower()
    found = axe_violations(page)
    clinic = Clinic.objects.create(name="Line Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Lou Line", "lou@line.test", "a line journey password"
    )
    record = make_client(clinic, "Rae Rating", "rae@client.test", [therapist])
    for n, score in enumerate([5, 4.5, 5, 3, 4.5], start=1):
        rate(record, n, score)
    staff_login(page, "lou@line.test", "a line journey password")
    page.goto(f"/clients/{record.pk}/")
    lines = page.locator("svg polyline.line")
    assert lines.count() >= 1
    for i in range(lines.count()):
        assert lines.nth(i).evaluate("el => getComputedStyle(el).fill") == "none"
    shot(page, "client-page-alliance-line")
    assert found == [], "\n".join(found)


def test_client_forms_work_at_320_px_with_big_answers_and_plain_words(
    browser, live_server, transactional_db
):
    context, page = _new_page(browser, live_server, {"width": 320, "height": 640})
    page.width = 320  # type: ignore[attr-defined]
    try:
        clinic = Clinic.objects.create(name="Small Screen Clinic")
        therapist = make_staff(
            clinic, Role.THERAPIST, "Sam Small", "sam@small.test", "a small screen password"
        )
        record = make_client(clinic, "Val Narrow", "val@client.test", [therapist])
        Administration.objects.create(clinic=clinic, client=record, instrument_id="sac_client")
        client_login(page, record.user)
        assert "SAC" not in page.locator("main").inner_text()
        page.get_by_role("link", name="How today's session went").click()
        page.wait_for_url("**/me/measures/**")
        assert page.get_by_role("heading", level=1).inner_text() == "How today's session went"
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        choices = page.locator(".answer-form .choice")
        for i in range(choices.count()):
            box = choices.nth(i).bounding_box()
            assert (
                box is not None
                and box["height"] >= 44
                and box["x"] >= 0
                and box["x"] + box["width"] <= 320
            )
        found = axe_violations(page)
        for n in range(1, 5):
            page.locator(f"#q-item{n}").locator(".choice").nth(5).click()
        page.locator("#q-felt_off").get_by_label("No").check()
        page.get_by_text("4 of 4 answered · saved").wait_for()
        page.wait_for_timeout(500)  # the last autosave (300 ms after a change) has landed
        page.wait_for_load_state("networkidle")
        shot(page, "sac-form")
        page.get_by_role("button", name="Send my answers").click()
        page.wait_for_url("**/done/")
        assert "about how today's session went were sent" in page.locator("main").inner_text()
        assert Response.objects.get(client=record).total == 5
        assert found == [], "\n".join(found)
        assert page.console_errors == [], page.console_errors  # type: ignore[attr-defined]
    finally:
        context.close()
