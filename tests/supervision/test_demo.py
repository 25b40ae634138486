"""The demo clinic has journal entries, shared items with comments and a populated report."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from alliance.accounts.models import Clinic
from alliance.core.seeding import DEMO_CLINIC_NAME
from alliance.reports import compute
from alliance.supervision.models import Comment, JournalEntry, SharedItem, SupervisionLink

pytestmark = pytest.mark.slow  # seeds the demo


def test_demo_clinic_has_supervision_material_and_a_populated_report(db):
    call_command("seed_demo")
    clinic = Clinic.objects.get(name=DEMO_CLINIC_NAME)
    assert JournalEntry.objects.filter(clinic=clinic).count() >= 3
    assert SupervisionLink.objects.active().filter(clinic=clinic).count() == 3
    assert (
        SharedItem.objects.filter(clinic=clinic).count() >= 3
        and Comment.objects.filter(clinic=clinic).count() >= 2
    )
    assert any(not item.identifiable() for item in SharedItem.objects.filter(clinic=clinic))
    report = compute.build_report(clinic)
    # Seeded relative to today: at a quarter boundary the figures may sit in the previous quarter.
    assert any(not c.suppressed for c in report.outcomes["reliable_improvement"].values())
    assert any(not c.suppressed for c in report.alliance.values())
    assert report.correlation is not None and not report.correlation.suppressed
