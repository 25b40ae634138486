"""Break-glass emergency access: reason, time limit, audit, and visible to the care team."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from alliance.clients.models import BreakGlassAccess
from alliance.core.models import AuditEvent
from tests.conftest import sign_in


def test_break_glass_flow(client, personas, django_capture_on_commit_callbacks, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    detail = reverse("client_detail", args=[personas.client.pk])
    sign_in(client, personas.admin)
    assert client.get(detail).status_code == 404

    form_url = reverse("break_glass", args=[personas.client.pk])
    short = client.post(form_url, {"reason": "need it", "confirm": "on"})
    assert short.status_code == 200 and b"at least 20 characters" in short.content
    assert not BreakGlassAccess.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            form_url,
            {"reason": "Client's emergency contact called; therapist unreachable", "confirm": "on"},
        )
    assert response.status_code == 302 and response["Location"] == detail
    assert client.get(detail).status_code == 200
    assert AuditEvent.objects.filter(
        client=personas.client, action="break_glass", actor=personas.admin
    ).exists()
    # The care team is told by email (no client name in it) and sees it on the record.
    assert [m.to for m in mail.outbox] == [["tess@north.test"]]
    assert "Cleo" not in mail.outbox[0].body
    sign_in(client, personas.therapist)
    page = client.get(detail).content.decode()
    assert "Emergency access" in page and "Adam Admin" in page and "therapist unreachable" in page
    # The client sees it in plain words.
    sign_in(client, personas.client_user)
    assert (
        "opened emergency access to your record"
        in client.get(reverse("client_access_log")).content.decode()
    )


def test_break_glass_expires(client, personas):
    BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="A long enough reason for emergency access",
        started_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    sign_in(client, personas.admin)
    assert client.get(reverse("client_detail", args=[personas.client.pk])).status_code == 404


def test_break_glass_does_not_reach_another_clinic(client, personas):
    sign_in(client, personas.admin)
    response = client.post(
        reverse("break_glass", args=[personas.foreign_client.pk]),
        {"reason": "x" * 30, "confirm": "on"},
    )
    assert response.status_code == 404
    assert not BreakGlassAccess.objects.exists()


def test_break_glass_persona_journey(
    client, personas, django_capture_on_commit_callbacks, settings
):
    """The admin reads clinical content only while break-glass is open, only for that client;
    the care team sees the banner and gets the email; every read is on the client's list."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    cleo, otto = personas.client, personas.other_client
    reads = [
        reverse("client_detail", args=[cleo.pk]),
        f"/api/v1/clients/{cleo.pk}",
    ]
    sign_in(client, personas.admin)
    assert [client.get(url).status_code for url in reads] == [404, 404]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("break_glass", args=[cleo.pk]),
            {"reason": "Emergency contact called; therapist unreachable", "confirm": "on"},
        )
    views_before = AuditEvent.objects.filter(
        actor=personas.admin, client=cleo, action="view"
    ).count()
    assert [client.get(url).status_code for url in reads] == [200, 200]
    assert "Consents" in client.get(reads[0]).content.decode()
    assert client.get(reads[1]).json()["full_name"] == "Cleo Client"
    # Only that client.
    assert client.get(reverse("client_detail", args=[otto.pk])).status_code == 404
    assert client.get(f"/api/v1/clients/{otto.pk}").status_code == 404
    views = (
        AuditEvent.objects.filter(actor=personas.admin, client=cleo, action="view").count()
        - views_before
    )
    assert views == 4  # every read during break-glass is audited

    # The care team: the email, and the banner on the record.
    assert [m.to for m in mail.outbox] == [["tess@north.test"]]
    sign_in(client, personas.therapist)
    assert "Emergency access" in client.get(reads[0]).content.decode()

    # The client sees every one of those reads, and the opening, in plain words.
    sign_in(client, personas.client_user)
    page = client.get(reverse("client_access_log")).content.decode()
    assert page.count("Adam Admin (admin) viewed your record") == views + views_before
    assert "Adam Admin (admin) opened emergency access to your record" in page

    # At expiry the admin loses it.
    BreakGlassAccess.objects.filter(client=cleo).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    sign_in(client, personas.admin)
    assert [client.get(url).status_code for url in reads] == [404, 404]
