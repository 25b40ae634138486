"""The demo clinic shows every PHQ-9 band, improvement, deterioration and a safety alert."""

from __future__ import annotations

import pytest

from alliance.alerts.models import Alert
from alliance.core.seeding import seed_demo
from alliance.measures.models import Administration, OutcomeResult, Response

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seeds the demo


def test_demo_measures():
    ctx = seed_demo()
    assert ctx is not None
    latest_bands = set()
    for client in ctx.clients:
        last = (
            Response.objects.filter(client=client, instrument_id="phq9")
            .order_by("-completed_at")
            .first()
        )
        if last:
            latest_bands.add(last.severity)
    assert latest_bands == {"minimal", "mild", "moderate", "moderately severe", "severe"}
    assert any("recovery" in o.statuses for o in OutcomeResult.objects.all())
    assert any("reliable deterioration" in o.statuses for o in OutcomeResult.objects.all())
    safety = Alert.objects.filter(kind="safety")
    assert (
        safety.filter(status="open").count() == 1
        and safety.filter(status="acknowledged").count() == 1
    )
    assert Alert.objects.filter(kind="not_on_track", status="open").count() >= 2
    assert Administration.objects.filter(client=ctx.clients[0], status="pending").count() == 2
