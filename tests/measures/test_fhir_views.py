"""FHIR R4B export of one response and import of an uploaded resource."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from alliance.alerts.models import Alert
from alliance.measures.models import Response
from tests.conftest import sign_in
from tests.measures.helpers import assign, phq9_post

pytestmark = pytest.mark.django_db


def answered(client, personas, answers):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    client.post(reverse("measures_answer", args=[adm.pk]), phq9_post(adm, answers))
    return Response.objects.get(administration=adm)


def test_export_is_a_valid_bundle_and_round_trips(client, personas):
    resp = answered(client, personas, [1, 2, 0, 3, 1, 0, 2, 1, 0])
    sign_in(client, personas.therapist)
    r = client.get(reverse("measures_fhir_export", args=[resp.pk]))
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    data = json.loads(r.content)
    Bundle.model_validate(data)
    codes = {
        c["code"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Observation"
        for c in e["resource"]["code"]["coding"]
    }
    assert "44261-6" in codes
    # Import the export for the same client: the same answers and total.
    upload = SimpleUploadedFile("phq9.json", r.content, content_type="application/json")
    r2 = client.post(reverse("measures_fhir_import", args=[personas.client.pk]), {"file": upload})
    assert r2.status_code == 302
    imported = Response.objects.get(source="fhir")
    assert imported.total == 10 and imported.answers == {
        f"item{n}": v for n, v in enumerate([1, 2, 0, 3, 1, 0, 2, 1, 0], 1)
    }


def test_invalid_import_names_the_field_and_stores_nothing(client, personas):
    sign_in(client, personas.therapist)
    url = reverse("measures_fhir_import", args=[personas.client.pk])
    bad = {"resourceType": "QuestionnaireResponse", "status": "bogus", "questionnaire": "x"}
    r = client.post(url, {"file": SimpleUploadedFile("x.json", json.dumps(bad).encode())})
    assert r.status_code == 400 and "status" in r.content.decode()
    r = client.post(url, {"file": SimpleUploadedFile("x.json", b"{not json")})
    assert r.status_code == 400 and "not valid JSON" in r.content.decode()
    assert not Response.objects.filter(source="fhir").exists()


def test_imported_item9_raises_a_safety_alert(client, personas):
    resp = answered(client, personas, [0, 0, 0, 0, 0, 0, 0, 0, 2])
    sign_in(client, personas.therapist)
    content = client.get(reverse("measures_fhir_export", args=[resp.pk])).content

    Alert.objects.all().update(status="acknowledged")
    client.post(
        reverse("measures_fhir_import", args=[personas.client.pk]),
        {"file": SimpleUploadedFile("x.json", content)},
    )
    assert Alert.objects.filter(kind="safety", status="open").count() == 1


def test_outsiders_cannot_export(client, personas):
    resp = answered(client, personas, [0] * 9)
    for user in (
        personas.colleague,
        personas.foreign_therapist,
        personas.supervisor,
        personas.client_user,
    ):
        sign_in(client, user)
        assert client.get(reverse("measures_fhir_export", args=[resp.pk])).status_code == 404
