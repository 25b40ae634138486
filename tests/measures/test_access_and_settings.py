"""Persona matrix on the measures and alert views; clinic settings and licensed item texts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from alliance.alerts.models import Alert
from alliance.measures import scoring
from alliance.measures.models import Administration, ClinicInstrumentTexts, MeasureSettings
from alliance.measures.services import record_response
from tests.conftest import (
    ADMIN_ONLY,
    ALL_STAFF,
    CARE_TEAM_ONLY,
    THIS_CLIENT_ONLY,
    assert_persona_matrix,
    sign_in,
)
from tests.measures.helpers import assign

pytestmark = pytest.mark.django_db

STAFF_LIST = ALL_STAFF
OWN_FORM = THIS_CLIENT_ONLY


@pytest.mark.parametrize(
    "name,arg,expected",
    [
        ("measures_paper_entry", "client", CARE_TEAM_ONLY),
        ("measures_fhir_import", "client", CARE_TEAM_ONLY),
        ("measures_clinic_settings", None, ADMIN_ONLY),
        ("alert_list", None, STAFF_LIST),
        ("measures_answer", "administration", OWN_FORM),
    ],
)
def test_persona_matrix(client, personas, name, arg, expected):
    adm = assign(personas.client)
    args = {"client": [personas.client.pk], "administration": [adm.pk], None: []}[arg]
    assert_persona_matrix(client, personas, reverse(name, args=args), expected)


def test_alert_list_shows_only_care_team_alerts(client, personas):
    Alert.raise_for(personas.client, "safety", "PHQ-9 item 9 above 0", {})
    Alert.raise_for(personas.other_client, "safety", "PHQ-9 item 9 above 0", {})
    sign_in(client, personas.therapist)
    html = client.get(reverse("alert_list")).content.decode()
    assert "Cleo Client" in html and "Otto Other" not in html


def test_admin_changes_settings(client, personas):
    sign_in(client, personas.admin)
    url = reverse("measures_clinic_settings")
    data = {
        "form": "settings",
        "reliable_change_phq9": "5",
        "reliable_change_gad7": "4",
        "response_fraction": "0.5",
        "remission_below_phq9": "5",
        "no_improvement_by_session": "8",
        "link_valid_hours": "24",
    }
    assert client.post(url, data).status_code == 302
    s = MeasureSettings.for_clinic(personas.clinic)
    assert s.reliable_change_phq9 == 5 and not s.use_schueller_checkpoints
    r = client.post(url, data | {"reliable_change_phq9": "-1"})
    assert r.status_code == 400
    assert MeasureSettings.for_clinic(personas.clinic).reliable_change_phq9 == 5


def test_licensed_clinic_imports_item_texts_then_can_assign(client, personas):
    csv = "item_id,text\n" + "".join(f"item{n},Licensed text {n}\n" for n in range(1, 13))
    sign_in(client, personas.admin)
    bad = client.post(
        reverse("measures_clinic_settings"),
        {
            "form": "texts",
            "instrument": "wai_sr",
            "file": SimpleUploadedFile("t.csv", b"item_id,text\nitem99,x\n"),
        },
    )
    assert bad.status_code == 400 and not ClinicInstrumentTexts.objects.exists()
    ok = client.post(
        reverse("measures_clinic_settings"),
        {
            "form": "texts",
            "instrument": "wai_sr",
            "file": SimpleUploadedFile("t.csv", csv.encode()),
        },
    )
    assert ok.status_code == 302
    assert ClinicInstrumentTexts.objects.filter(
        clinic=personas.clinic, instrument_id="wai_sr"
    ).exists()
    sign_in(client, personas.therapist)
    client.post(reverse("measures_assign", args=[personas.client.pk]), {"instrument": "wai_sr"})

    adm = Administration.objects.get(instrument_id="wai_sr")
    sign_in(client, personas.client_user)
    assert (
        "Licensed text 12" in client.get(reverse("measures_answer", args=[adm.pk])).content.decode()
    )


def test_api_measures_is_scoped(client, personas):
    record_response(
        client=personas.client,
        instrument_id="phq9",
        result=scoring.score_total_only("phq9", 12),
        answers={},
        source="paper",
    )
    url = f"/api/v1/clients/{personas.client.pk}/measures"
    sign_in(client, personas.therapist)
    data = client.get(url).json()
    assert data["responses"][0]["total"] == 12 and data["responses"][0]["severity"] == "moderate"
    assert data["outcomes"][0]["settings"]["reliable_change"] == 6
    for user in (personas.colleague, personas.foreign_therapist, personas.other_client_user):
        sign_in(client, user)
        assert client.get(url).status_code == 404
