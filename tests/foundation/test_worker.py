"""Background work that survives faults, in one process: leases, heartbeats, outage retries,
/ready/, worker_check, and tasks that change nothing twice when they run twice.

The real-process scenarios (kill -9, a database outage) are in test_resilience.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from alliance.accounts.models import Role
from alliance.alerts.models import Alert, AlertKind
from alliance.checkins.models import CheckIn, CheckInPlan, CheckInSchedule
from alliance.checkins.tasks import check_in_cycle
from alliance.clients.models import BreakGlassAccess, TherapySession
from alliance.clients.tasks import notify_break_glass
from alliance.core import readiness
from alliance.core.management.commands import scheduler
from alliance.core.models import AuditEvent, IdempotencyKey, WorkerHeartbeat
from alliance.core.timezones import zone_for
from alliance.core.worker import (
    MAX_ATTEMPTS,
    Backoff,
    Heart,
    is_outage,
    prune_heartbeats,
    requeue_abandoned,
    task_progress,
)
from alliance.measures.models import AccessLink
from alliance.measures.tasks import email_questionnaire_link
from alliance.monitoring.tasks import escalate_alert, notify_unrepaired_rupture
from alliance.transcripts.models import Transcript
from alliance.transcripts.tasks import analyse_transcript
from tests.conftest import grant, run_worker, sign_in
from tests.foundation import resilience_tasks
from tests.measures.helpers import assign


def beat(worker_id: str, seconds_ago: float, kind: str = WorkerHeartbeat.Kind.WORKER) -> None:
    seen = timezone.now() - dt.timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"kind": kind, "host": "test", "pid": 1, "last_seen": seen}
    )


def running(task, worker_ids: list[str], started_seconds_ago: float) -> DBTaskResult:
    """Enqueue ``task`` and mark it claimed by ``worker_ids`` (the last one runs it)."""
    result = task.enqueue("lease")
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING,
        worker_ids=worker_ids,
        started_at=timezone.now() - dt.timedelta(seconds=started_seconds_ago),
    )
    return DBTaskResult.objects.get(pk=result.id)


def rerun(result_id: object) -> None:
    """What a lease expiry does to a task that had finished its work but not reported it."""
    DBTaskResult.objects.filter(pk=result_id).update(status=TaskResultStatus.READY)


# --- building blocks ---------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_reset():
    backoff = Backoff(first=1, cap=30)
    assert [backoff.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


def test_an_outage_is_recognised_through_the_exception_chain():
    assert is_outage(OperationalError("connection refused"))
    assert is_outage(InterfaceError("connection already closed"))
    try:
        try:
            raise OperationalError("terminating connection due to administrator command")
        except OperationalError as exc:
            raise RuntimeError("task gave up") from exc
    except RuntimeError as wrapped:
        assert is_outage(wrapped)
    assert not is_outage(ValueError("bad transcript"))


def test_a_heartbeat_is_one_row_per_process_kept_fresh_and_removed_on_a_clean_exit(db):
    heart = Heart("worker-a", WorkerHeartbeat.Kind.WORKER)
    heart.beat()
    first = WorkerHeartbeat.objects.get()
    assert (first.worker_id, first.kind, first.pid) == ("worker-a", "worker", heart.pid)
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - dt.timedelta(minutes=5))
    heart.beat()
    assert WorkerHeartbeat.objects.get().last_seen > timezone.now() - dt.timedelta(seconds=5)
    heart.stop()
    assert not WorkerHeartbeat.objects.exists()


def test_rows_of_processes_silent_for_a_day_are_forgotten(db):
    beat("killed-yesterday", seconds_ago=25 * 3600)
    beat("alive", seconds_ago=1)
    assert prune_heartbeats() == 1
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]
    assert prune_heartbeats() == 0


# --- leases ------------------------------------------------------------------------------------


def test_a_task_of_a_silent_worker_goes_back_to_the_queue_exactly_once(db, caplog):
    beat("dead", seconds_ago=400)
    task = running(resilience_tasks.record_run, ["dead"], started_seconds_ago=600)
    with caplog.at_level(logging.WARNING, logger="alliance.worker"):
        # Three live workers check at once: one of them re-queues it.
        results = [requeue_abandoned(300) for _ in range(3)]
    assert results == [[str(task.pk)], [], []]
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY and task.worker_ids == ["dead"]
    assert [r.getMessage() for r in caplog.records] == [
        f"Task {task.pk.hex} put back in the queue: its worker dead stopped sending heartbeats"
    ]


def test_a_long_task_on_a_live_worker_and_a_fresh_claim_are_left_alone(db):
    beat("alive", seconds_ago=3)
    long_task = running(resilience_tasks.record_run, ["alive"], started_seconds_ago=3600)
    # A worker that died seconds after claiming: its lease has not run out yet.
    fresh = running(resilience_tasks.record_run, ["gone"], started_seconds_ago=10)
    assert requeue_abandoned(300) == []
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.RUNNING}
    DBTaskResult.objects.filter(pk=fresh.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=301)
    )
    assert requeue_abandoned(300) == [str(fresh.pk)]
    long_task.refresh_from_db()
    assert long_task.status == TaskResultStatus.RUNNING


def test_a_task_whose_worker_keeps_dying_fails_for_good(db):
    task = running(
        resilience_tasks.record_run, [f"w{i}" for i in range(MAX_ATTEMPTS)], started_seconds_ago=900
    )
    assert requeue_abandoned(300) == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "alliance.core.worker.WorkerLost"


def test_a_requeued_task_runs_again_once(transactional_db):
    beat("dead", seconds_ago=400)
    task = running(resilience_tasks.record_run, ["dead"], started_seconds_ago=600)
    run_worker()  # a batch run checks leases first, then takes what is ready
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL and len(task.worker_ids) == 2
    assert resilience_tasks.runs("lease") == 1
    run_worker()
    assert resilience_tasks.runs("lease") == 1


# --- a database lost in the middle of a task ---------------------------------------------------


def test_a_task_that_lost_the_database_is_retried_not_failed(transactional_db, caplog):
    result = resilience_tasks.lose_database_once.enqueue("lost")
    with caplog.at_level(logging.INFO, logger="alliance.worker"):
        run_worker()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL, row.traceback
    assert len(row.worker_ids) == 2 and resilience_tasks.runs("lost") == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "alliance.worker"]
    assert len([m for m in messages if m.startswith("Database unavailable")]) == 1
    assert len([m for m in messages if m.startswith("Database reachable again after")]) == 1
    assert f"Task {row.pk.hex} put back in the queue after a database outage" in messages


# --- /ready/ -----------------------------------------------------------------------------------


def test_ready_names_each_check_and_wants_a_worker_and_a_scheduler(client, db, settings):
    readiness.reset()
    settings.READY_WORKER_MAX_AGE = 60
    response = client.get("/ready/")
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "error"
    assert {name: c["ok"] for name, c in body["checks"].items()} == {
        "database": True,
        "migrations": True,
        "worker": False,
        "scheduler": False,
    }
    assert body["checks"]["worker"]["detail"] == "no worker has ever reported"

    beat("w1", seconds_ago=90)
    beat("s1", seconds_ago=2, kind=WorkerHeartbeat.Kind.SCHEDULER)
    stale = client.get(reverse("ready")).json()["checks"]["worker"]
    assert not stale["ok"] and stale["detail"] == "last worker heartbeat 90 s ago (limit 60 s)"

    beat("w2", seconds_ago=5)
    response = client.get(reverse("ready"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["checks"]["worker"][
        "age_seconds"
    ] in (5, 6)


def test_ready_sets_no_cookie_writes_nothing_and_checks_migrations_once(client, db):
    readiness.reset()
    beat("w1", seconds_ago=1)
    beat("s1", seconds_ago=1, kind=WorkerHeartbeat.Kind.SCHEDULER)
    with CaptureQueriesContext(connection) as first:
        response = client.get("/ready/")
    assert response.status_code == 200
    assert not response.cookies and "Set-Cookie" not in response
    with CaptureQueriesContext(connection) as second:
        client.get("/ready/")
    for query in [*first.captured_queries, *second.captured_queries]:
        sql = query["sql"].lstrip().upper()
        assert sql.startswith(("SELECT", "SAVEPOINT", "RELEASE")), sql
    # The migration table is read once per process, not on every probe.
    assert any("django_migrations" in q["sql"] for q in first.captured_queries)
    assert not any("django_migrations" in q["sql"] for q in second.captured_queries)


# --- worker_check ------------------------------------------------------------------------------


def test_worker_check_without_a_worker_fails_in_time_with_one_line(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("worker_check", "--timeout", "0.5")
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == "No worker ran the probe task within 0.5 s."
    # The probe is withdrawn, so no worker runs it late.
    assert not DBTaskResult.objects.filter(task_path="alliance.core.tasks.probe").exists()


def test_worker_check_refuses_a_timeout_of_zero(db, capsys):
    with pytest.raises(SystemExit):
        call_command("worker_check", "--timeout", "0")
    assert capsys.readouterr().err.strip() == "--timeout must be more than 0 seconds."
    assert not DBTaskResult.objects.exists()


# --- every task changes nothing twice ----------------------------------------------------------


def run_twice(result_id: object) -> None:
    run_worker()
    assert DBTaskResult.objects.get(pk=result_id).status == TaskResultStatus.SUCCESSFUL
    rerun(result_id)
    run_worker()
    assert DBTaskResult.objects.get(pk=result_id).status == TaskResultStatus.SUCCESSFUL


def test_break_glass_email_is_sent_once_when_its_task_runs_twice(transactional_db, personas):
    access = BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="Emergency contact called; therapist unreachable",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    result = notify_break_glass.enqueue(str(access.pk))
    run_twice(result.id)
    assert len(mail.outbox) == 1
    assert IdempotencyKey.objects.filter(key=f"break-glass-email:{access.pk}").count() == 1


def test_questionnaire_link_is_issued_and_emailed_once_per_task(transactional_db, personas):
    adm = assign(personas.client)
    result = email_questionnaire_link.enqueue(str(adm.pk), str(personas.therapist.pk))
    run_twice(result.id)
    assert len(mail.outbox) == 1 and AccessLink.objects.count() == 1
    # Asking again is a new task, and a new email: the key is the task, not the questionnaire.
    email_questionnaire_link.enqueue(str(adm.pk), str(personas.therapist.pk))
    run_worker()
    assert len(mail.outbox) == 2 and AccessLink.objects.count() == 2


def test_unrepaired_rupture_email_and_its_audit_entry_happen_once(transactional_db, personas):
    assert personas.supervisor.membership.role == Role.SUPERVISOR
    grant(personas.client, "supervision", personas.therapist)
    alert, _ = Alert.raise_for(personas.client, AlertKind.UNREPAIRED_RUPTURE, "Not repaired.", {})
    Alert.objects.filter(pk=alert.pk).update(escalated_to="supervisor", escalated_at=timezone.now())
    result = notify_unrepaired_rupture.enqueue(str(alert.pk))
    run_twice(result.id)
    assert [m.to for m in mail.outbox] == [["sue@north.test"]]
    assert AuditEvent.objects.filter(record_type="rupture_episode", action="send").count() == 1


def test_safety_escalation_is_sent_once_when_its_task_runs_twice(transactional_db, personas):
    alert, _ = Alert.raise_for(personas.client, AlertKind.SAFETY, "Item 9 above 0.", {})
    Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    result = escalate_alert.enqueue(str(alert.pk))
    run_twice(result.id)
    assert len(mail.outbox) == 1 and sorted(mail.outbox[0].to) == [
        "adam@north.test",
        "sue@north.test",
    ]


def test_check_in_cycle_run_twice_creates_reminds_and_tells_once(transactional_db, personas):
    client = personas.client
    now = timezone.now()
    schedule = CheckInSchedule.objects.create(
        clinic=client.clinic,
        client=client,
        cadence=CheckInSchedule.Cadence.DAILY,
        start_date=(now - dt.timedelta(days=10)).date(),
        due_time=dt.time(0, 0),
    )
    plan = CheckInPlan.for_client(client)
    plan.quiet_start = plan.quiet_end = dt.time(0, 0)  # no quiet hours: the test runs at any hour
    plan.notify_after_misses = 2
    plan.window_hours = 24
    plan.save()
    # Two missed in a row: the care team is told once.
    for days in (3, 2):
        CheckIn.objects.create(
            clinic=client.clinic,
            client=client,
            schedule=schedule,
            due_at=now - dt.timedelta(days=days),
        )
    result = check_in_cycle.enqueue(now.isoformat())
    run_twice(result.id)
    due = CheckIn.objects.filter(status=CheckIn.Status.DUE)
    assert due.count() == 1 and due.get().reminders_sent == 1
    assert CheckIn.objects.filter(status=CheckIn.Status.MISSED).count() == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "A client on your caseload has missed check-ins",
        "A short check-in is waiting for you",
    ]


def test_transcript_analysis_run_twice_stores_one_analysis(transactional_db, personas):
    transcript = make_queued_transcript(personas)
    result = analyse_transcript.enqueue(str(transcript.pk))
    run_worker()
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.DONE
    first = (transcript.analysed_at, transcript.analysis)
    rerun(result.id)
    run_worker()
    transcript.refresh_from_db()
    assert (transcript.analysed_at, transcript.analysis) == first


# --- the transcript page tells the truth about its job -----------------------------------------

TRANSCRIPT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Dr Rivera>How has the week been since we last met?

00:00:05.000 --> 00:00:09.000
<v Sam>Hard. I stayed in bed most days and skipped work twice.

00:00:10.000 --> 00:00:14.000
<v Dr Rivera>So getting up has felt almost impossible this week.
"""


