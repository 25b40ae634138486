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
        response = client.post(form_url, {"reason": "Client's emergency contact called; therapist unreachable", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == detail
    assert client.get(detail).status_code == 200
    assert AuditEvent.objects.filter(client=personas.client, action="break_glass", actor=personas.admin).exists()
    # The care team is told by email (no client name in it) and sees it on the record.
    assert [m.to for m in mail.outbox] == [["tess@north.test"]]
    assert "Cleo" not in mail.outbox[0].body
    sign_in(client, personas.therapist)
    page = client.get(detail).content.decode()
    assert "Emergency access" in page and "Adam Admin" in page and "therapist unreachable" in page
    # The client sees it in plain words.
    sign_in(client, personas.client_user)
    assert "opened emergency access to your record" in client.get(reverse("client_access_log")).content.decode()


def test_break_glass_expires(client, personas):
    BreakGlassAccess.objects.create(
        clinic=personas.clinic, client=personas.client, user=personas.admin,
        reason="A long enough reason for emergency access",
        started_at=timezone.now() - timedelta(hours=2), expires_at=timezone.now() - timedelta(hours=1),
    )
    sign_in(client, personas.admin)
    assert client.get(reverse("client_detail", args=[personas.client.pk])).status_code == 404


def test_break_glass_does_not_reach_another_clinic(client, personas):
    sign_in(client, personas.admin)
    response = client.post(reverse("break_glass", args=[personas.foreign_client.pk]), {"reason": "x" * 30, "confirm": "on"})
    assert response.status_code == 404
    assert not BreakGlassAccess.objects.exists()
