"""Supervision journey in real Chromium: a therapist writes a journal entry, shares a session's
feedback with the supervisor, and the supervisor comments."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from alliance.accounts.models import Clinic, Role
from alliance.clients.models import TherapySession
from alliance.supervision.models import Comment, JournalEntry, SharedItem, SupervisionLink
from alliance.transcripts.models import Transcript
from tests.browser.conftest import staff_login
from tests.conftest import grant, make_client, make_staff


def test_journal_share_feedback_and_supervisor_comment(page):
    clinic = Clinic.objects.create(name="Journey Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Jo Journey", "jo@journey.test", "a long journey password"
    )
    supervisor = make_staff(
        clinic, Role.SUPERVISOR, "Sam Senior", "sam@journey.test", "a long supervisor password"
    )
    admin = make_staff(clinic, Role.ADMIN, "Ada Admin", "ada@journey.test")
    SupervisionLink.objects.create(
        clinic=clinic, supervisor=supervisor, supervisee=therapist, created_by=admin
    )
    record = make_client(clinic, "Kit Keeper", "kit@client.test", [therapist])
    grant(record, "treatment", therapist)
    grant(record, "supervision", therapist)
    session = TherapySession.objects.create(
        clinic=clinic,
        client=record,
        therapist=therapist,
        number=1,
        scheduled_at=timezone.now() - dt.timedelta(days=2),
        status="attended",
    )
    Transcript.objects.create(
        clinic=clinic,
        client=record,
        session=session,
        uploaded_by=therapist,
        filename="s1.vtt",
        file_format="vtt",
        status="done",
        metrics={
            "reflection_to_question": {"value": 0.8},
            "percent_complex_reflections": {"value": 35.0},
            "percent_open_questions": {"value": 55.0},
        },
    )

    # The therapist writes a journal entry from the client page.
    staff_login(page, "jo@journey.test", "a long journey password")
    page.goto(f"/clients/{record.pk}/")
    page.get_by_role("link", name="Write a journal entry").click()
    page.get_by_label("Session", exact=True).select_option(
        label=f"Session 1 ({session.scheduled_at:%Y-%m-%d})"
    )
    page.get_by_label("What did I feel toward the client today?").fill("A wish to hurry Kit along.")
    page.get_by_label("Irritation (0–10, leave empty if not felt)").fill("6")
    page.get_by_label("Bring it to supervision").check()
    page.get_by_role("button", name="Save entry").click()
    page.get_by_text("Journal entry saved. Only you can read it.").wait_for()
    assert JournalEntry.objects.get().tags == {"irritation": 6}

    # ... and shares session 1's transcript feedback with the supervisor.
    page.goto(f"/clients/{record.pk}/")
    page.get_by_role("link", name="Share session 1 feedback with my supervisor").click()
    page.get_by_label("What would you like to talk about?", exact=False).fill(
        "Why do I ask so many questions?"
    )
    page.get_by_role("button", name="Share", exact=True).click()
    page.get_by_text("Shared with Sam Senior.").wait_for()
    item = SharedItem.objects.get()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()

    # The supervisor finds it on the agenda and comments.
    staff_login(page, "sam@journey.test", "a long supervisor password")
    page.goto("/supervision/agenda/")
    page.get_by_role("link", name="A session's transcript feedback").click()
    page.wait_for_url(f"**/supervision/items/{item.pk}/")
    assert "Kit Keeper" in page.get_by_role("heading", level=1).inner_text()
    assert page.get_by_text("Why do I ask so many questions?").is_visible()
    page.get_by_role("textbox", name="Comment").fill("Try two reflections before each question.")
    page.get_by_role("button", name="Add comment").click()
    page.locator("#comment-thread").get_by_text(
        "Try two reflections before each question."
    ).wait_for()
    assert Comment.objects.get().author == supervisor
    # The journal entry itself was never shared: the supervisor cannot open it.
    response = page.request.get(f"/journal/{JournalEntry.objects.get().pk}/")
    assert response.status == 404
