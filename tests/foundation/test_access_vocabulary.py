"""The per-object access vocabulary (alliance.clients.access): each authorizer alone, the API's
endpoint markers, and the care-team rule held in one place that every page and endpoint follows."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alliance.accounts.models import CLINICAL_ROLES, Role
from alliance.api.api import AllianceAPI, endpoint
from alliance.clients.access import (
    client_or_404,
    clinical_staff,
    on_care_team,
    own_client,
    owned_or_404,
)
from alliance.clients.models import BreakGlassAccess, ClientRecord, ClientRecordQuerySet, Consent
from alliance.core.access import AccessRule, rule_for, staff
from alliance.core.models import AuditEvent
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_as(rf):
    def _as(user):
        request = rf.get("/x/")
        request.user = user
        request.session = {}
        return request

    return _as


@pytest.fixture
def break_glass(personas):
    return BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="The therapist is away and the client called in crisis.",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )


# --- The rules on the queryset --------------------------------------------------------------


def test_clinical_roles_are_therapist_and_supervisor_only():
    assert frozenset({Role.THERAPIST, Role.SUPERVISOR}) == CLINICAL_ROLES
    assert Role.ADMIN not in CLINICAL_ROLES


def test_care_team_rule_lists_only_the_clients_a_clinician_treats(personas):
    rule = ClientRecord.objects.on_care_team_of
    assert list(rule(personas.therapist)) == [personas.client]
    assert list(rule(personas.colleague)) == [personas.other_client]
    assert list(rule(personas.foreign_therapist)) == [personas.foreign_client]
    for outsider in (personas.supervisor, personas.admin, personas.client_user):
        assert list(rule(outsider)) == []


def test_care_team_rule_ignores_a_membership_in_another_clinic(personas):
    membership = personas.therapist.membership
    membership.clinic = personas.other_clinic
    membership.save()
    personas.therapist.refresh_from_db()
    assert list(ClientRecord.objects.on_care_team_of(personas.therapist)) == []


def test_an_inactive_clinician_sees_nothing(personas):
    personas.therapist.is_active = False
    personas.therapist.save()
    assert list(ClientRecord.objects.on_care_team_of(personas.therapist)) == []
    assert list(ClientRecord.objects.visible_to(personas.therapist)) == []


def test_break_glass_admin_may_read_but_not_change(personas, break_glass):
    visible = ClientRecord.objects.visible_to
    assert list(visible(personas.admin)) == [personas.client]
    assert list(visible(personas.admin, write=True)) == []
    assert list(visible(personas.therapist, write=True)) == [personas.client]
    assert list(visible(personas.client_user, write=True)) == [personas.client]


def test_on_care_team_is_the_same_rule_as_a_yes_or_no(personas, break_glass):
    assert on_care_team(personas.therapist, personas.client)
    assert not on_care_team(personas.colleague, personas.client)
    assert not on_care_team(personas.admin, personas.client)  # reading under break-glass only
    assert not on_care_team(personas.client_user, personas.client)


# --- client_or_404 and own_client -----------------------------------------------------------


def test_client_or_404_returns_the_record_and_audits_the_read(personas, request_as):
    request = request_as(personas.therapist)
    assert client_or_404(request, str(personas.client.pk)) == personas.client
    event = AuditEvent.objects.filter(client=personas.client).order_by("-seq").first()
    assert (event.action, event.record_type) == ("view", "client_record")


@pytest.mark.parametrize("client_id", ["not-a-uuid", None, 42, uuid.uuid4()])
def test_client_or_404_refuses_malformed_and_unknown_ids(personas, request_as, client_id):
    with pytest.raises(Http404):
        client_or_404(request_as(personas.therapist), client_id)


def test_client_or_404_refuses_outsiders_and_writes_nothing(personas, request_as):
    for outsider in (personas.colleague, personas.supervisor, personas.other_client_user):
        with pytest.raises(Http404):
            client_or_404(request_as(outsider), personas.client.pk)
    assert not AuditEvent.objects.filter(client=personas.client).exists()


def test_client_or_404_write_refuses_a_break_glass_reader(personas, request_as, break_glass):
    request = request_as(personas.admin)
    assert client_or_404(request, personas.client.pk, action="") == personas.client
    with pytest.raises(Http404):
        client_or_404(request, personas.client.pk, write=True, action="update")
    assert not AuditEvent.objects.filter(client=personas.client, action="update").exists()


def test_own_client_is_the_signed_in_clients_record_only(personas, request_as):
    assert own_client(request_as(personas.client_user), action="") == personas.client
    assert own_client(request_as(personas.other_client_user), action="") == personas.other_client
    with pytest.raises(Http404):
        own_client(request_as(personas.therapist), action="")


# --- owned_or_404 ---------------------------------------------------------------------------


@pytest.fixture
def consent(personas):
    return Consent.objects.get(client=personas.client, kind="treatment")


def test_owned_or_404_lets_the_care_team_and_the_client_in(personas, request_as, consent):
    for user in (personas.therapist, personas.client_user):
        obj, client = owned_or_404(request_as(user), Consent, consent.pk, action="")
        assert (obj, client) == (consent, personas.client)


def test_owned_or_404_refuses_everyone_else(personas, request_as, consent):
    for user in (
        personas.colleague,
        personas.foreign_therapist,
        personas.supervisor,
        personas.admin,
        personas.other_client_user,
    ):
        with pytest.raises(Http404):
            owned_or_404(request_as(user), Consent, consent.pk, action="")


def test_owned_or_404_write_refuses_a_break_glass_reader(
    personas, request_as, consent, break_glass
):
    request = request_as(personas.admin)
    assert owned_or_404(request, Consent, consent.pk, action="")[0] == consent
    with pytest.raises(Http404):
        owned_or_404(request, Consent, consent.pk, write=True, action="")


def test_owned_or_404_within_a_loaded_client(personas, request_as, consent):
    request = request_as(personas.therapist)
    assert owned_or_404(request, Consent, consent.pk, client=personas.client) == (
        consent,
        personas.client,
    )
    with pytest.raises(Http404):
        owned_or_404(request, Consent, consent.pk, client=personas.other_client)
    with pytest.raises(Http404):
        owned_or_404(request, Consent, "nonsense", client=personas.client)


def test_owned_or_404_narrowed_queryset_and_record_type(personas, request_as, consent):
    request = request_as(personas.therapist)
    with pytest.raises(Http404):
        owned_or_404(request, Consent.objects.filter(kind="research"), consent.pk)
    owned_or_404(request, Consent, consent.pk, record_type=lambda c: f"consent_{c.kind}")
    event = AuditEvent.objects.filter(client=personas.client).order_by("-seq").first()
    assert event.record_type == "consent_treatment"


# --- The view decorators --------------------------------------------------------------------


def _ok(request):
    return HttpResponse("ok")


def test_clinical_staff_lets_clinicians_in_only(personas, request_as):
    view = clinical_staff(_ok)
    assert rule_for(view) == AccessRule("staff", CLINICAL_ROLES)
    assert view(request_as(personas.colleague)).status_code == 200
    assert view(request_as(personas.supervisor)).status_code == 200
    for user in (personas.admin, personas.client_user):
        with pytest.raises(Http404):
            view(request_as(user))


def test_staff_with_clients_lets_clients_in_too(personas, request_as):
    view = staff(*CLINICAL_ROLES, clients=True)(_ok)
    assert rule_for(view).kind == "staff+client"
    assert view(request_as(personas.client_user)).status_code == 200
    assert view(request_as(personas.therapist)).status_code == 200
    with pytest.raises(Http404):
        view(request_as(personas.admin))


def test_staff_forbidden_answers_403_with_its_reason(personas, request_as):
    view = staff(Role.ADMIN, forbidden="For clinic staff.")(_ok)
    with pytest.raises(PermissionDenied, match="For clinic staff."):
        view(request_as(personas.client_user))


# --- The JSON API is marked per endpoint ----------------------------------------------------


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def test_every_api_endpoint_carries_an_access_rule():
    api_routes = [(r, p) for r, p in _walk(get_resolver().url_patterns) if r.startswith("api/")]
    assert len(api_routes) >= 8
    for route, pattern in api_routes:
        assert isinstance(rule_for(pattern.callback), AccessRule), route


def test_an_api_endpoint_without_a_rule_stops_the_urls_loading():
    def new_api():
        return AllianceAPI(urls_namespace=f"test-{uuid.uuid4().hex}", docs_decorator=clinical_staff)

    marked_api = new_api()

    @marked_api.get("/marked")
    @endpoint(clinical_staff)
    def marked(request):
        return {}

    patterns = marked_api.urls[0]
    assert all(isinstance(rule_for(p.callback), AccessRule) for p in patterns)
    assert AccessRule("staff", CLINICAL_ROLES) in {rule_for(p.callback) for p in patterns}

    unmarked_api = new_api()

    @unmarked_api.get("/unmarked")
    def unmarked(request):
        return {}

    with pytest.raises(ImproperlyConfigured, match="without @endpoint"):
        unmarked_api.urls  # noqa: B018


# --- The care-team rule lives in one place --------------------------------------------------

# Pages and endpoints of one client (their only URL argument is the client's id). Pages that
# answer a POST only are asked by POST; the rest by GET.
API_CLIENT_ENDPOINTS = ["", "/measures", "/alliance", "/goals"]


def _client_pages():
    """Every clinician's page of one client (the admin's directory pages follow their own rule,
    ``in_clinic_directory``)."""
    pages = [
        (route, p.name)
        for route, p in _walk(get_resolver().url_patterns)
        if p.pattern.converters.keys() == {"client_id"}
        and not route.startswith("api/")
        and rule_for(p.callback).roles & CLINICAL_ROLES
    ]
    assert len(pages) >= 15, pages
    return pages


def _fetch(django_client, url):
    response = django_client.get(url)
    if response.status_code == 405:
        response = django_client.post(url)
    return response


def test_changing_the_care_team_rule_in_one_place_moves_every_page(client, personas, monkeypatch):
    sign_in(client, personas.therapist)
    urls = [reverse(name, args=[personas.client.pk]) for _, name in _client_pages()]
    api_urls = [f"/api/v1/clients/{personas.client.pk}{tail}" for tail in API_CLIENT_ENDPOINTS]
    before = {url: _fetch(client, url).status_code for url in urls + api_urls}
    reached = [url for url, status in before.items() if status not in (403, 404)]
    assert reached == list(before), before  # the client's therapist reaches every one today
    assert client.get("/api/v1/clients").json() != []

    # The rule now says nobody treats anybody: every page and endpoint follows.
    monkeypatch.setattr(
        ClientRecordQuerySet, "on_care_team_of", lambda self, user: self.none(), raising=True
    )
    after = {url: _fetch(client, url).status_code for url in before}
    assert after == dict.fromkeys(before, 404)
    assert client.get("/api/v1/clients").json() == []
    assert client.get(reverse("caseload")).content.decode().count("Cleo Client") == 0


def test_widening_the_care_team_rule_lets_a_colleague_into_every_page(
    client, personas, monkeypatch
):
    """No page keeps a care-team check of its own: when the one rule lets the whole clinic's
    clinicians in, a colleague reaches every page and endpoint of the client."""
    sign_in(client, personas.colleague)
    urls = [reverse(name, args=[personas.client.pk]) for _, name in _client_pages()]
    urls += [f"/api/v1/clients/{personas.client.pk}{tail}" for tail in API_CLIENT_ENDPOINTS]
    assert {url: _fetch(client, url).status_code for url in urls} == dict.fromkeys(urls, 404)

    def whole_clinic(self, user):
        membership = user.membership
        if membership is None or membership.role not in CLINICAL_ROLES:
            return self.none()
        return self.filter(clinic_id=membership.clinic_id)

    monkeypatch.setattr(ClientRecordQuerySet, "on_care_team_of", whole_clinic)
    after = {url: _fetch(client, url).status_code for url in urls}
    assert [url for url, status in after.items() if status in (403, 404)] == [], after
