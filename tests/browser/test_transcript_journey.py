"""Upload a Zoom VTT, wait for the analysis, open the feedback — in real Chromium."""

from __future__ import annotations

from pathlib import Path

from alliance.accounts.models import Clinic, Role
from alliance.transcripts.models import Transcript
from tests.browser.conftest import staff_login
from tests.conftest import grant, make_client, make_staff, run_worker

FIXTURE = Path(__file__).resolve().parents[1] / "nlp" / "fixtures" / "zoom.vtt"


def test_upload_vtt_wait_for_analysis_open_feedback(page):
    clinic = Clinic.objects.create(name="Transcript Clinic")
    therapist = make_staff(clinic, Role.THERAPIST, "Tara Talk", "tara@talk.test", "a long transcript password")
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
