"""Deny by default: every view has a rule, and the persona matrix holds on every view."""

from __future__ import annotations

import re
import uuid

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from alliance.core.access import AccessRule, DenyByDefaultMiddleware, rule_for
from alliance.core.models import AuditEvent
from tests.conftest import (
    ADMIN_AND_SUPERVISOR,
    ADMIN_ONLY,
    CARE_TEAM_ONLY,
    CLIENTS_OWN,
    CLINICIANS,
    assert_persona_matrix,
    sign_in,
)


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_url_pattern_declares_an_access_rule():
    seen = list(walk(get_resolver().url_patterns))
    assert len(seen) > 40  # our views, allauth's and the API's
    missing = [route for route, callback in seen if rule_for(callback) is None]
    assert missing == [], f"views without an access rule: {missing}"
    ours = [cb for route, cb in seen if getattr(cb, "__module__", "").startswith("alliance.")]
    assert len(ours) >= 15
    assert all(isinstance(rule_for(cb), AccessRule) for cb in ours)


def test_a_view_without_a_rule_is_refused_at_run_time(rf, personas):
    def unmarked(request):
        return HttpResponse("leak")

    unmarked.__module__ = "alliance.fake"
    middleware = DenyByDefaultMiddleware(lambda r: HttpResponse())
    request = rf.get("/x/")
    request.user = personas.therapist
    with pytest.raises(Exception) as excinfo:
        middleware.process_view(request, unmarked, (), {})
    assert excinfo.type.__name__ == "Http404"


CLIENT_DETAIL = CARE_TEAM_ONLY


def _matrix_cases():
    return [
        ("client_detail", True, CLIENT_DETAIL),
        ("care_team_edit", True, ADMIN_ONLY),
        ("break_glass", True, ADMIN_ONLY),
        ("clinic_home", False, ADMIN_ONLY),
        ("clinic_settings", False, ADMIN_ONLY),
        ("staff_create", False, ADMIN_ONLY),
        ("client_create", False, ADMIN_ONLY),
        ("audit_search", False, ADMIN_ONLY),
        ("security_log", False, ADMIN_AND_SUPERVISOR),
        ("caseload", False, CLINICIANS),
        ("client_home", False, CLIENTS_OWN),
        ("client_access_log", False, CLIENTS_OWN),
        ("client_consents", False, CLIENTS_OWN),
    ]


@pytest.mark.parametrize("url_name,takes_client,expected", _matrix_cases())
def test_persona_matrix(client, personas, url_name, takes_client, expected):
    url = reverse(url_name, args=[personas.client.pk]) if takes_client else reverse(url_name)
    assert_persona_matrix(client, personas, url, expected)


def test_foreign_and_unknown_uuids_look_the_same(client, personas):
    sign_in(client, personas.therapist)
    foreign = client.get(reverse("client_detail", args=[personas.foreign_client.pk]))
    unknown = client.get(reverse("client_detail", args=[uuid.uuid4()]))
    assert foreign.status_code == unknown.status_code == 404

    def strip(html: bytes) -> bytes:
        return re.sub(rb'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+"', b"", html)

    assert strip(foreign.content) == strip(unknown.content)


def test_admin_directory_is_scoped_to_own_clinic(client, personas):
    sign_in(client, personas.admin)
    page = client.get(reverse("care_team_edit", args=[personas.foreign_client.pk]))
    assert page.status_code == 404
    home = client.get(reverse("clinic_home")).content.decode()
    assert "Cleo Client" in home and "Flo Faraway" not in home


def test_caseload_lists_only_care_team_clients(client, personas):
    sign_in(client, personas.therapist)
    html = client.get(reverse("caseload")).content.decode()
    assert "Cleo Client" in html and "Otto Other" not in html and "Flo Faraway" not in html


API_CLIENT = {
    "anonymous": 401,
    "therapist": 200,
    "colleague": 404,
    "foreign_therapist": 404,
    "supervisor": 404,
    "admin": 404,
    "client": 200,
    "other_client": 404,
}


def test_api_client_detail_persona_matrix(client, personas):
    url = f"/api/v1/clients/{personas.client.pk}"
    for persona, user in personas.all().items():
        sign_in(client, user)
        response = client.get(url)
        assert response.status_code == API_CLIENT[persona], (persona, response.status_code)
    sign_in(client, personas.therapist)
    data = client.get(url).json()
    assert data["full_name"] == "Cleo Client"
    assert {c["kind"]: c["granted"] for c in data["consents"]}["treatment"] is True


def test_api_list_is_scoped_and_schema_is_published(client, personas):
    sign_in(client, personas.colleague)
    names = [c["full_name"] for c in client.get("/api/v1/clients").json()]
    assert names == ["Otto Other"]
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/clients/{client_id}" in schema["paths"]


def test_reading_a_record_writes_an_audit_entry(client, personas):
    sign_in(client, personas.therapist)
    before = AuditEvent.objects.filter(client=personas.client).count()
    client.get(reverse("client_detail", args=[personas.client.pk]), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.filter(client=personas.client).order_by("-seq").first()
    assert AuditEvent.objects.filter(client=personas.client).count() == before + 1
    assert (event.actor, event.actor_role, event.action, event.record_type, event.ip_address) == (
        personas.therapist,
        "therapist",
        "view",
        "client_record",
        "10.1.2.3",
    )


def test_refused_reads_write_no_view_entry(client, personas):
    sign_in(client, personas.colleague)
    client.get(reverse("client_detail", args=[personas.client.pk]))
    # Only the refusal itself is recorded (tests/foundation/test_refusal_audit.py).
    entries = AuditEvent.objects.filter(client=personas.client, actor=personas.colleague)
    assert list(entries.values_list("action", flat=True)) == ["denied"]


def test_clients_cannot_reach_staff_account_pages(client, personas):
    sign_in(client, personas.client_user)
    assert client.get(reverse("account_change_password")).status_code == 404
    assert client.get(reverse("mfa_index")).status_code == 404
