"""Questionnaires in the client's language .

The PHQ-9 and GAD-7 are shown in their official Spanish (Spanish for the USA, Pfizer) when
Spanish is active, the project's own alliance check in its Spanish version; any other language
gets the English original with a note. The stored response records the language shown, FHIR
carries it both ways, staff see it, and every crisis text can be set per language.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from alliance.accounts.models import DEFAULT_CRISIS_RESOURCES
from alliance.exports.data import client_data
from alliance.measures import registry, scoring
from alliance.measures.models import Response
from tests.conftest import sign_in
from tests.measures.helpers import assign, phq9_post

pytestmark = pytest.mark.django_db

LANGS = [("en", "English"), ("es", "Español"), ("fr", "Français")]
FALLBACK_NOTE = (
    "This questionnaire is shown in English because no official translation in your language "
    "is available."
)
PHQ9_ITEM9_ES = "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera"
PHQ9_ITEM9_EN = "Thoughts that you would be better off dead or of hurting yourself in some way"


def speak(http: Any, record: Any, code: str) -> dict[str, str]:
    """Make ``code`` the client's language however the site decides it (cookie, browser header,
    the client's own setting where the record has one); returns the request headers."""
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = code
    if hasattr(record, "language"):
        record.language = code
        record.save(update_fields=["language"])
    return {"HTTP_ACCEPT_LANGUAGE": code}


def answer_phq9(http: Any, personas: Any, code: str, answers: list[int]) -> tuple[str, Response]:
    adm = assign(personas.client)
    sign_in(http, personas.client_user)
    headers = speak(http, personas.client, code)
    with override_settings(LANGUAGES=LANGS), translation.override(code):
        form = http.get(reverse("measures_answer", args=[adm.pk]), **headers).content.decode()
        http.post(reverse("measures_answer", args=[adm.pk]), phq9_post(adm, answers), **headers)
    return form, Response.objects.get(administration=adm)


# --- the instrument files ----------------------------------------------------------------------


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "sac_client"])
def test_translation_changes_texts_never_ids_values_or_scores(instrument_id):
    en = registry.load(instrument_id)
    es = en.localized("es-MX")
    assert es.language == "es" and "es" in en.languages
    assert [i.id for i in es.items] == [i.id for i in en.items]
    for a, b in zip(en.items, es.items, strict=True):
        assert [o.value for o in a.answer_options] == [o.value for o in b.answer_options]
        assert [o.code for o in a.answer_options] == [o.code for o in b.answer_options]
        if a.text:
            assert b.text and b.text != a.text
    assert es.stem != en.stem
    for values in ([0] * 9, [3] * 9, [1, 2, 0, 3, 1, 0, 2, 1, 1]):
        answers = {i.id: values[n] for n, i in enumerate(en.scored_items)}
        a, b = scoring.score(en, answers), scoring.score(es, answers)
        assert (a.total, a.severity, a.flags, a.item9_positive) == (
            b.total,
            b.severity,
            b.flags,
            b.item9_positive,
        )


def test_languages_without_a_translation_get_the_original():
    phq9 = registry.load("phq9")
    assert phq9.localized("fr").language == "en"
    assert phq9.localized("fr").items[8].text == PHQ9_ITEM9_EN
    assert phq9.localized(None) is phq9
    # Instruments whose texts may not ship have no translation to offer.
    assert registry.load("wai_sr").languages == ("en",)


def test_the_official_spanish_wording_is_the_one_shipped():
    es = registry.load("phq9").localized("es")
    assert es.item("item9").text == PHQ9_ITEM9_ES
    assert [o.text for o in es.item("item1").answer_options] == [
        "Ningún día",
        "Varios días",
        "Más de la mitad de los días",
        "Casi todos los días",
    ]
    assert "No se requiere permiso para reproducir, traducir" in es.attribution
    sac = registry.load("sac_client").localized("es")
    assert sac.note.startswith("No es un instrumento validado")


def _phq9_data() -> dict[str, Any]:
    return registry.load("phq9").to_dict()


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "sac_client"])
def test_a_translated_instrument_round_trips_through_its_dict(instrument_id):
    inst = registry.load(instrument_id)
    again = registry.instrument_from_dict(inst.to_dict())
    assert again == inst and again.translations == inst.translations
    assert again.localized("es") == inst.localized("es")


def test_an_incomplete_or_unsourced_translation_is_refused():
    data = _phq9_data()
    tr = data["translations"]["es"]
    partial = dict(tr, items={k: v for k, v in tr["items"].items() if k != "item9"})
    with pytest.raises(registry.InstrumentDefinitionError, match="no text for"):
        registry.instrument_from_dict(data | {"translations": {"es": partial}})
    unsourced = {k: v for k, v in tr.items() if k != "source"}
    with pytest.raises(registry.InstrumentDefinitionError, match="source"):
        registry.instrument_from_dict(data | {"translations": {"es": unsourced}})


# --- the client's form and what is stored --------------------------------------------------


