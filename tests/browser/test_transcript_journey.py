"""Upload a Zoom VTT, wait for the analysis, open the feedback — in real Chromium."""

from __future__ import annotations

import os
from pathlib import Path

from alliance.accounts.models import Clinic, Role
from alliance.transcripts.models import Transcript
from tests.browser.conftest import staff_login
from tests.conftest import grant, make_client, make_staff, run_worker

# long enough (15 therapist turns) for every summary to get an interval
FIXTURE = Path(__file__).resolve().parents[1] / "nlp" / "fixtures" / "long_session.txt"


def test_upload_vtt_wait_for_analysis_open_feedback(page):
    clinic = Clinic.objects.create(name="Transcript Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Tara Talk", "tara@talk.test", "a long transcript password"
    )
    record = make_client(clinic, "Lee Listen", "lee@client.test", [therapist])
    grant(record, "treatment", therapist)
    grant(record, "recording", therapist)

    staff_login(page, "tara@talk.test", "a long transcript password")
    page.goto(f"/clients/{record.pk}/")
    page.get_by_role("link", name="Upload a transcript").click()
    page.get_by_label("Date of the new session").fill("2026-11-20")
    page.get_by_label("Transcript file").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/speakers/")
    page.get_by_role("button", name="Confirm and analyse").click()
    page.wait_for_url("**/transcripts/*/")
    page.get_by_text("Analysing the transcript").wait_for()
    # The background worker picks the job up while the page polls.
    run_worker()
    page.get_by_role("heading", name="Listening skills").wait_for(timeout=20_000)
    assert Transcript.objects.get().status == "done"
    assert page.get_by_role("heading", name="The session, coded").is_visible()
    # every summary is shown with its likely range on the threshold scale, and a level only
    # when the whole range lies in one band; otherwise "uncertain" and why
    metrics = Transcript.objects.get().metrics
    for key in ("reflection_to_question", "percent_complex_reflections", "percent_open_questions"):
        row = page.locator(f"#measure-{key}")
        low, high = metrics[key]["interval"]
        assert f"90% likely range {low}–{high}" in row.inner_text()
        assert row.locator("svg.scale rect.interval").count() == 1
        if metrics[key]["level"] == "uncertain":
            assert "uncertain" in row.locator(".measure-level").inner_text()
            assert row.locator(".measure-level .reason").is_visible()
    assert page.locator(".level-uncertain").count() >= 1
    assert "likely range" in page.locator("#change-talk-share").inner_text()
    # the therapist corrects a question to a complex reflection: the summary changes on screen
    before = page.locator("#measure-reflection_to_question .measure-value").inner_text()
    first_question = next(
        u
        for u in Transcript.objects.get().model_analysis()["utterances"]
        if u["behaviour"] == "question"
    )
    turn = page.locator(f"#turn-{first_question['index']}")
    # with htmx only the summary, the examples and the turn are swapped: no page load
    page.evaluate("window.__correctionPageLoad = 'kept'")
    url_before = page.url
    turn.get_by_label("Code").select_option("reflection/complex")
    turn.get_by_role("button", name=f"Correct turn {first_question['index'] + 1}").click()
    page.locator("#corrected-note").wait_for()
    assert page.evaluate("window.__correctionPageLoad") == "kept"
    assert page.url == url_before
    assert "summary was recomputed" in page.locator("#correction-status").inner_text()
    assert "summary below is recomputed" in page.locator("#corrected-note").inner_text()
    after = page.locator("#measure-reflection_to_question .measure-value").inner_text()
    assert after != before
    assert page.locator(f"#turn-{first_question['index']} .code-corrected").is_visible()
    shots = os.environ.get("ALLIANCE_SHOTS_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/transcript-feedback-1280.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=f"{shots}/transcript-feedback-390.png", full_page=True)
        # on a phone the scale must fit the screen: no sideways scrolling
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')]"
            ".filter(e => e.getBoundingClientRect().right > 391)"
            ".map(e => e.tagName + '.' + e.className)"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
