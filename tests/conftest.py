"""Shared fixtures: one persona set for access tests (conventions.md).

Personas: the client's therapist, a colleague in the same clinic, a therapist in another
clinic, the client, another client, a supervisor, a clinic admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command

from alliance.accounts.models import Role
from tests.factories import ClientRecordFactory, ClinicFactory, ConsentFactory, StaffFactory

if TYPE_CHECKING:  # imported lazily so Django-free suites run with -p no:django
    from alliance.accounts.models import Clinic, User
    from alliance.clients.models import ClientRecord, Consent


@dataclass
class Personas:
    clinic: Clinic
    other_clinic: Clinic
    therapist: User
    colleague: User
    foreign_therapist: User
    supervisor: User
    admin: User
    client_user: User
    other_client_user: User
    client: ClientRecord
    other_client: ClientRecord
    foreign_client: ClientRecord

    def all(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "therapist": self.therapist,
            "colleague": self.colleague,
            "foreign_therapist": self.foreign_therapist,
            "supervisor": self.supervisor,
            "admin": self.admin,
            "client": self.client_user,
            "other_client": self.other_client_user,
        }


def make_staff(
    clinic: Clinic, role: str, name: str, email: str, password: str | None = None, mfa: bool = True
) -> User:
    return StaffFactory(
        clinic=clinic, role=role, full_name=name, email=email, password=password, mfa=mfa
    )


def make_client(clinic: Clinic, name: str, email: str, therapists: list[User]) -> ClientRecord:
    return ClientRecordFactory(
        clinic=clinic, full_name=name, user__email=email, care_team=therapists
    )


def grant(record: ClientRecord, kind: str, by: User) -> Consent:
    return ConsentFactory(client=record, kind=kind, recorded_by=by)


@pytest.fixture
def personas(db: Any) -> Personas:
    clinic = ClinicFactory(name="North Clinic")
    other = ClinicFactory(name="South Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Tess Therapist", "tess@north.test", "correct horse battery"
    )
    colleague = make_staff(clinic, Role.THERAPIST, "Colin Colleague", "colin@north.test")
    supervisor = make_staff(clinic, Role.SUPERVISOR, "Sue Supervisor", "sue@north.test")
    admin = make_staff(clinic, Role.ADMIN, "Adam Admin", "adam@north.test")
    foreign = make_staff(other, Role.THERAPIST, "Fay Foreign", "fay@south.test")
    client = make_client(clinic, "Cleo Client", "cleo@client.test", [therapist])
    other_client = make_client(clinic, "Otto Other", "otto@client.test", [colleague])
    foreign_client = make_client(other, "Flo Faraway", "flo@client.test", [foreign])
    grant(client, "treatment", therapist)
    return Personas(
        clinic=clinic,
        other_clinic=other,
        therapist=therapist,
        colleague=colleague,
        foreign_therapist=foreign,
        supervisor=supervisor,
        admin=admin,
        client_user=client.user,
        other_client_user=other_client.user,
        client=client,
        other_client=other_client,
        foreign_client=foreign_client,
    )


def run_worker() -> None:
    """Run every queued background task once, through the real ``db_worker`` command.

    The worker opens and closes its own connections, as in production, so tests that use it
    commit their data (``transactional_db`` / ``django_db(transaction=True)``).
    """

    call_command(
        "db_worker",
        "--batch",
        "--queue-name",
        "*",
        "--no-startup-delay",
        "--no-reload",
        verbosity=0,
    )


def sign_in(django_client, user: User | None) -> None:
    """Sign in as `user` as if they had passed password and MFA (or the emailed link)."""
    django_client.logout()
    if user is None:
        return
    backend = (
        "sesame.backends.ModelBackend"
        if user.membership is None
        else "allauth.account.auth_backends.AuthenticationBackend"
    )
    django_client.force_login(user, backend=backend)


@pytest.fixture
def as_user(client):
    def _as(user: User | None):
        sign_in(client, user)
        return client

    return _as


# --- The persona matrix: expected status per persona (302 = sent to sign in) ----------------
def _expect(**overrides: int) -> dict[str, int]:
    base = {
        "anonymous": 302,
        "therapist": 404,
        "colleague": 404,
        "foreign_therapist": 404,
        "supervisor": 404,
        "admin": 404,
        "client": 404,
        "other_client": 404,
    }
    return {**base, **overrides}


CARE_TEAM_ONLY = _expect(therapist=200)
ADMIN_ONLY = _expect(admin=200)
ADMIN_AND_SUPERVISOR = _expect(admin=200, supervisor=200)
CLINICIANS = _expect(therapist=200, colleague=200, foreign_therapist=200, supervisor=200)
ALL_STAFF = {**CLINICIANS, "admin": 200}
CLIENTS_OWN = _expect(client=200, other_client=200)
THIS_CLIENT_ONLY = _expect(client=200)


def assert_persona_matrix(
    django_client: Any, personas: Personas, url: str, expected: dict[str, int]
) -> None:
    """GET ``url`` as every persona; refused personas must not learn the client's name."""
    for persona, user in personas.all().items():
        sign_in(django_client, user)
        response = django_client.get(url)
        assert response.status_code == expected[persona], (url, persona, response.status_code)
        if response.status_code == 404:
            assert b"Cleo" not in response.content
