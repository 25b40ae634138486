"""Refused access is audited (ASVS V7.1, HIPAA 164.312(b)): who, what kind of record, when,
from where, no free text; rate-limited; shown in the clinic's security log, not on the
client's own access list; the hash chain still verifies."""

from __future__ import annotations

import uuid

from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from alliance.accounts.models import Clinic
from alliance.core.models import AuditEvent
from tests.conftest import sign_in

ADMIN_IP = "192.0.2.44"


def denied(**filters):
    return AuditEvent.objects.filter(action="denied", **filters)


def client_pages() -> list[str]:
    """Every URL name whose only argument is a client id."""
    names = []
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None):
            continue  # the JSON API, probed separately
        patterns = pattern.url_patterns if hasattr(pattern, "url_patterns") else [pattern]
        for p in patterns:
            if isinstance(p, URLPattern) and p.name and set(p.pattern.converters) == {"client_id"}:
                names.append(p.name)
    return names


def test_admin_probing_one_clients_pages_is_in_the_security_log(personas):
    admin = Client(REMOTE_ADDR=ADMIN_IP)
    sign_in(admin, personas.admin)
    refused = []
    for name in client_pages():
        url = reverse(name, args=[personas.client.pk])
        if admin.get(url).status_code in (403, 404):
            refused.append(name)
    assert len(refused) >= 10
    entries = denied(actor=personas.admin, client=personas.client)
    assert entries.count() == len(refused)
    entry = entries.first()
    assert entry.clinic == personas.clinic and entry.ip_address == ADMIN_IP
    assert entry.actor_role == "admin" and entry.record_type == "client_record"
    assert entry.note.startswith("GET ")
    # A crawler repeating itself does not flood the trail.
    for name in refused:
        admin.get(reverse(name, args=[personas.client.pk]))
    assert entries.count() == len(refused)
    call_command("audit_verify")


def test_colleague_and_other_clinic_refusals_are_recorded_in_the_clients_clinic(client, personas):
    sign_in(client, personas.colleague)
    assert client.get(reverse("client_detail", args=[personas.client.pk])).status_code == 404
    assert client.get(f"/api/v1/clients/{personas.client.pk}").status_code == 404
    assert denied(actor=personas.colleague, client=personas.client).count() == 2
    sign_in(client, personas.foreign_therapist)
    client.get(reverse("client_detail", args=[personas.client.pk]))
    entry = denied(actor=personas.foreign_therapist).get()
    assert entry.clinic == personas.clinic and entry.client == personas.client


def test_unknown_ids_and_own_pages_are_not_audited(client, personas):
    sign_in(client, personas.therapist)
    assert client.get(reverse("client_detail", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("client_detail", args=[personas.client.pk])).status_code == 200
    assert not denied().exists()


def test_refused_post_is_recorded_and_changes_nothing(client, personas):
    sign_in(client, personas.therapist)
    response = client.post(reverse("clinic_settings"), {"name": "Renamed", "time_zone": "UTC"})
    assert response.status_code == 404
    assert Clinic.objects.get(pk=personas.clinic.pk).name == "North Clinic"
    entry = denied(actor=personas.therapist).get()
    assert (
        entry.record_type == "page"
        and entry.note == "POST clinic_settings"
        and entry.client is None
    )
    # A refused change to another person's record names that record.
    sign_in(client, personas.colleague)
    client.post(
        reverse("client_consent_change", args=[personas.client.pk]),
        {"kind": "treatment", "granted": "no"},
    )
    assert denied(
        actor=personas.colleague, client=personas.client, note__startswith="POST"
    ).exists()


def test_security_log_shows_refusals_to_admin_and_supervisor_but_not_the_client(client, personas):
    sign_in(client, personas.colleague)
    client.get(reverse("client_detail", args=[personas.client.pk]))
    for viewer in (personas.admin, personas.supervisor):
        sign_in(client, viewer)
        page = client.get(reverse("security_log"))
        assert page.status_code == 200
        html = page.content.decode()
        assert "Colin Colleague" in html and "GET client_detail" in html
    sign_in(client, personas.client_user)
    html = client.get(reverse("client_access_log")).content.decode()
    assert "Colin Colleague" not in html and "refused" not in html
    sign_in(client, personas.therapist)
    assert client.get(reverse("security_log")).status_code == 404
    call_command("audit_verify")
