"""Production settings, security headers, friendly error pages, forms and the demo seed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from alliance.accounts.models import Membership, User
from alliance.clients.models import ClientRecord
from alliance.core.logging import redact
from tests.conftest import sign_in

GOOD_PROD_ENV = {
    "ALLIANCE_ENV": "production",
    "SECRET_KEY": "k3Jd8-vQ2pL0zR7sT1uW4yX6aB9cE5fG8hJ2kM4nP7qS0tV3wY6zA1bC4dF7gH9jL",
    "FIELD_ENCRYPTION_KEYS": "bXlfdGVzdF9rZXlfX19fX19fX19fX19fX19fX19fXzA=",
    "ALLOWED_HOSTS": "alliance.example.org",
    "DATABASE_URL": "sqlite:////tmp/alliance-prod-check.sqlite3",
}


def _run(env_updates: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    scrubbed = {
        "SECRET_KEY",
        "DATABASE_URL",
        "FIELD_ENCRYPTION_KEYS",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env.update(env_updates)
    return subprocess.run(
        [sys.executable, "-m", "alliance", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "DATABASE_URL"]
)
def test_production_refuses_to_start_without_a_setting(missing):
    env = dict(GOOD_PROD_ENV)
    del env[missing]
    result = _run(env, "check")
    assert result.returncode == 2
    # One line naming the variable, no traceback.
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"alliance: configuration error: {missing} must be set")


@pytest.mark.slow
def test_production_deploy_check_reports_no_warnings():
    result = _run(GOOD_PROD_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_security_headers_and_no_inline_script(client, personas):
    sign_in(client, personas.therapist)
    response = client.get(reverse("client_detail", args=[personas.client.pk]))
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html and "<style" not in html
    assert "htmx-2.0.11.min.js" in html and "//unpkg" not in html and "cdn" not in html.lower()


def test_pages_about_people_are_never_cached(client, personas):
    sign_in(client, personas.therapist)
    for url in [
        reverse("client_detail", args=[personas.client.pk]),
        reverse("caseload"),
        f"/api/v1/clients/{personas.client.pk}",
    ]:
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, (url, cache_control)
    sign_in(client, personas.client_user)
    for name in ["client_home", "my_data_json", "my_data_pdf"]:
        assert "no-store" in client.get(reverse(name))["Cache-Control"], name
    client.logout()
    assert "no-store" in client.get(reverse("client_signin"))["Cache-Control"]


def test_friendly_404_has_no_stack_trace(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content and b"Traceback" not in response.content


def test_invalid_form_saves_nothing_and_explains(client, personas):
    sign_in(client, personas.admin)
    before = ClientRecord.objects.count()
    response = client.post(
        reverse("client_create"), {"full_name": "", "email": "bad", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "This field is required" in html
        and "valid email" in html
        and "not a known time zone" in html
    )
    assert "Choose at least one therapist" in html
    assert ClientRecord.objects.count() == before


def test_admin_adds_a_client_with_a_care_team(client, personas):
    sign_in(client, personas.admin)
    response = client.post(
        reverse("client_create"),
        {
            "full_name": "Nia New",
            "email": "nia@client.test",
            "time_zone": "Europe/London",
            "therapists": [str(personas.colleague.pk)],
        },
    )
    assert response.status_code == 302
    record = ClientRecord.objects.get(full_name="Nia New")
    assert record.clinic == personas.clinic and not record.user.has_usable_password()
    assert list(record.care_team.values_list("therapist", flat=True)) == [personas.colleague.pk]


def test_csrf_is_enforced(personas):
    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, personas.client_user)
    response = strict.post(reverse("client_consents"), {"kind": "research", "granted": "yes"})
    assert response.status_code == 403
    assert not personas.client.has_consent("research")


def test_client_changes_consent_with_version_and_history(client, personas):
    sign_in(client, personas.client_user)
    client.post(reverse("client_consents"), {"kind": "research", "granted": "yes"})
    assert personas.client.has_consent("research")
    consent = personas.client.current_consent("research")
    assert consent.text.version == 1 and consent.recorded_by == personas.client_user
    client.post(reverse("client_consents"), {"kind": "research", "granted": "no"})
    assert not personas.client.has_consent("research")
    assert personas.client.consents.filter(kind="research").count() == 1  # withdrawn, kept
    bad = client.post(
        reverse("client_consents"), {"kind": "everything", "granted": "yes"}, follow=True
    )
    assert b"nothing was changed" in bad.content


@pytest.mark.slow
def test_demo_seed_is_complete_and_rerunnable(db, capsys):
    call_command("seed_demo")
    assert Membership.objects.filter(role="therapist").count() == 3
    assert Membership.objects.filter(role="supervisor").count() == 1
    assert Membership.objects.filter(role="admin").count() == 1
    assert ClientRecord.objects.count() >= 20
    users = User.objects.count()
    call_command("seed_demo")
    assert "already present" in capsys.readouterr().out
    assert User.objects.count() == users


def test_health_check(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_logs_redact_identifiers():
    line = "GET /clients/6f1f2c9e-2d7a-4a39-9b1e-0d2a5b8e1c11/?t=abc HTTP/1.1 cleo@client.test"
    out = redact(line)
    assert "6f1f2c9e" not in out and "abc" not in out and "cleo@" not in out
