"""The client's data export: questionnaires and sessions in JSON, HTML and PDF; the PDF view."""

from __future__ import annotations

import base64
import json
import re
import zlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from alliance.checkins.models import Concern
from alliance.clients.models import TherapySession
from alliance.core.models import AuditEvent
from alliance.exports.data import client_data
from alliance.exports.pdf import _Story, render_pdf
from alliance.goals.models import Goal
from alliance.measures import registry, scoring
from alliance.measures.models import ClinicInstrumentTexts
from alliance.measures.services import record_response
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PHQ9 = {f"item{n}": v for n, v in enumerate([2, 2, 2, 2, 2, 1, 1, 1, 1], start=1)} | {
    "difficulty": 1
}  # total 14
LICENSED = "Licensed WAI text"
FREE_TEXT = "More <b>breaks</b> & fewer </i> worksheets"


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a reportlab PDF, compressed page streams or not (built-in fonts only)."""
    drawn = []
    for m in re.finditer(rb"<<([^<>]*)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        head, body = m.group(1), m.group(2)
        if b"/ASCII85Decode" in head:
            body = base64.a85decode(body.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in head:
            body = zlib.decompress(body)
        # Fragments of one line are consecutive Tj; T*, Td, Tm and ET start a new line.
        for op in re.finditer(
            rb"\(((?:\\.|[^\\)])*)\)\s*Tj|(?<!\S)(?:T\*|Td|TD|Tm|ET)(?!\S)", body, re.S
        ):
            if op.group(1) is None:
                drawn.append(" ")
                continue
            raw = re.sub(rb"\\([0-7]{1,3})", lambda o: bytes([int(o.group(1), 8)]), op.group(1))
            raw = re.sub(rb"\\(.)", rb"\1", raw)
            drawn.append(raw.decode("cp1252", "replace"))
    text = "".join(drawn)
    assert text, "no text found in the PDF"
    return re.sub(r"\s+", " ", text)


def _record(client_record, instrument_id, answers, *, source="form", actor=None, **kw):
    return record_response(
        client=client_record,
        instrument_id=instrument_id,
        result=scoring.score(instrument_id, answers),
        answers=answers,
        source=source,
        actor=actor,
        **kw,
    ).response


@pytest.fixture
def history(personas):
    """Sessions and questionnaires of every kind, recorded through the real write path."""
    p = personas
    now = timezone.now()
    for number, status in [(1, "attended"), (2, "missed"), (3, "scheduled")]:
        TherapySession.objects.create(
            clinic=p.clinic,
            client=p.client,
            therapist=p.therapist,
            number=number,
            scheduled_at=now + timedelta(days=7 * (number - 2)),
            status=status,
        )
    _record(p.client, "phq9", PHQ9, actor=p.client_user, completed_at=now - timedelta(days=6))
    record_response(
        client=p.client,
        instrument_id="gad7",
        result=scoring.score_total_only("gad7", 8),
        answers={},
        source="paper",
        actor=p.therapist,
        completed_at=now - timedelta(days=5),
    )
    sac = {"item1": 5, "item2": 4, "item3": 4, "item4": 5, "felt_off": "no"}
    _record(
        p.client,
        "sac_client",
        sac,
        actor=p.client_user,
        do_differently=FREE_TEXT,
        session_number=1,
        completed_at=now - timedelta(days=4),
    )
    # The clinic holds licensed WAI-SR texts; they may be shown on the form, never in the export.
    texts = {f"item{n}": f"{LICENSED} {n}" for n in range(1, 13)}
    ClinicInstrumentTexts.objects.create(
        clinic=p.clinic,
        instrument_id="wai_sr",
        imported_by=p.admin,
        definition=registry.import_item_texts("wai_sr", json.dumps(texts)).to_dict(),
    )
    _record(
        p.client,
        "wai_sr",
        {f"item{n}": 1 + n % 5 for n in range(1, 13)},
        actor=p.client_user,
        completed_at=now - timedelta(days=3),
    )
    _record(
        p.client,
        "sac_therapist",
        {"item1": 2, "item2": 2, "item3": 2, "item4": 2, "felt_off": "yes"},
        actor=p.therapist,
        session_number=1,
        completed_at=now - timedelta(days=4),
    )
    return p


def test_questionnaires_and_sessions_are_in_the_json_and_html(client, history):
    p = history
    sign_in(client, p.client_user)
    data = json.loads(client.get(reverse("my_data_json")).content)
    assert [(s["number"], s["status"]) for s in data["sessions"]] == [
        (1, "Attended"),
        (2, "Missed"),
        (3, "Scheduled"),
    ]
    by_name = {q["questionnaire"]: q for q in data["questionnaires"]}
    assert sorted(by_name) == ["GAD-7", "PHQ-9", "SAC", "WAI-SR"]  # not the therapist's own rating

    phq = by_name["PHQ-9"]
    assert (phq["total"], phq["severity"], phq["entered_by"]) == (
        14,
        "moderate",
        "You, in your client area",
    )
    assert phq["answers"][0] == {
        "number": 1,
        "question": "Little interest or pleasure in doing things",
        "answer": "More than half the days (2)",
    }
    assert phq["answers"][-1]["answer"] == "Somewhat difficult (1)" and len(phq["answers"]) == 10
    assert phq["support_now"]["crisis_resources"] == p.clinic.crisis_resources
    assert "Question 9 was answered above 0." in phq["notes"]

    gad = by_name["GAD-7"]
    assert gad["total"] == 8 and gad["answers"] == [] and "support_now" not in gad
    assert gad["entered_by"] == "Entered from a paper form by Tess Therapist (total only)"

    sac = by_name["SAC"]
    assert (
        sac["session"] == 1
        and sac["total"] == 4.5
        and "not a validated instrument" in sac["about_this_questionnaire"].lower()
    )
    assert {
        "number": 5,
        "question": registry.load("sac_client").item("felt_off").text,
        "answer": "No",
    } in sac["answers"]
    assert sac["answers"][-1]["answer"] == FREE_TEXT

    wai = by_name["WAI-SR"]
    assert [a["number"] for a in wai["answers"]] == list(range(1, 13))
    assert (
        all(set(a) == {"number", "answer"} for a in wai["answers"]) and wai["about_the_questions"]
    )

    html = client.get(reverse("my_data_summary")).content.decode()
    for text in (
        "Your sessions",
        "Session 2",
        "Missed",
        "Questionnaires",
        "PHQ-9",
        "Little interest or pleasure in doing things",
        "More than half the days (2)",
        "possible range 0 to 27",
        "moderate",
        "Tess Therapist (total only)",
        "not a diagnosis",
        escape(p.clinic.crisis_resources.splitlines()[1]),
        "More &lt;b&gt;breaks&lt;/b&gt; &amp; fewer",
        reverse("my_data_pdf"),
    ):
        assert text in html, text
    assert "<b>breaks</b>" not in html
    assert (
        html.count('class="banner banner-danger crisis"') == 1
    )  # only next to the PHQ-9 with item 9 above 0


def test_therapist_rating_and_licensed_texts_never_leave(history):
    data = client_data(history.client)
    exported = json.dumps(data)
    assert "sac_therapist" not in exported and "SAC (therapist)" not in exported
    assert "my client" not in exported  # sac_therapist item wording
    assert LICENSED not in exported
    assert LICENSED not in pdf_text(render_pdf(data, compress=False))


def test_pdf_has_the_name_totals_answers_and_crisis_wording(history):
    text = pdf_text(render_pdf(client_data(history.client), compress=False))
    for part in (
        "Everything we hold about you",
        "Cleo Client",
        "PHQ-9",
        "14 (possible range 0 to 27), moderate",
        "Little interest or pleasure in doing things",
        "Session 2",
        "Missed",
        "not a diagnosis",
        "Please reach out now if you need support.",
        "Call or text 988",
        FREE_TEXT,
    ):
        assert part in text, part
    assert "Tess Therapist" in text and "GAD-7" in text and "WAI-SR" in text


def test_pdf_prints_markup_and_survives_non_latin_text(personas):
    p = personas
    p.client.full_name = "Cleo <Client> & Zoë 李雷 😀"
    p.client.save()
    Goal.propose(
        p.client, p.client_user, "client", wording="Sleep < 6h & wake </b> rested — ≥ 3 nights"
    )
    Concern.objects.create(
        clinic=p.clinic,
        client=p.client,
        raised_by=p.client_user,
        topic="other",
        detail="Ünïcode ∞ and <para> & \u200b",
    )
    pdf = render_pdf(client_data(p.client), compress=False)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Cleo <Client> & Zoë" in text
    assert "Sleep < 6h & wake </b> rested — >= 3 nights" in text
    assert "Ünïcode" in text and "<para> &" in text


def test_pdf_download_is_audited_and_a_real_pdf(client, history):
    p = history
    sign_in(client, p.client_user)
    before = AuditEvent.objects.filter(
        client=p.client, action="export", record_type="export"
    ).count()
    response = client.get(reverse("my_data_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my-alliance-data.pdf"'
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)  # compressed in production
    assert "Cleo Client" in text and "14 (possible range 0 to 27)" in text
    assert (
        AuditEvent.objects.filter(client=p.client, action="export", record_type="export").count()
        == before + 1
    )


def test_home_links_to_the_pdf(client, personas):
    sign_in(client, personas.client_user)
    assert reverse("my_data_pdf") in client.get(reverse("client_home")).content.decode()


def test_only_the_client_gets_their_pdf(client, history):
    p = history
    sign_in(client, None)
    assert client.get(reverse("my_data_pdf")).status_code == 302
    for staff in (p.therapist, p.colleague, p.supervisor, p.admin, p.foreign_therapist):
        sign_in(client, staff)
        assert client.get(reverse("my_data_pdf")).status_code == 404
    sign_in(client, p.other_client_user)
    own = client.get(reverse("my_data_pdf"))
    assert own.status_code == 200
    text = pdf_text(own.content)
    assert "Otto Other" in text and "Cleo" not in text and "PHQ-9," not in text
    assert not AuditEvent.objects.filter(client=p.client, action="export").exists()


def test_pdf_shows_times_in_the_clients_time_zone_not_iso():
    s = _Story("America/New_York")
    assert s.when("2026-11-20T15:04:59.970509+00:00") == "2026-11-20 10:04"
    assert s.when("2026-11-20") == "2026-11-20" and s.when(None) == ""
    assert _Story("Not/AZone").when("2026-11-20T15:04:00+00:00") == "2026-11-20 15:04"


def test_html_summary_shows_readable_times_and_json_keeps_iso(client, history):
    sign_in(client, history.client_user)
    html = client.get(reverse("my_data_summary")).content.decode()
    iso = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    assert not iso.search(html) and re.search(r"Made on \d{4}-\d{2}-\d{2} \d{2}:\d{2}", html)
    assert iso.search(client.get(reverse("my_data_json")).json()["exported_at"])


def test_summary_labels_are_words_not_field_names(client, history):
    sign_in(client, history.client_user)
    html = client.get(reverse("my_data_summary")).content.decode()
    assert "<dt>Preferred name</dt>" in html and "<dt>Time zone</dt>" in html
    assert "Preferred_name" not in html and "Time_zone" not in html

    pdf = render_pdf(client_data(history.client), compress=False)
    assert b"Preferred name" in pdf and b"Preferred_name" not in pdf
