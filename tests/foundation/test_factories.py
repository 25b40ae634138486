"""The factory-boy factories behind the shared test data (tests/factories.py)."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from tests.factories import ClientRecordFactory, StaffFactory


@pytest.mark.django_db
def test_factories_build_staff_and_clients_with_a_care_team():
    lead = StaffFactory()
    assert lead.membership is not None and lead.membership.role == "therapist"
    second = StaffFactory(clinic=lead.membership.clinic, role="supervisor", mfa=False)
    assert second.membership is not None and second.membership.role == "supervisor"
    assert Authenticator.objects.filter(user=lead, type=Authenticator.Type.TOTP).exists()
    assert not Authenticator.objects.filter(user=second).exists()
    record = ClientRecordFactory(clinic=lead.membership.clinic, care_team=[lead, second])
    assert record.user is not None and record.user.full_name == record.full_name
    assert not record.user.has_usable_password()
    team = {(m.therapist, m.is_primary, m.clinic_id) for m in record.care_team.all()}
    assert team == {(lead, True, record.clinic_id), (second, False, record.clinic_id)}
