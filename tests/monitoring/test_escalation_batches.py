"""Overdue safety alerts are escalated in set-based batches: once each, audited on the clinic's
chain, with each clinic's own escalation time, and with the same number of queries for 3
alerts as for 12."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.alerts.models import Alert
from alliance.core.audit import verify_chain
from alliance.core.models import AuditEvent
from alliance.monitoring.models import MonitoringSettings
from alliance.monitoring.tasks import escalate_alert, escalate_overdue
from tests.conftest import make_client, make_staff

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def safety_alerts(clinic, therapist, size, hours_ago, tag=""):
    out = []
    for i in range(size):
        c = make_client(clinic, f"Safe {tag}{i}", f"safe{tag}{size}.{i}@client.test", [therapist])
        alert, _ = Alert.raise_for(c, "safety", "PHQ-9 item 9", {})
        out.append(alert)
    Alert.objects.filter(pk__in=[a.pk for a in out]).update(
        created_at=NOW - dt.timedelta(hours=hours_ago)
    )
    return out


def test_batches_escalate_each_overdue_alert_once_with_its_clinics_time(personas):
    make_staff(personas.other_clinic, Role.SUPERVISOR, "Sam South", "sam@south.test")
    north = safety_alerts(personas.clinic, personas.therapist, 3, hours_ago=5)
    south = safety_alerts(
        personas.other_clinic, personas.foreign_therapist, 2, hours_ago=5, tag="s"
    )
    fresh = safety_alerts(personas.clinic, personas.therapist, 1, hours_ago=1, tag="f")
    acknowledged = safety_alerts(personas.clinic, personas.therapist, 1, hours_ago=9, tag="a")[0]
    acknowledged.acknowledge(personas.therapist, "Phoned; safe.")
    MonitoringSettings.objects.filter(clinic=personas.other_clinic).delete()
    ms = MonitoringSettings.for_clinic(personas.other_clinic)
    ms.escalation_hours = 6  # the south clinic waits longer
    ms.save()
    assert escalate_overdue(NOW, batch_size=2) == 3
    assert len(mail.outbox) == 3
    assert all(sorted(m.to) == ["adam@north.test", "sue@north.test"] for m in mail.outbox)
    assert all("North Clinic" in m.body and "5 hours" in m.body for m in mail.outbox)
    escalated = set(Alert.objects.filter(escalated_at__isnull=False).values_list("pk", flat=True))
    assert escalated == {a.pk for a in north}
    assert escalate_overdue(NOW, batch_size=2) == 0 and len(mail.outbox) == 3  # never twice
    assert escalate_overdue(NOW + dt.timedelta(hours=1, minutes=1)) == 2
    assert [m.to for m in mail.outbox[3:]] == [["sam@south.test"]] * 2
    assert not Alert.objects.filter(
        pk__in=[fresh[0].pk, acknowledged.pk], escalated_at__isnull=False
    ).exists()
    events = AuditEvent.objects.filter(record_type="safety_alert", action="send")
    assert (
        sorted(events.values_list("note", flat=True))
        == ["escalated to 1 supervisor(s)/admin(s)"] * 2
        + ["escalated to 2 supervisor(s)/admin(s)"] * 3
    )
    assert {e.client_id for e in events} == {a.client_id for a in north + south}
    assert verify_chain() == []


def test_the_deferred_single_escalation_shares_the_batch_path(personas):
    (alert,) = safety_alerts(personas.clinic, personas.therapist, 1, hours_ago=5)
    assert escalate_alert.call(str(alert.pk)) == 2
    assert escalate_alert.call(str(alert.pk)) == 0
    assert len(mail.outbox) == 1


def escalation_queries(personas, size):
    with transaction.atomic():
        therapist = make_staff(
            personas.other_clinic, Role.THERAPIST, f"E {size}", f"e{size}@south.test"
        )
        make_staff(personas.other_clinic, Role.SUPERVISOR, f"S {size}", f"s{size}@south.test")
        MonitoringSettings.for_clinic(personas.other_clinic)
        safety_alerts(personas.other_clinic, therapist, size, hours_ago=5, tag="q")
        with CaptureQueriesContext(connection) as first:
            assert escalate_overdue(NOW) == size
        with CaptureQueriesContext(connection) as second:
            assert escalate_overdue(NOW) == 0
        assert len(mail.outbox) == size
        transaction.set_rollback(True)
    mail.outbox.clear()
    return len(first), len(second)


def test_query_count_does_not_grow_with_alerts(personas):
    assert escalation_queries(personas, 3) == escalation_queries(personas, 12)
