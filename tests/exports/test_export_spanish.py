"""The client's data export in the client's own language: page, PDF and the JSON's prose."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from alliance.clients.models import TherapySession
from alliance.exports.data import client_data
from alliance.exports.pdf import render_pdf
from alliance.measures import scoring
from alliance.measures.models import Response
from alliance.measures.services import record_response
from tests.conftest import sign_in
from tests.exports.test_export import pdf_text

pytestmark = pytest.mark.django_db

# Item 9 above 0: the export repeats the crisis wording next to this response.
PHQ9 = {f"item{n}": v for n, v in enumerate([2, 2, 2, 2, 2, 1, 1, 1, 1], start=1)} | {
    "difficulty": 1
}
ITEM1_ES = "Poco interés o placer en hacer cosas"  # the official Spanish (phq9.json)


@pytest.fixture
def spanish(personas):
    p = personas
    p.client.language = "es"
    p.client.save()
    p.clinic.crisis_translations = {
        "es": {"crisis_line": "Llama al 988.", "crisis_resources": "Llama o escribe al 988."}
    }
    p.clinic.save()
    now = timezone.now()
    TherapySession.objects.create(
        clinic=p.clinic,
        client=p.client,
        therapist=p.therapist,
        number=1,
        scheduled_at=now - timedelta(days=7),
        status="missed",
    )
    record_response(
        client=p.client,
        instrument_id="phq9",
        result=scoring.score("phq9", PHQ9),
        answers=PHQ9,
        source="form",
        actor=p.client_user,
        language="es",
        completed_at=now - timedelta(days=1),
    )
    yield p
    translation.activate("en")


def test_the_page_is_in_spanish(client, spanish):
    sign_in(client, spanish.client_user)
    html = client.get(reverse("my_data_summary")).content.decode()
    assert '<html lang="es"' in html
    for part in (
        "Todo lo que guardamos sobre ti",
        "Tus sesiones",
        "Sesión 1",
        "No asististe",
        "Tú, en tu área personal",
        "de 0 a 27",
        "Si necesitas apoyo, busca ayuda ahora.",
        "Llama o escribe al 988.",
        "Nadie revisa tus respuestas en tiempo real.",
        ITEM1_ES,
        "Quién ha consultado tu expediente",
    ):
        assert part in html, part
    for english in ("Your sessions", "Missed", "You, in your client area", "Entered by"):
        assert english not in html, english


def test_the_pdf_is_in_spanish(client, spanish):
    sign_in(client, spanish.client_user)
    response = client.get(reverse("my_data_pdf"))
    assert response.status_code == 200
    text = pdf_text(response.content)
    for part in (
        "Todo lo que guardamos sobre ti",
        "Sesión 1",
        "No asististe",
        "Registrado por",
        "Tú, en tu área personal",
        "Si necesitas apoyo, busca ayuda ahora.",
        "¿Estás en crisis? Llama al 988.",
        ITEM1_ES,
    ):
        assert part in text, part
    assert "Everything we hold about you" not in text and "Your answer" not in text
    assert b"/Lang (es)" in response.content or b"/Lang(es)" in response.content


def test_the_json_keeps_its_keys_and_translates_its_prose(client, spanish):
    sign_in(client, spanish.client_user)
    data = json.loads(client.get(reverse("my_data_json")).content)
    with translation.override("en"):
        english = client_data(spanish.client)
    # The same keys as the English export, all the way down.
    assert data.keys() == english.keys()
    q, q_en = data["questionnaires"][0], english["questionnaires"][0]
    assert q.keys() == q_en.keys() and q["support_now"].keys() == q_en["support_now"].keys()
    assert q["entered_by"] == "Tú, en tu área personal"
    assert "En la pregunta 9 la respuesta fue mayor que 0." in q["notes"]
    assert len(q["notes"]) == len(q_en["notes"])
    assert q["answers"][0]["question"] == ITEM1_ES
    assert data["sessions"][0]["status"] == "No asististe"
    assert data["crisis_line"] == "Llama al 988."
    assert data["about_scores"].startswith("Las puntuaciones")


def test_the_export_follows_the_client_not_the_request(client, spanish):
    """A client who reads Spanish gets it in Spanish even from a browser asking for English."""
    sign_in(client, spanish.client_user)
    html = client.get(reverse("my_data_summary"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Todo lo que guardamos sobre ti" in html
    # Built outside any request, in English, the same record reads in English.
    with translation.override("en"):
        text = pdf_text(render_pdf(client_data(spanish.client), compress=False))
    assert "Everything we hold about you" in text and "Missed" in text


def test_the_severity_band_reads_in_the_clients_language():
    """The band is stored as its English key and shown in the reader's language."""

    response = Response(severity="moderately severe")
    with translation.override("es"):
        assert response.severity_words == "moderadamente grave"
    with translation.override("en"):
        assert response.severity_words == "moderately severe"
    assert Response(severity="").severity_words == ""
