"""Transcript upload, consent gate, speaker confirmation, background analysis, private feedback."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.clients.models import TherapySession
from alliance.core.models import AuditEvent
from alliance.core.seeding import seed_demo
from alliance.nlp import analyze_text
from alliance.nlp.model import load_model
from alliance.transcripts.models import Transcript, TranscriptSettings, metrics_without_text
from tests.conftest import ADMIN_ONLY, assert_persona_matrix, grant, make_staff, run_worker, sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "nlp" / "fixtures"


def _upload(client, personas, name="zoom.vtt", content=None, **extra):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return client.post(
        reverse("transcript_upload", args=[personas.client.pk]),
        {
            "session": "new",
            "session_date": "2026-11-20",
            "file": SimpleUploadedFile(name, data),
            **extra,
        },
    )


def test_upload_needs_recording_consent(client, personas):
    sign_in(client, personas.therapist)
    response = _upload(client, personas)
    assert response.status_code == 409 and b"No recording consent" in response.content
    assert not Transcript.objects.exists()


def test_malformed_file_names_the_line_and_stores_nothing(client, personas):
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    response = _upload(client, personas, name="bad_timestamp.vtt")
    assert response.status_code == 200
    assert b"line " in response.content and b"Nothing was stored" in response.content
    assert not Transcript.objects.exists()
    empty = _upload(client, personas, name="empty.vtt", content=b"")
    assert empty.status_code == 200 and not Transcript.objects.exists()


def test_a_future_session_date_is_refused(client, personas):
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    response = _upload(client, personas, session_date="2030-01-15")
    assert response.status_code == 200
    assert "15 January 2030 is in the future" in response.content.decode()
    assert not Transcript.objects.exists() and not TherapySession.objects.exists()
    # A booked session that has not happened yet is not offered either.
    booked = TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=1,
        scheduled_at=timezone.now() + dt.timedelta(days=3),
    )
    page = client.get(reverse("transcript_upload", args=[personas.client.pk])).content.decode()
    assert str(booked.pk) not in page
    response = _upload(client, personas, session=str(booked.pk))
    assert response.status_code == 200 and not Transcript.objects.exists()


def test_a_pdf_gets_a_clear_message_not_an_encoding_error(client, personas):
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    response = _upload(
        client, personas, name="session.pdf", content=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "this is a PDF file, not a transcript" in body and "(.vtt)" in body
    assert "UTF-8" not in body
    assert not Transcript.objects.exists()


def test_only_the_care_team_can_upload(client, personas):
    grant(personas.client, "recording", personas.therapist)
    for outsider in (
        personas.colleague,
        personas.foreign_therapist,
        personas.admin,
        personas.client_user,
    ):
        sign_in(client, outsider)
        assert _upload(client, personas).status_code == 404
    assert not Transcript.objects.exists()


def test_upload_confirm_analyse_and_read_feedback(
    client, transactional_db, personas, django_capture_on_commit_callbacks
):
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    response = _upload(client, personas)
    transcript = Transcript.objects.get()
    assert response["Location"] == reverse(
        "transcript_speakers", args=[personas.client.pk, transcript.pk]
    )
    # Encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM transcripts_transcript")
        assert cursor.fetchone()[0].startswith("fernet:")
    page = client.get(response["Location"]).content.decode()
    speakers = list(transcript.speaker_roles())
    assert all(name in page for name in speakers)
    therapist_name = next(n for n, r in transcript.speaker_roles().items() if r == "therapist")
    url = reverse("transcript_speakers", args=[personas.client.pk, transcript.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"therapist": therapist_name})
        client.post(url, {"therapist": therapist_name})  # double submit
    transcript.refresh_from_db()
    assert transcript.status == "queued"
    feedback_url = reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    waiting = client.get(feedback_url, HTTP_HX_REQUEST="true")
    assert b"Analysing" in waiting.content and b'hx-trigger="every 2s"' in waiting.content
    run_worker()
    transcript.refresh_from_db()
    assert transcript.status == "done", transcript.error
    assert transcript.metrics["counts"]["questions"] >= 1
    assert "speakers" not in transcript.metrics
    done = client.get(feedback_url, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    html = client.get(feedback_url).content.decode()
    assert (
        "Listening skills" in html and "not an evaluation" in html and "The session, coded" in html
    )
    # How reliable each code is, from the shipped artifact's own cross-validation figures.

    behaviour_f1 = load_model().metadata_["cv"]["heads"]["behaviour"]["macro_f1_mean"]
    assert "How reliable are these codes?" in html and f"{behaviour_f1:.2f}" in html
    assert AuditEvent.objects.filter(
        client=personas.client, record_type="transcript_feedback"
    ).exists()
    # Private to the therapist who uploaded it.
    personas.client.care_team.create(clinic=personas.clinic, therapist=personas.colleague)
    sign_in(client, personas.colleague)
    assert client.get(feedback_url).status_code == 404


def test_clinic_can_keep_only_the_metrics(
    client, transactional_db, personas, django_capture_on_commit_callbacks
):
    TranscriptSettings.objects.create(clinic=personas.clinic, delete_text_after_analysis=True)
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    _upload(client, personas, name="teams.vtt")
    transcript = Transcript.objects.get()
    name = next(n for n, r in transcript.speaker_roles().items() if r == "therapist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("transcript_speakers", args=[personas.client.pk, transcript.pk]),
            {"therapist": name},
        )
    run_worker()
    transcript.refresh_from_db()
    assert transcript.status == "done" and transcript.text == "" and transcript.analysis == ""
    assert transcript.text_deleted_at is not None and transcript.metrics["counts"]
    html = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    assert "only the numbers above are kept" in html


@pytest.mark.slow
def test_demo_has_two_really_analysed_sessions(client, db):
    call_command("seed_demo")
    real = Transcript.objects.exclude(model_version="demo").filter(status="done")
    assert real.values("client").distinct().count() >= 2
    markers = 0
    for transcript in real:
        assert transcript.analysis_data()["utterances"]
        assert transcript.metrics["counts"]["questions"] >= 1
        markers += sum(len(u["markers"]) for u in transcript.analysis_data()["utterances"])
        # The feedback page renders for the therapist who uploaded it, markers included.
        sign_in(client, transcript.uploaded_by)
        page = client.get(
            reverse("transcript_feedback", args=[transcript.client_id, transcript.pk])
        )
        assert page.status_code == 200 and "The session, coded" in page.content.decode()
    assert markers > 0


def test_client_page_shows_the_listening_trend_over_sessions(client, personas):
    grant(personas.client, "recording", personas.therapist)
    for n, (rq, open_pct) in enumerate([(0.5, 30.0), (1.0, 45.0), (1.6, 60.0)], start=1):
        session = TherapySession.objects.create(
            clinic=personas.clinic,
            client=personas.client,
            therapist=personas.therapist,
            number=n,
            scheduled_at=timezone.now(),
        )
        Transcript.objects.create(
            clinic=personas.clinic,
            client=personas.client,
            session=session,
            uploaded_by=personas.therapist,
            filename=f"s{n}.vtt",
            file_format="vtt",
            status="done",
            metrics={
                "reflection_to_question": {"value": rq},
                "percent_complex_reflections": {"value": 40.0},
                "percent_open_questions": {"value": open_pct},
                "talk_share": {"by_words": {"therapist": 40.0}},
                "change_sustain": {"change_talk_share": 60.0},
                "rupture_moments": [],
                "counts": {"judgmental": 0, "validations": 0, "affirmations": 0, "summaries": 0},
            },
        )
    sign_in(client, personas.therapist)
    html = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "over 3 analysed sessions" in html
    row = re.search(
        r"Reflections per question</th><td>0.5</td><td>1.6</td><td>[\d.]+</td><td>(\w+)</td>", html
    )
    assert row and row.group(1) == "improving"


def test_feedback_on_a_numbers_only_analysis_shows_dashes_not_blanks(client, personas):
    """An older or numbers-only analysis (no coded text, only some metrics) must not render
    "%", "· ·" or a false "0 rupture moments", nor claim that no reflections were found."""

    session = TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=1,
        scheduled_at=timezone.now(),
    )
    transcript = Transcript.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        session=session,
        uploaded_by=personas.therapist,
        filename="old.vtt",
        file_format="vtt",
        status="done",
        model_version="0.9",
        metrics={
            "reflection_to_question": {"value": 1.8, "fair": 1.0, "good": 2.0, "level": "fair"}
        },
    )
    sign_in(client, personas.therapist)
    html = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    facts = re.sub(r"\s+", " ", html[html.index('class="facts"') : html.index("Thresholds:")])
    assert (
        "<dd>—</dd>" in facts
        and "<dd>%</dd>" not in facts
        and "· ·" not in facts
        and "<dd>0</dd>" not in facts
    )
    assert (
        "Only the numbers of this analysis were kept" in html
        and "No reflections were found" not in html
    )


@pytest.mark.slow
def test_demo_numbers_only_transcripts_carry_whole_summaries(db):
    seed_demo()
    numbers_only = Transcript.objects.filter(model_version="demo")
    assert numbers_only.exists()
    for t in numbers_only:
        assert t.text_deleted_at and {
            "talk_share",
            "counts",
            "change_sustain",
            "rupture_moments",
        } <= set(t.metrics)


RUPTURE_SESSION = b"""Therapist: How did the breathing exercise go this week?
Sam: Honestly this is pointless. You don't understand what it's like.
Therapist: It sounds like the exercise felt useless, and I missed how hard this week was.
Sam: Yeah. It was a hard week.
"""


def test_feedback_lists_rupture_moments_linked_to_the_turn_and_the_timeline(
    client, transactional_db, personas, django_capture_on_commit_callbacks
):
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    _upload(client, personas, name="session.txt", content=RUPTURE_SESSION)
    transcript = Transcript.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("transcript_speakers", args=[personas.client.pk, transcript.pk]),
            {"therapist": "Therapist"},
        )
    run_worker()
    transcript.refresh_from_db()
    moments = transcript.metrics["rupture_moments"]
    assert transcript.status == "done" and [m["index"] for m in moments] == [1]
    html = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    assert "confrontation at turn 2" in html and 'href="#turn-1"' in html and 'id="turn-1"' in html
    assert reverse("alliance_timeline", args=[personas.client.pk]) in html


def test_admin_sets_text_deletion_and_can_clear_earlier_transcripts(client, personas):
    url = reverse("transcripts_clinic_settings")
    assert_persona_matrix(client, personas, url, ADMIN_ONLY)
    session = TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=1,
        scheduled_at="2026-11-20T10:00:00Z",
    )
    common = {
        "clinic": personas.clinic,
        "client": personas.client,
        "session": session,
        "uploaded_by": personas.therapist,
        "filename": "s.txt",
        "file_format": "plain",
    }
    done = Transcript.objects.create(
        **common, text="Therapist: hello", analysis="{}", status="done", metrics={"counts": {}}
    )
    waiting = Transcript.objects.create(**common, text="Therapist: hi", status="needs_roles")
    sign_in(client, personas.admin)
    # Clearing earlier transcripts without turning deletion on: refused, nothing changes.
    bad = client.post(url, {"apply_to_existing": "on"})
    assert bad.status_code == 400 and "nothing was changed" in bad.content.decode()
    done.refresh_from_db()
    assert (
        done.text == "Therapist: hello"
        and not TranscriptSettings.for_clinic(personas.clinic).delete_text_after_analysis
    )
    # Turning it on alone keeps what was analysed before.
    client.post(url, {"delete_text_after_analysis": "on"})
    done.refresh_from_db()
    assert TranscriptSettings.for_clinic(personas.clinic).delete_text_after_analysis and done.text
    r = client.post(
        url, {"delete_text_after_analysis": "on", "apply_to_existing": "on"}, follow=True
    )
    assert "The text of 1 earlier transcript was deleted" in r.content.decode()
    done.refresh_from_db()
    waiting.refresh_from_db()
    assert (
        done.text == ""
        and done.analysis == ""
        and done.text_deleted_at
        and done.metrics == {"counts": {}}
    )
    assert waiting.text == "Therapist: hi"  # not analysed yet: the worker applies the setting later
    assert AuditEvent.objects.filter(
        record_type="clinic_settings", note__contains="1 cleared"
    ).exists()


def _analysed(personas, name, number=1):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    result = analyze_text(text, name)
    session = TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=number,
        scheduled_at=timezone.now(),
    )
    return Transcript.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        session=session,
        uploaded_by=personas.therapist,
        filename=name,
        file_format="txt",
        status="done",
        model_version=result["model_version"],
        text=text,
        analysis=json.dumps(result),
        metrics=metrics_without_text(result["summary"]),
    )


def _measure_row(html, key):
    start = html.index(f'id="measure-{key}"')
    return re.sub(r"\s+", " ", html[start : html.index("</tr>", start)])


def test_feedback_shows_each_value_with_its_interval_on_the_threshold_scale(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    sign_in(client, personas.therapist)
    html = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    for key in ("reflection_to_question", "percent_complex_reflections", "percent_open_questions"):
        m = transcript.metrics[key]
        row = _measure_row(html, key)
        low, high = m["interval"]
        assert f"90% likely range {low}–{high}" in row
        assert '<rect class="interval"' in row and 'class="band band-good"' in row
        if m["level"] == "uncertain":
            assert "uncertain" in row and m["reason"][1:] in row
        else:
            assert m["level"] in row
    # in this session no measure's whole interval lies in one band
    assert _measure_row(html, "percent_complex_reflections").count("uncertain") >= 1
    share = transcript.metrics["change_talk_share"]
    assert f"{share['value']:.0f}% (90% likely range" in html


def test_feedback_says_why_a_short_transcript_is_not_rated(client, personas):
    transcript = _analysed(personas, "zoom.vtt")
    sign_in(client, personas.therapist)
    html = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    row = _measure_row(html, "percent_complex_reflections")
    assert "not available" in row and "at least 10 are needed to judge this measure" in row
    assert '<rect class="interval"' not in row


def test_therapist_corrects_a_code_and_the_summary_is_recomputed(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    before = transcript.metrics
    model = transcript.model_analysis()
    questions = [u for u in model["utterances"] if u["behaviour"] == "question"]
    target = questions[0]
    sign_in(client, personas.therapist)
    url = reverse("transcript_correct", args=[personas.client.pk, transcript.pk])
    response = client.post(url, {"index": target["index"], "code": "reflection/complex"})
    assert response.status_code == 302 and response["Location"].endswith(f"#turn-{target['index']}")
    transcript.refresh_from_db()
    assert transcript.correction_data() == {str(target["index"]): "reflection/complex"}
    after = transcript.metrics
    assert after["counts"]["reflections"] == before["counts"]["reflections"] + 1
    assert after["counts"]["questions"] == before["counts"]["questions"] - 1
    assert after["corrected_utterances"] == 1
    # the model's own analysis is kept; the corrected one is what the page shows
    assert transcript.model_analysis()["utterances"][target["index"]]["behaviour"] == "question"
    shown = transcript.analysis_data()["utterances"][target["index"]]
    assert shown["behaviour"] == "reflection" and shown["corrected"] is True
    html = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    assert "You corrected 1 code in this session" in html and "corrected by you" in html
    assert AuditEvent.objects.filter(record_type="transcript_feedback", action="update").exists()
    # the stored corrections are encrypted at rest
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT corrections FROM transcripts_transcript WHERE id = %s",
            [transcript.pk.hex if connection.vendor == "sqlite" else str(transcript.pk)],
        )
        raw = cursor.fetchone()[0]
    assert "reflection/complex" not in raw


def test_a_bad_correction_says_why_and_changes_nothing(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    client_turn = next(
        u for u in transcript.model_analysis()["utterances"] if u["speaker"] == "client"
    )
    sign_in(client, personas.therapist)
    url = reverse("transcript_correct", args=[personas.client.pk, transcript.pk])
    for data, message in (
        (
            {"index": client_turn["index"], "code": "question/open"},
            "is not a code for a client turn",
        ),
        ({"index": 999, "code": "change"}, "there is no utterance 999"),
        ({"index": "x", "code": "change"}, "the utterance number is missing or not a number"),
    ):
        page = client.post(url, data, follow=True).content.decode()
        assert message in page and "Nothing was changed" in page
    transcript.refresh_from_db()
    assert transcript.corrections == ""


def test_a_correction_with_htmx_answers_with_the_recomputed_summary_and_the_turn(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    before = transcript.metrics
    target = next(
        u for u in transcript.model_analysis()["utterances"] if u["behaviour"] == "question"
    )
    sign_in(client, personas.therapist)
    page = client.get(
        reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])
    ).content.decode()
    hx_url = reverse("transcript_correct_hx", args=[personas.client.pk, transcript.pk])
    # the page wires every correction form to the fragment view, and keeps the plain POST
    assert f'hx-post="{hx_url}"' in page and 'hx-target="#listening-skills"' in page
    assert 'id="correction-status"' in page
    response = client.post(
        hx_url, {"index": target["index"], "code": "reflection/complex"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    # a fragment, not a page: the summary (the swap target) and, out of band, the turn
    assert "<html" not in html
    assert '<section id="listening-skills">' in html
    assert f'id="turn-{target["index"]}" hx-swap-oob="true"' in html
    assert '<div id="session-examples" hx-swap-oob="true">' in html
    assert "You corrected 1 code in this session" in html and "corrected by you" in html
    assert f"Turn {target['index'] + 1} corrected; the summary was recomputed." in html
    transcript.refresh_from_db()
    after = transcript.metrics
    assert after["counts"]["reflections"] == before["counts"]["reflections"] + 1
    # the fragment shows the recomputed values, not the old ones
    r2q = after["reflection_to_question"]
    row = _measure_row(html, "reflection_to_question")
    assert f"{r2q['value']}:1" in row
    if r2q["interval"]:
        assert f"90% likely range {r2q['interval'][0]}–{r2q['interval'][1]}" in row
    assert (
        AuditEvent.objects.filter(
            record_type="transcript_feedback", action="update", note="code corrected"
        ).count()
        == 1
    )
    # no flash message is left behind for the next full page
    full = client.get(reverse("transcript_feedback", args=[personas.client.pk, transcript.pk]))
    assert "corrected; the summary was recomputed" not in full.content.decode()


def test_a_bad_correction_with_htmx_says_why_and_changes_nothing(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    client_turn = next(
        u for u in transcript.model_analysis()["utterances"] if u["speaker"] == "client"
    )
    before = transcript.metrics
    sign_in(client, personas.therapist)
    hx_url = reverse("transcript_correct_hx", args=[personas.client.pk, transcript.pk])
    for data, message in (
        (
            {"index": client_turn["index"], "code": "question/open"},
            "is not a code for a client turn",
        ),
        ({"index": 999, "code": "change"}, "there is no utterance 999"),
        ({"index": "x", "code": "change"}, "the utterance number is missing or not a number"),
    ):
        response = client.post(hx_url, data, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200  # htmx swaps only successful answers
        assert 'id="correction-error"' in html and message in html and "Nothing was changed" in html
        assert "You corrected" not in html
    transcript.refresh_from_db()
    assert transcript.corrections == "" and transcript.metrics == before
    assert not AuditEvent.objects.filter(
        record_type="transcript_feedback", action="update"
    ).exists()
    # GET is refused, and another therapist gets 404 as on the page itself
    assert client.get(hx_url).status_code == 405


def test_only_the_uploading_therapist_can_correct(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    other = make_staff(
        personas.clinic,
        Role.THERAPIST,
        "Other Therapist",
        "other@x.test",
        "another long password here",
    )
    personas.client.care_team.create(clinic=personas.clinic, therapist=other)
    sign_in(client, other)
    url = reverse("transcript_correct", args=[personas.client.pk, transcript.pk])
    assert client.post(url, {"index": 0, "code": "other"}).status_code == 404
    hx_url = reverse("transcript_correct_hx", args=[personas.client.pk, transcript.pk])
    assert (
        client.post(hx_url, {"index": 0, "code": "other"}, HTTP_HX_REQUEST="true").status_code
        == 404
    )
    transcript.refresh_from_db()
    assert transcript.corrections == ""


def test_admin_exports_corrections_as_training_rows_without_text_unless_opted_in(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    question = next(
        u for u in transcript.model_analysis()["utterances"] if u["behaviour"] == "question"
    )
    sign_in(client, personas.therapist)
    client.post(
        reverse("transcript_correct", args=[personas.client.pk, transcript.pk]),
        {"index": question["index"], "code": "reflection/simple"},
    )
    # a therapist cannot export
    assert client.get(reverse("transcripts_corrections_export")).status_code in (403, 404)

    sign_in(client, personas.admin)
    response = client.get(reverse("transcripts_corrections_export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(transcript.model_analysis()["utterances"])
    labelled = [r for r in rows if r["main_therapist_behaviour"] or r["client_talk_type"]]
    assert len(labelled) == 1
    assert labelled[0]["utterance_id"] == str(question["index"])
    assert labelled[0]["main_therapist_behaviour"] == "reflection"
    assert labelled[0]["reflection_subtype"] == "simple"
    assert labelled[0]["model_code"].startswith("question")
    assert all(r["utterance_text"] == "" for r in rows)
    assert AuditEvent.objects.filter(action="export", record_type="transcript_feedback").exists()

    TranscriptSettings.objects.update_or_create(
        clinic=personas.clinic, defaults={"export_text_with_corrections": True}
    )
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("transcripts_corrections_export")).content.decode())
        )
    )
    assert rows[question["index"]]["utterance_text"] == question["text"]