def test_spanish_form_shows_the_official_text_and_stores_es(client, personas):
    answers = [1, 2, 0, 3, 1, 0, 2, 1, 1]
    form, resp = answer_phq9(client, personas, "es", answers)
    assert PHQ9_ITEM9_ES in form and "Ningún día" in form and PHQ9_ITEM9_EN not in form
    assert FALLBACK_NOTE not in form
    assert 'lang="es"' in form
    assert resp.language == "es"
    assert resp.total == 11 and resp.item9_positive is True


def test_a_language_without_translation_falls_back_to_english_with_a_note(client, personas):
    form, resp = answer_phq9(client, personas, "fr", [0] * 9)
    assert PHQ9_ITEM9_EN in form and FALLBACK_NOTE in form
    assert resp.language == "en" and resp.total == 0


def test_english_is_stored_as_en_without_a_note(client, personas):
    form, resp = answer_phq9(client, personas, "en", [0] * 9)
    assert FALLBACK_NOTE not in form and resp.language == "en"


def test_same_answers_same_score_in_both_languages(client, personas):
    answers = [3, 3, 2, 2, 1, 1, 0, 0, 2]
    _, es = answer_phq9(client, personas, "es", answers)
    _, en = answer_phq9(client, personas, "en", answers)
    assert (es.total, es.severity, es.flags, es.answers) == (
        en.total,
        en.severity,
        en.flags,
        en.answers,
    )


# --- staff: what they see, paper entry, FHIR ---------------------------------------------------


def test_staff_see_answered_in_spanish(client, personas):
    _, resp = answer_phq9(client, personas, "es", [0] * 9)
    _, english = answer_phq9(client, personas, "en", [0] * 9)
    sign_in(client, personas.therapist)
    detail = client.get(reverse("measures_response", args=[resp.pk])).content.decode()
    assert "Answered in Spanish" in detail
    other = client.get(reverse("measures_response", args=[english.pk])).content.decode()
    assert "Answered in Spanish" not in other
    page = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert page.count("answered in Spanish") == 1
    api = client.get(f"/api/v1/clients/{personas.client.pk}/measures").json()
    assert [r["language"] for r in api["responses"]] == ["es", "en"]


def test_paper_entry_records_the_forms_language(client, personas):
    sign_in(client, personas.therapist)
    url = reverse("measures_paper_entry", args=[personas.client.pk])
    with override_settings(LANGUAGES=LANGS):
        assert 'name="language"' in client.get(url).content.decode()
        r = client.post(url, {"instrument": "phq9", "total": "12", "language": "es"})
        assert r.status_code == 302
        bad = client.post(url, {"instrument": "gad7", "total": "3", "language": "klingon"})
        assert bad.status_code == 400 and "Language" in bad.content.decode()
    assert list(Response.objects.values_list("language", flat=True)) == ["es"]


def test_fhir_export_and_import_carry_the_language(client, personas):
    _, resp = answer_phq9(client, personas, "es", [1, 0, 0, 0, 0, 0, 0, 0, 2])
    sign_in(client, personas.therapist)
    r = client.get(reverse("measures_fhir_export", args=[resp.pk]))
    data = json.loads(r.content)
    qr = data["entry"][0]["resource"]
    assert qr["resourceType"] == "QuestionnaireResponse" and qr["language"] == "es"
    assert {k: v for k, v in qr["item"][8].items() if k in ("linkId", "text")} == {
        "linkId": "item9"
    } | {"text": PHQ9_ITEM9_ES}
    url = reverse("measures_fhir_import", args=[personas.client.pk])
    client.post(url, {"file": SimpleUploadedFile("a.json", r.content)})
    imported = Response.objects.get(source="fhir")
    assert imported.language == "es" and imported.total == resp.total
    # No language: English. A value that is no language code: refused, nothing stored.
    del qr["language"]
    client.post(url, {"file": SimpleUploadedFile("b.json", json.dumps(data).encode())})
    assert Response.objects.filter(source="fhir", language="en").count() == 1
    qr["language"] = "not a language!"
    bad = client.post(url, {"file": SimpleUploadedFile("c.json", json.dumps(data).encode())})
    assert bad.status_code == 400 and "QuestionnaireResponse.language" in bad.content.decode()
    assert Response.objects.filter(source="fhir").count() == 2


def test_english_export_says_en(client, personas):
    _, resp = answer_phq9(client, personas, "en", [0] * 9)
    sign_in(client, personas.therapist)
    data = json.loads(client.get(reverse("measures_fhir_export", args=[resp.pk])).content)
    qr = data["entry"][0]["resource"]
    assert qr["language"] == "en" and qr["item"][8]["text"] == PHQ9_ITEM9_EN


# --- crisis texts per language ------------------------------------------------------------------

UK = "Call Samaritans free on 116 123, or 999 in an emergency."
UK_ES = "Llame gratis a Samaritans al 116 123, o al 999 en una emergencia."
RES_ES = "Si está en crisis, llame ahora al 116 123."


