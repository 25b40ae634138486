"""POST /api/v1/clients/{id}/transcripts/{id}/corrections: the feedback page's correction as JSON."""

from __future__ import annotations

import json

from django.test import Client

from alliance.core.models import AuditEvent
from tests.conftest import sign_in
from tests.transcripts.test_transcripts_app import _analysed


def _url(personas, transcript) -> str:
    return f"/api/v1/clients/{personas.client.pk}/transcripts/{transcript.pk}/corrections"


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_therapist_corrects_a_code_and_gets_the_recomputed_summary(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    before = transcript.metrics
    target = next(
        u for u in transcript.model_analysis()["utterances"] if u["behaviour"] == "question"
    )
    sign_in(client, personas.therapist)
    response = _post(
        client, _url(personas, transcript), {"index": target["index"], "code": "reflection/complex"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    transcript.refresh_from_db()
    assert body["index"] == target["index"] and body["code"] == "reflection/complex"
    assert body["corrected_utterances"] == 1
    assert body["summary"] == transcript.metrics
    assert body["summary"]["counts"]["reflections"] == before["counts"]["reflections"] + 1
    assert "interval" in body["summary"]["reflection_to_question"]
    # numbers only: no words of the transcript come back
    assert target["text"] not in response.content.decode()
    assert transcript.correction_data() == {str(target["index"]): "reflection/complex"}
    assert AuditEvent.objects.filter(
        record_type="transcript_feedback", action="update", note="code corrected"
    ).exists()


def test_a_bad_correction_says_why_and_changes_nothing(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    client_turn = next(
        u for u in transcript.model_analysis()["utterances"] if u["speaker"] == "client"
    )
    before = transcript.metrics
    sign_in(client, personas.therapist)
    url = _url(personas, transcript)
    for body, status, message in (
        ({"index": client_turn["index"], "code": "question/open"}, 422, "not a code for a client"),
        ({"index": 999, "code": "change"}, 422, "there is no utterance 999"),
        ({"index": "x", "code": "change"}, 422, "index"),
        ({"code": "change"}, 422, "index"),
    ):
        response = _post(client, url, body)
        assert response.status_code == status and message in json.dumps(response.json())
    # a transcript whose text the clinic deleted cannot be corrected
    transcript.refresh_from_db()
    assert transcript.corrections == "" and transcript.metrics == before
    type(transcript).objects.filter(pk=transcript.pk).update(text="", analysis="")
    response = _post(client, url, {"index": 0, "code": "other"})
    assert response.status_code == 409 and "Nothing was changed" in response.json()["detail"]
    assert not AuditEvent.objects.filter(
        record_type="transcript_feedback", action="update"
    ).exists()


def test_only_the_uploading_therapist_can_correct(client, personas):
    transcript = _analysed(personas, "long_session.txt")
    url = _url(personas, transcript)
    for user in (
        personas.colleague,
        personas.foreign_therapist,
        personas.supervisor,
        personas.admin,
        personas.client_user,
    ):
        c = Client()
        sign_in(c, user)
        assert _post(c, url, {"index": 0, "code": "other"}).status_code == 404, user
    assert Client().post(url, "{}", content_type="application/json").status_code == 401
    transcript.refresh_from_db()
    assert transcript.corrections == ""


def test_the_api_checks_csrf_like_the_page(personas):
    transcript = _analysed(personas, "long_session.txt")
    c = Client(enforce_csrf_checks=True)
    sign_in(c, personas.therapist)
    response = _post(c, _url(personas, transcript), {"index": 0, "code": "other"})
    assert response.status_code == 403
    transcript.refresh_from_db()
    assert transcript.corrections == ""
