"""The move of Alert into the alerts app, the alert_id foreign keys and the escalation time's move
to monitoring keep every stored value: migrate a database back to the old state, write rows
there, migrate forward and read them with today's models (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from alliance.alerts.models import Alert, AlertKind
from alliance.checkins.models import Concern
from alliance.goals.models import RankDisagreement
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode, SafetyNotice

# The last migration of each app before the move.
OLD = [
    ("alerts", None),
    ("monitoring", "0005_alert_job_indexes"),
    ("measures", "0002_item9_unknown_when_unanswered"),
    ("goals", "0002_task_status_follows_progress"),
    ("checkins", "0004_checkin_checkin_clinic_status_due"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_alert_rows_links_and_escalation_time_survive_the_move(personas):
    # Written with today's models, then carried back through every reverse migration.
    rupture, _ = Alert.raise_for(personas.client, AlertKind.RUPTURE, "Possible rupture", {"s": 1})
    episode = RuptureEpisode.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        start_session=3,
        lowest_session=3,
        alert=rupture,
    )
    notice = SafetyNotice.objects.create(
        clinic=personas.clinic,
        alert=rupture,
        source="safety",
        source_id=rupture.pk,
        channel="email",
        address="t@north.test",
        role="therapist",
    )
    try:
        old = _migrate(OLD)
        OldAlert = old.get_model("monitoring", "Alert")
        assert OldAlert.objects.get(pk=rupture.pk).reason == "Possible rupture"
        # Rows written in the old state: a safety alert, a concern and a rank disagreement
        # that point at alerts by bare id (one id points at no alert), an escalation time.
        safety = OldAlert.objects.create(
            clinic_id=personas.clinic.pk,
            client_id=personas.client.pk,
            kind="safety",
            severity=0,
            reason="PHQ-9 item 9 above 0",
            action_taken="",
        )
        concern = old.get_model("checkins", "Concern").objects.create(
            clinic_id=personas.clinic.pk,
            client_id=personas.client.pk,
            raised_by_id=personas.client_user.pk,
            topic="other",
            detail="",
            alert_id=safety.pk,
        )
        dangling = old.get_model("goals", "RankDisagreement").objects.create(
            clinic_id=personas.clinic.pk,
            client_id=personas.client.pk,
            detail="different first goal",
            alert_id=uuid.uuid4(),
        )
        old.get_model("measures", "MeasureSettings").objects.update_or_create(
            clinic_id=personas.other_clinic.pk, defaults={"escalation_hours": 9}
        )
    finally:
        _migrate(_latest())

    assert set(Alert.objects.values_list("pk", "kind")) == {
        (rupture.pk, "rupture"),
        (safety.pk, "safety"),
    }
    assert Alert.objects.get(pk=safety.pk).reason == "PHQ-9 item 9 above 0"
    assert RuptureEpisode.objects.get(pk=episode.pk).alert == rupture
    assert SafetyNotice.objects.get(pk=notice.pk).alert == rupture
    assert Concern.objects.get(pk=concern.pk).alert_id == safety.pk
    assert RankDisagreement.objects.get(pk=dangling.pk).alert is None
    assert MonitoringSettings.for_clinic(personas.other_clinic).escalation_hours == 9
    assert MonitoringSettings.for_clinic(personas.clinic).escalation_hours == 4
    assert ContentType.objects.get_for_model(Alert).app_label == "alerts"
    # The foreign key is real now: deleting the alert clears the link.
    Concern.objects.filter(pk=concern.pk).update(acknowledged_at=None)
    Alert.objects.filter(pk=safety.pk).delete()
    assert Concern.objects.get(pk=concern.pk).alert_id is None