def make_queued_transcript(personas):
    session = TherapySession.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        therapist=personas.therapist,
        number=1,
        scheduled_at=timezone.now() - dt.timedelta(days=1),
        status=TherapySession.Status.ATTENDED,
    )
    return Transcript.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        session=session,
        uploaded_by=personas.therapist,
        filename="session.vtt",
        file_format="vtt",
        text=TRANSCRIPT,
        therapist_speaker="Dr Rivera",
        status=Transcript.Status.QUEUED,
    )


def test_the_transcript_page_says_whether_its_analysis_waits_runs_or_will_be_retried(
    client, db, personas, settings
):
    settings.TASK_LEASE_SECONDS = 300
    transcript = make_queued_transcript(personas)
    result = analyse_transcript.enqueue(str(transcript.pk))
    transcript.analysis_task_id = uuid.UUID(result.id)
    transcript.save(update_fields=["analysis_task_id"])
    sign_in(client, personas.therapist)
    url = reverse("transcript_feedback", args=[personas.client.pk, transcript.pk])

    def status_text() -> str:
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return " ".join(response.content.decode().split())

    text = status_text()
    assert (
        "Waiting for a worker: queued" in text
        and "No background worker is running right now" in text
    )

    beat("w1", seconds_ago=2)
    assert "No background worker" not in status_text()

    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING,
        worker_ids=["w1"],
        started_at=timezone.now() - dt.timedelta(seconds=30),
    )
    assert "A worker is analysing it now." in status_text()

    # Its worker went silent 200 s ago: another worker takes it over when the lease is up.
    beat("w1", seconds_ago=200)
    progress = task_progress(result.id)
    assert (
        progress is not None and progress.state == "interrupted" and progress.retry_by is not None
    )
    # Pages show times in the viewer's own zone.
    local = timezone.localtime(progress.retry_by, zone_for(personas.therapist)).strftime("%H:%M")
    assert f"Analysis interrupted; it will be retried automatically by {local}." in status_text()

    # The lease ran out and the task is back in the queue, with no worker alive.
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.READY)
    assert "retried automatically when a background worker is running again" in status_text()
    beat("w2", seconds_ago=1)
    assert (
        "back in the queue and will be retried automatically as soon as a worker is free"
        in status_text()
    )

    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.FAILED)
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert b"could not be completed" in response.content and b"hx-trigger" not in response.content


