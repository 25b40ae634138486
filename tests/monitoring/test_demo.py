"""The demo clinic has repaired and unrepaired ruptures, a disengaging client and a disagreement."""

from __future__ import annotations

import pytest

from alliance.alerts.models import Alert
from alliance.core.seeding import seed_demo
from alliance.monitoring.models import RuptureEpisode

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seeds the demo


def test_demo_monitoring():
    ctx = seed_demo()
    assert ctx is not None
    repaired_client, unrepaired_client, drifting, disagreeing = (
        ctx.clients[i] for i in (18, 19, 20, 21)
    )
    repaired = RuptureEpisode.objects.get(client=repaired_client)
    assert (repaired.status, repaired.start_session, repaired.end_session) == ("repaired", 6, 8)
    assert "concern" in repaired.rules and repaired.repair_approaches and repaired.repair_note
    assert repaired.concerns.count() == 1 and repaired.alert.status == "closed"
    unrepaired = RuptureEpisode.objects.get(client=unrepaired_client)
    assert unrepaired.status == "unrepaired" and unrepaired.escalated_to == "supervisor"
    assert (
        Alert.objects.get(client=unrepaired_client, kind="unrepaired_rupture").escalated_at
        is not None
    )
    disengagement = Alert.objects.get(client=drifting, kind="disengagement", status="open")
    assert set(disengagement.rules) >= {
        "missed_sessions",
        "long_gap",
        "check_ins_falling",
        "low_early_alliance",
    }
    assert Alert.objects.filter(client=disagreeing, kind="disagreement", status="open").exists()
    assert RuptureEpisode.objects.get(client=disagreeing).status == "open"
    # Supervision's demo histories (seeded later, through the same write path) add more episodes.
    assert RuptureEpisode.objects.filter(status="repaired").count() > 1
    assert RuptureEpisode.objects.filter(status="unrepaired").count() > 1
