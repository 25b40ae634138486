"""The item-9 safety pathway end to end, with escalation through the real worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alliance.alerts.models import Alert
from alliance.core.models import AuditEvent
from alliance.monitoring.models import MonitoringSettings
from tests.conftest import run_worker, sign_in
from tests.measures.helpers import assign, phq9_post

pytestmark = pytest.mark.django_db

LOW_TOTAL_ITEM9 = [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
]  # total 1, "minimal": item 9 counts whatever the total


def submit_item9(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    url = reverse("measures_answer", args=[adm.pk])
    client.get(url)
    r = client.post(url, phq9_post(adm, LOW_TOTAL_ITEM9), follow=True)
    return adm, r


def test_item9_shows_crisis_resources_and_raises_one_alert(client, personas):
    personas.clinic.crisis_resources = "Call the North Clinic crisis line: 555-0100"
    personas.clinic.save()
    adm, r = submit_item9(client, personas)
    html = r.content.decode()
    assert "North Clinic crisis line: 555-0100" in html
    assert "not watched in real time" in html
    alert = Alert.objects.get()
    assert alert.kind == "safety" and alert.status == "open" and alert.client == personas.client
    assert "item 9" in alert.reason and "Cleo" not in alert.reason
    assert AuditEvent.objects.filter(
        record_type="safety_alert", action="create", client=personas.client
    ).exists()
    # A second positive answer attaches to the open alert instead of adding one.
    adm2 = assign(personas.client)
    client.post(reverse("measures_answer", args=[adm2.pk]), phq9_post(adm2, [1] * 9))
    alert.refresh_from_db()
    assert Alert.objects.filter(kind="safety").count() == 1 and len(alert.evidence) == 2
    # 1 -> 9 is a reliable deterioration: the not-on-track alert opens too.
    assert Alert.objects.filter(kind="not_on_track").count() == 1


def test_alert_stays_on_top_until_acknowledged_with_what_was_done(client, personas):
    submit_item9(client, personas)
    alert = Alert.objects.get()
    Alert.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        kind="not_on_track",
        severity=20,
        reason="PHQ-9 rose",
    )
    sign_in(client, personas.therapist)
    page = client.get(reverse("alert_list"))
    assert [a.kind for a in page.context["open_alerts"]] == ["safety", "not_on_track"]
    detail = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "SAFETY" in detail and reverse("alert_acknowledge", args=[alert.pk]) in detail
    url = reverse("alert_acknowledge", args=[alert.pk])
    r = client.post(url, {"action_taken": "  "})
    assert r.status_code == 400 and "record what was done" in r.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"
    r = client.post(
        url, {"action_taken": "Called the client; safety plan reviewed; next contact tomorrow."}
    )
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == personas.therapist
    assert alert.action_taken.startswith("Called the client")
    assert AuditEvent.objects.filter(record_type="safety_alert", action="acknowledge").exists()
    assert [a.kind for a in client.get(reverse("alert_list")).context["open_alerts"]] == [
        "not_on_track"
    ]


def test_outsiders_cannot_see_or_acknowledge(client, personas):
    submit_item9(client, personas)
    alert = Alert.objects.get()
    for user in (personas.colleague, personas.foreign_therapist, personas.supervisor):
        sign_in(client, user)
        assert alert not in client.get(reverse("alert_list")).context["open_alerts"]
        assert (
            client.post(
                reverse("alert_acknowledge", args=[alert.pk]), {"action_taken": "x"}
            ).status_code
            == 404
        )
    sign_in(client, personas.client_user)
    assert client.get(reverse("alert_list")).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


def test_unacknowledged_alert_escalates_through_the_worker(client, transactional_db, personas):
    submit_item9(client, personas)
    alert = Alert.objects.get()
    run_worker()  # the deferred escalation is not due yet; the immediate notice is sent
    assert [m.to for m in mail.outbox] == [["tess@north.test"]]
    mail.outbox.clear()
    Alert.objects.filter(pk=alert.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=4, minutes=1)
    )
    call_command("escalate_alerts", verbosity=0)  # enqueues the periodic check
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["adam@north.test", "sue@north.test"]
    body = message.subject + message.body
    for secret in (
        "Cleo",
        "Client",
        "cleo@client.test",
        str(personas.client.pk),
        personas.client.pseudonym,
    ):
        assert secret not in body
    assert "http://127.0.0.1:8000/alerts/" in body  # an absolute link (SITE_URL)
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    sends = AuditEvent.objects.filter(record_type="safety_alert", action="send")
    assert sorted(sends.values_list("note", flat=True)) == [
        "escalated to 2 supervisor(s)/admin(s)",
        "immediate notice to therapist by email",
    ]
    # Escalates once.
    call_command("escalate_alerts", verbosity=0)
    run_worker()
    assert len(mail.outbox) == 1
    sign_in(client, personas.supervisor)
    assert alert in client.get(reverse("alert_list")).context["escalated"]


def test_acknowledged_alert_does_not_escalate(client, personas, settings):
    submit_item9(client, personas)
    alert = Alert.objects.get()
    alert.acknowledge(personas.therapist, "Phoned; safe; plan agreed.")
    Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - dt.timedelta(hours=10))
    call_command("escalate_alerts", "--now", verbosity=0)
    assert mail.outbox == []


def test_clinic_escalation_hours_setting(client, personas):
    s = MonitoringSettings.for_clinic(personas.clinic)
    s.escalation_hours = 8
    s.save()
    submit_item9(client, personas)
    Alert.objects.update(created_at=timezone.now() - dt.timedelta(hours=5))
    call_command("escalate_alerts", "--now", verbosity=0)
    assert mail.outbox == []
    Alert.objects.update(created_at=timezone.now() - dt.timedelta(hours=8, minutes=1))
    call_command("escalate_alerts", "--now", verbosity=0)
    assert len(mail.outbox) == 1


def test_a_new_safety_alert_schedules_its_own_escalation(
    client, transactional_db, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit_item9(client, personas)
    alert = Alert.objects.get()
    task = DBTaskResult.objects.get(task_path__endswith="escalate_alert")
    assert task.run_after is not None
    assert abs((task.run_after - alert.created_at) - dt.timedelta(hours=4)) < dt.timedelta(
        seconds=5
    )
    # Four hours later the worker sends it without any cron run.
    Alert.objects.filter(pk=alert.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=4, seconds=1)
    )
    DBTaskResult.objects.filter(pk=task.pk).update(
        run_after=timezone.now() - dt.timedelta(seconds=1)
    )
    run_worker()
    assert sorted(m.subject for m in mail.outbox) == [
        "A safety alert has not been acknowledged",
        "Alliance: a safety alert needs attention now",  # the immediate notice
    ]