def test_crisis_line_for_falls_back_to_the_default_text(personas):
    clinic = personas.clinic
    clinic.crisis_line = UK
    clinic.crisis_translations = {"es": {"crisis_line": UK_ES}}
    clinic.save()
    assert clinic.crisis_line_for("es") == UK_ES
    assert clinic.crisis_line_for("es-MX") == UK_ES
    assert clinic.crisis_line_for("fr") == UK
    assert clinic.crisis_line_for("en") == UK
    # Spanish line set, Spanish resources not: the clinic kept the shipped default resources,
    # which the catalogue has in Spanish.
    assert clinic.crisis_resources == DEFAULT_CRISIS_RESOURCES
    assert clinic.crisis_resources_for("es").startswith("Si estás en crisis")
    assert clinic.crisis_resources_for("en") == DEFAULT_CRISIS_RESOURCES
    # A clinic's own text with no Spanish version is shown as written: never a guess.
    clinic.crisis_resources = "Call the Samaritans on 116 123."
    assert clinic.crisis_resources_for("es") == "Call the Samaritans on 116 123."
    with translation.override("es"):
        assert clinic.crisis_line_for() == UK_ES


def test_admin_sets_the_spanish_crisis_texts(client, personas):
    sign_in(client, personas.admin)
    url = reverse("clinic_settings")
    with override_settings(LANGUAGES=LANGS[:2]):
        page = client.get(url).content.decode()
        assert 'name="crisis_line_es"' in page and 'name="crisis_resources_es"' in page
        assert 'name="crisis_line_fr"' not in page
        clinic = personas.clinic
        post = {
            "name": clinic.name,
            "time_zone": clinic.time_zone,
            "crisis_resources": clinic.crisis_resources,
            "crisis_line": UK,
            "crisis_line_es": UK_ES,
            "crisis_resources_es": RES_ES,
        }
        assert client.post(url, post).status_code == 302
        clinic.refresh_from_db()
        assert clinic.crisis_line == UK
        assert clinic.crisis_translations == {
            "es": {"crisis_line": UK_ES, "crisis_resources": RES_ES}
        }
        assert UK_ES in client.get(url).content.decode()
        # Emptying the Spanish texts goes back to the default ones; too long is refused.
        assert client.post(url, post | {"crisis_line_es": "x" * 201}).status_code == 200
        clinic.refresh_from_db()
        assert clinic.crisis_translations["es"]["crisis_line"] == UK_ES
        client.post(url, post | {"crisis_line_es": "", "crisis_resources_es": ""})
        clinic.refresh_from_db()
        assert clinic.crisis_translations == {} and clinic.crisis_line_for("es") == UK


def test_client_pages_show_the_crisis_texts_in_their_language(client, personas):
    clinic = personas.clinic
    clinic.crisis_line = UK
    clinic.crisis_translations = {"es": {"crisis_line": UK_ES, "crisis_resources": RES_ES}}
    clinic.save()
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    headers = speak(client, personas.client, "es")
    with override_settings(LANGUAGES=LANGS), translation.override("es"):
        home = client.get(reverse("client_home"), **headers).content.decode()
        done = client.post(
            reverse("measures_answer", args=[adm.pk]),
            phq9_post(adm, [0, 0, 0, 0, 0, 0, 0, 0, 1]),
            follow=True,
            **headers,
        ).content.decode()
    assert UK_ES in home and UK not in home
    assert UK_ES in done and RES_ES in done and UK not in done


def test_the_alliance_check_in_spanish_keeps_its_not_validated_label(client, personas):
    adm = assign(personas.client, "sac_client")
    sign_in(client, personas.client_user)
    headers = speak(client, personas.client, "es")
    with override_settings(LANGUAGES=LANGS), translation.override("es"):
        home = client.get(reverse("client_home"), **headers).content.decode()
        form = client.get(reverse("measures_answer", args=[adm.pk]), **headers).content.decode()
        post = {"idempotency_key": str(adm.idempotency_key), "action": "submit"}
        post |= {"item1": 5, "item2": 5, "item3": 4, "item4": 5, "felt_off": "no"}
        done = client.post(
            reverse("measures_answer", args=[adm.pk]), post, follow=True, **headers
        ).content.decode()
    assert "Cómo fue la sesión de hoy" in home
    assert "Hoy trabajamos en lo que más me importa." in form and "0 — Nada" in form
    assert FALLBACK_NOTE not in form
    resp = Response.objects.get(administration=adm)
    assert resp.language == "es" and resp.total == 4.75
    assert "cómo fue la sesión de hoy" in done
    sac = registry.load("sac_client").localized("es")
    assert "no es un instrumento validado" in sac.note.lower()


def test_everything_we_hold_shows_the_questions_as_the_client_read_them(client, personas):
    answer_phq9(client, personas, "es", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    answer_phq9(client, personas, "en", [0] * 9)
    text = [
        json.dumps(q, ensure_ascii=False) for q in client_data(personas.client)["questionnaires"]
    ]
    assert PHQ9_ITEM9_ES in text[0] and PHQ9_ITEM9_EN not in text[0]
    assert PHQ9_ITEM9_EN in text[1]
