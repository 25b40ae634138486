"""A clinician's first sign-in shows a short tour until dismissed; My settings shows it again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alliance.accounts.models import Membership
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_tour_shows_until_dismissed_and_can_come_back(client, personas):
    sign_in(client, personas.therapist)
    page = client.get(reverse("caseload")).content.decode()
    assert 'id="tour"' in page
    # Only where a clinician lands: other pages keep their own content in the first screen.
    assert 'id="tour"' not in client.get(reverse("alert_list")).content.decode()
    for place in ("Caseload", "Client page", "Alerts", "Goals", "Transcript feedback"):
        assert place in page
    r = client.post(
        reverse("tour"),
        {"action": "dismiss"},
        HTTP_REFERER="http://testserver" + reverse("caseload"),
    )
    assert r.status_code == 302 and r.url == "http://testserver" + reverse("caseload")
    assert Membership.objects.get(user=personas.therapist).tour_dismissed_at is not None
    assert 'id="tour"' not in client.get(reverse("caseload")).content.decode()
    settings_page = client.get(reverse("my_settings")).content.decode()
    assert "Show the tour again" in settings_page
    client.post(reverse("tour"), {"action": "show", "next": reverse("caseload")})
    assert 'id="tour"' in client.get(reverse("caseload")).content.decode()


def test_tour_is_for_clinicians_only_and_never_redirects_off_site(client, personas):
    sign_in(client, personas.admin)
    assert 'id="tour"' not in client.get(reverse("clinic_home")).content.decode()
    sign_in(client, personas.client_user)
    assert 'id="tour"' not in client.get(reverse("client_home")).content.decode()
    assert client.post(reverse("tour"), {"action": "dismiss"}).status_code in (403, 404)
    sign_in(client, personas.supervisor)
    r = client.post(reverse("tour"), {"action": "dismiss"}, HTTP_REFERER="https://evil.example/")
    assert r.url == reverse("caseload")
