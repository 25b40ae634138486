"""WCAG 2.1 A/AA checks (axe-core) on the pages clients and clinicians use most, in Chromium.

Clients reach Alliance on their phones, often at a hard moment; a form a screen reader cannot
read or text too faint to see is a barrier to care. axe-core finds the machine-checkable part
of WCAG (labels, names, contrast, landmarks, ARIA); the rest still needs people.
"""

from __future__ import annotations

import json

from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from alliance.accounts.models import Clinic, Role
from alliance.clients.models import ConsentText, TherapySession
from alliance.goals.models import Goal, Task
from alliance.nlp import analyze_text
from alliance.transcripts.demo import HERE
from alliance.transcripts.models import Transcript, metrics_without_text
from tests.browser.conftest import client_login, staff_login
from tests.conftest import grant, make_client, make_staff
from tests.measures.helpers import assign
from tests.monitoring.helpers import rate

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page, url: str, status: int = 200) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page, options=WCAG)
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def seed():
    for kind in ("treatment", "recording", "supervision"):
        ConsentText.objects.get_or_create(
            kind=kind, version=1, defaults={"body": f"Consent to {kind}."}
        )
    clinic = Clinic.objects.create(name="Access Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Tia Therapist", "tia@access.test", "an accessible password"
    )
    record = make_client(clinic, "Ada Client", "ada@client.test", [therapist])
    grant(record, "treatment", therapist)
    for n, score in enumerate([5, 5, 4.5, 5, 2.5], start=1):
        rate(record, n, score)
    goal = Goal.propose(
        record, record.user, "client", wording="Walk every morning", importance=3, difficulty=2
    )
    goal.agree(therapist, "therapist", goal.version)
    Task.objects.create(
        clinic=clinic,
        client=record,
        goal=goal,
        description="Walk to the corner",
        rationale="Small steps lift mood",
        created_by=therapist,
    )
    return therapist, record, assign(record)


def test_client_pages_meet_wcag_aa_on_a_phone(phone_page):
    _therapist, record, adm = seed()
    client_login(phone_page, record.user)
    found = []
    for url in [
        "/me/",
        "/me/goals/",
        "/me/concerns/",
        "/me/consents/",
        "/me/access/",
        "/me/data/",
        f"/me/measures/{adm.pk}/",
    ]:
        found += violations(phone_page, url)
    assert found == [], "\n".join(found)


def analysed_transcript(therapist, record):
    """The demo's session-a transcript, analysed by the shipped model, as the therapist's own."""

    text = (HERE / "session-a.vtt").read_text()
    result = analyze_text(text, "session-a.vtt", therapist="Dr. Theo Therapos")
    session = TherapySession.objects.create(
        clinic=record.clinic,
        client=record,
        therapist=therapist,
        number=TherapySession.next_number(record),
        scheduled_at=timezone.now(),
        status=TherapySession.Status.ATTENDED,
    )
    return Transcript.objects.create(
        clinic=record.clinic,
        client=record,
        session=session,
        uploaded_by=therapist,
        filename="session-a.vtt",
        file_format=result["format"],
        text=text,
        speakers=json.dumps(result["summary"]["speakers"]),
        therapist_speaker="Dr. Theo Therapos",
        status=Transcript.Status.DONE,
        analysis=json.dumps(result),
        metrics=metrics_without_text(result["summary"]),
        model_version=str(result["model_version"]),
        analysed_at=timezone.now(),
    )


def test_clinician_pages_meet_wcag_aa(page):
    therapist, record, _adm = seed()
    transcript = analysed_transcript(therapist, record)
    staff_login(page, therapist.email, "an accessible password")
    found = []
    for url in [
        "/caseload/",
        f"/clients/{record.pk}/",
        f"/clients/{record.pk}/alliance/",
        "/alerts/",
        f"/clients/{record.pk}/goals/",
        f"/clients/{record.pk}/journal/new/",
        "/development/",
        f"/clients/{record.pk}/transcripts/{transcript.pk}/",
    ]:
        found += violations(page, url)
    assert found == [], "\n".join(found)


def test_sign_in_and_link_pages_meet_wcag_aa(phone_page):
    found = []
    for url in ["/accounts/login/", "/signin/"]:
        found += violations(phone_page, url)
    found += violations(phone_page, "/m/not-a-real-link/", status=404)
    assert found == [], "\n".join(found)


def test_admin_pages_meet_wcag_aa(page):
    clinic = Clinic.objects.create(name="Admin Access Clinic")
    make_staff(clinic, Role.ADMIN, "Ari Admin", "ari@access.test", "an accessible admin password")
    staff_login(page, "ari@access.test", "an accessible admin password")
    found = []
    for url in [
        "/clinic/",
        "/clinic/settings/",
        "/clinic/measures/",
        "/clinic/monitoring/",
        "/clinic/transcripts/",
        "/clinic/audit/",
        "/reports/",
    ]:
        found += violations(page, url)
    assert found == [], "\n".join(found)
