"""Instrument check-ins become questionnaires, and an answered questionnaire completes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.urls import reverse

from alliance.checkins.bridge import open_due_instrument_administrations
from alliance.checkins.models import CheckIn, CheckInSchedule
from alliance.checkins.schedule import run_cycle
from alliance.measures.models import Administration
from tests.conftest import sign_in


def _phq9_due(personas):
    CheckInSchedule.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        kind="instrument",
        instrument="phq9",
        cadence="fortnightly",
        start_date=date(2026, 3, 1),
        due_time=time(18, 0),
    )
    run_cycle(datetime(2026, 3, 1, 23, 5, tzinfo=UTC))
    return CheckIn.objects.get(client=personas.client)


def test_a_due_instrument_check_in_opens_one_questionnaire(personas):
    _phq9_due(personas)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert open_due_instrument_administrations(personas.client, now) == 1
    assert open_due_instrument_administrations(personas.client, now) == 0  # never twice
    adm = Administration.objects.get(client=personas.client)
    assert adm.instrument_id == "phq9" and adm.is_open


def test_answering_the_questionnaire_completes_the_check_in(client, personas):
    check_in = _phq9_due(personas)
    sign_in(client, personas.client_user)
    home = client.get(reverse("client_home"))
    assert home.status_code == 200
    adm = Administration.objects.get(client=personas.client, instrument_id="phq9")
    answers = {f"item{i}": "0" for i in range(1, 10)}
    answers["difficulty"] = "0"
    response = client.post(
        reverse("measures_answer", args=[adm.pk]),
        {**answers, "idempotency_key": str(adm.idempotency_key), "action": "submit"},
    )
    assert response.status_code in (200, 302)
    adm.refresh_from_db()
    assert adm.status == "completed", response.content[:400]
    check_in.refresh_from_db()
    assert check_in.status == CheckIn.Status.COMPLETED