# --- the scheduler -----------------------------------------------------------------------------


@pytest.mark.real_settings  # the claim in the database cache, as in production
def test_a_failed_enqueue_leaves_the_slot_for_the_next_try(db, monkeypatch):
    def broken() -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(scheduler, "jobs", lambda: [("probe", 900, broken)])
    with pytest.raises(OperationalError):
        scheduler.run_due(1_800_000_000.0)
    monkeypatch.setattr(scheduler, "jobs", lambda: [("probe", 900, lambda: None)])
    assert scheduler.run_due(1_800_000_000.0) == ["probe"]


def test_the_scheduler_records_its_heartbeat(db):
    call_command("scheduler", "--once", verbosity=0)
    assert WorkerHeartbeat.objects.filter(kind=WorkerHeartbeat.Kind.SCHEDULER).count() == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TASK_LEASE_SECONDS", "0", "TASK_LEASE_SECONDS must be at least 1 second."),
        ("READY_WORKER_MAX_AGE", "-5", "READY_WORKER_MAX_AGE must be at least 1 second."),
        (
            "WORKER_HEARTBEAT_SECONDS",
            "-1",
            "WORKER_HEARTBEAT_SECONDS must be 0 (automatic) or more.",
        ),
        ("TASK_LEASE_SECONDS", "five", "TASK_LEASE_SECONDS must be a whole number, not 'five'."),
    ],
)
def test_a_bad_lease_or_heartbeat_setting_is_refused_by_name(name, value, message):
    env = {**os.environ, name: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "alliance", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
