"""factory-boy factories for the shared test data: clinics, staff with a membership, clients
with their care team, consents.

Every field has a working default, so a test names only what it is about::

    therapist = StaffFactory(clinic=clinic, role=Role.THERAPIST, password="correct horse battery")
    record = ClientRecordFactory(clinic=clinic, care_team=[therapist])

Models are named as "app.Model" strings, so importing this module loads no models.
"""

from __future__ import annotations

from typing import Any

import factory
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from factory.django import DjangoModelFactory

from alliance.clients.models import ConsentText


class ClinicFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.Clinic"

    name = factory.Sequence(lambda n: f"Clinic {n}")


class UserFactory(DjangoModelFactory):
    """A user through ``create_user``: lower-cased email; no password means an unusable one."""

    class Meta:
        model = "accounts.User"
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password: str | None = None

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return model_class.objects.create_user(*args, **kwargs)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.Membership"

    clinic = factory.SubFactory(ClinicFactory)
    user = factory.SubFactory(UserFactory)
    role = "therapist"


class StaffFactory(UserFactory):
    """A staff member: a user with a membership in ``clinic`` and, unless ``mfa=False``, TOTP."""

    class Params:
        clinic = factory.SubFactory(ClinicFactory)
        role = "therapist"

    membership = factory.RelatedFactory(
        MembershipFactory,
        factory_related_name="user",
        clinic=factory.SelfAttribute("..clinic"),
        role=factory.SelfAttribute("..role"),
    )

    @factory.post_generation
    def mfa(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or extracted is False:
            return

        TOTP.activate(obj, generate_totp_secret())


class ClientRecordFactory(DjangoModelFactory):
    """A client record with a sign-in user of the same name; ``care_team``: therapists, the
    first one primary."""

    class Meta:
        model = "clients.ClientRecord"
        skip_postgeneration_save = True

    clinic = factory.SubFactory(ClinicFactory)
    full_name = factory.Sequence(lambda n: f"Client {n}")
    user = factory.SubFactory(
        UserFactory,
        full_name=factory.SelfAttribute("..full_name"),
        email=factory.Sequence(lambda n: f"client{n}@client.test"),
    )

    @factory.post_generation
    def care_team(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        for i, therapist in enumerate(extracted or []):
            CareTeamMemberFactory(client=obj, therapist=therapist, is_primary=i == 0)


class CareTeamMemberFactory(DjangoModelFactory):
    class Meta:
        model = "clients.CareTeamMember"

    client = factory.SubFactory(ClientRecordFactory)
    clinic = factory.SelfAttribute("client.clinic")
    therapist = factory.SubFactory(StaffFactory, clinic=factory.SelfAttribute("..clinic"))
    is_primary = False


class ConsentFactory(DjangoModelFactory):
    """A granted consent of ``kind``, on the consent text now in force."""

    class Meta:
        model = "clients.Consent"

    client = factory.SubFactory(ClientRecordFactory)
    clinic = factory.SelfAttribute("client.clinic")
    kind = "treatment"
    granted = True
    recorded_by = None

    @factory.lazy_attribute
    def text(self) -> Any:
        return ConsentText.current(self.kind)
