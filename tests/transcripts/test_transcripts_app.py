"""Transcript upload, consent gate, speaker confirmation, background analysis, private feedback."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from alliance.core.models import AuditEvent
from alliance.transcripts.models import Transcript, TranscriptSettings
from tests.conftest import grant, sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "nlp" / "fixtures"


def _upload(client, personas, name="zoom.vtt", content=None, **extra):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return client.post(
        reverse("transcript_upload", args=[personas.client.pk]),
        {"session": "new", "session_date": "2026-11-20", "file": SimpleUploadedFile(name, data), **extra},
    )


def _run_worker():
    # The worker opens and closes its own connections, as it does in production, so these
    # tests commit their data (transactional_db) instead of running inside one transaction.
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0)


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


def test_only_the_care_team_can_upload(client, personas):
    grant(personas.client, "recording", personas.therapist)
    for outsider in (personas.colleague, personas.foreign_therapist, personas.admin, personas.client_user):
        sign_in(client, outsider)
        assert _upload(client, personas).status_code == 404
    assert not Transcript.objects.exists()


def test_upload_confirm_analyse_and_read_feedback(client, transactional_db, personas, django_capture_on_commit_callbacks):
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    response = _upload(client, personas)
    transcript = Transcript.objects.get()
    assert response["Location"] == reverse("transcript_speakers", args=[personas.client.pk, transcript.pk])
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
    _run_worker()
    transcript.refresh_from_db()
    assert transcript.status == "done", transcript.error
    assert transcript.metrics["counts"]["questions"] >= 1
    assert "speakers" not in transcript.metrics
    done = client.get(feedback_url, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    html = client.get(feedback_url).content.decode()
    assert "Listening skills" in html and "not an evaluation" in html and "The session, coded" in html
    assert AuditEvent.objects.filter(client=personas.client, record_type="transcript_feedback").exists()
    # Private to the therapist who uploaded it.
    personas.client.care_team.create(clinic=personas.clinic, therapist=personas.colleague)
    sign_in(client, personas.colleague)
    assert client.get(feedback_url).status_code == 404


def test_clinic_can_keep_only_the_metrics(client, transactional_db, personas, django_capture_on_commit_callbacks):
    TranscriptSettings.objects.create(clinic=personas.clinic, delete_text_after_analysis=True)
    grant(personas.client, "recording", personas.therapist)
    sign_in(client, personas.therapist)
    _upload(client, personas, name="teams.vtt")
    transcript = Transcript.objects.get()
    name = next(n for n, r in transcript.speaker_roles().items() if r == "therapist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("transcript_speakers", args=[personas.client.pk, transcript.pk]), {"therapist": name})
    _run_worker()
    transcript.refresh_from_db()
    assert transcript.status == "done" and transcript.text == "" and transcript.analysis == ""
    assert transcript.text_deleted_at is not None and transcript.metrics["counts"]
    html = client.get(reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])).content.decode()
    assert "only the numbers above are kept" in html


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
        page = client.get(reverse("transcript_feedback", args=[transcript.client_id, transcript.pk]))
        assert page.status_code == 200 and "The session, coded" in page.content.decode()
    assert markers > 0


def test_client_page_shows_the_listening_trend_over_sessions(client, personas):
    from django.utils import timezone

    from alliance.clients.models import TherapySession

    grant(personas.client, "recording", personas.therapist)
    for n, (rq, open_pct) in enumerate([(0.5, 30.0), (1.0, 45.0), (1.6, 60.0)], start=1):
        session = TherapySession.objects.create(clinic=personas.clinic, client=personas.client, therapist=personas.therapist, number=n, scheduled_at=timezone.now())
        Transcript.objects.create(
            clinic=personas.clinic, client=personas.client, session=session, uploaded_by=personas.therapist,
            filename=f"s{n}.vtt", file_format="vtt", status="done",
            metrics={"reflection_to_question": {"value": rq}, "percent_complex_reflections": {"value": 40.0},
                     "percent_open_questions": {"value": open_pct}, "talk_share": {"by_words": {"therapist": 40.0}},
                     "change_sustain": {"change_talk_share": 60.0}, "rupture_moments": [],
                     "counts": {"judgmental": 0, "validations": 0, "affirmations": 0, "summaries": 0}},
        )
    sign_in(client, personas.therapist)
    html = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "over 3 analysed sessions" in html
    row = re.search(r"Reflections per question</th><td>0.5</td><td>1.6</td><td>[\d.]+</td><td>(\w+)</td>", html)
    assert row and row.group(1) == "improving"
