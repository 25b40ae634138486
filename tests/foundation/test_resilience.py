"""Real processes, real faults, on PostgreSQL: a worker killed with ``kill -9`` mid-analysis, a
database outage of about 10 s under a worker, a scheduler and a web server taking check-ins,
and ``worker_check`` against a running worker.

Each process is ``python -m alliance …`` on this test's own database (the pytest-django test
database, so the tests use ``transactional_db`` and commit their data). The outage blocks new
connections to that database and ends the open ones, from a connection to the ``postgres``
maintenance database, then allows them again.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from alliance.checkins.models import CheckIn, CheckInLink, CheckInResponse, CheckInSchedule
from alliance.transcripts.models import Transcript
from alliance.transcripts.tasks import analyse_transcript
from tests.foundation import resilience_tasks
from tests.foundation.test_demo_process import free_port
from tests.foundation.test_worker import make_queued_transcript

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.real_process,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="signals and process groups as on Linux"),
]


@pytest.fixture
def postgres(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: several processes share the test database, and the outage is made "
            "by blocking connections to it (run with DATABASE_URL=postgres://…)"
        )


def database_url() -> str:
    s = connection.settings_dict
    auth = urllib.parse.quote(s["USER"] or "postgres")
    if s["PASSWORD"]:
        auth += ":" + urllib.parse.quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Proc:
    """One ``alliance`` command in its own process, its output in a file."""

    def __init__(self, tmp_path: Path, name: str, *args: str, **env: str) -> None:
        self.log_path = tmp_path / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        environ = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
            "WORKER_HEARTBEAT_SECONDS": "1",
            **env,
        }
        environ.pop("DJANGO_SETTINGS_MODULE", None)
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "alliance", *args],
            cwd=ROOT,
            env=environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._log.close()


@pytest.fixture
def procs(tmp_path):
    started: list[Proc] = []

    def start(name: str, *args: str, **env: str) -> Proc:
        proc = Proc(tmp_path, name, *args, **env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def worker(procs, name: str, **env: str) -> Proc:
    return procs(
        name,
        "db_worker",
        "--queue-name",
        "*",
        "--no-reload",
        "--interval",
        "0.2",
        "--worker-id",
        name,
        **env,
    )


def wait_for(condition, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def status_of(result_id: object) -> str:
    return DBTaskResult.objects.values_list("status", flat=True).get(pk=result_id)


# --- kill -9 during an analysis ------------------------------------------------------------------


def long_transcript(cues: int) -> str:
    def ts(sec: int) -> str:
        return f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.000"

    lines = ["WEBVTT", ""]
    for i in range(cues):
        text = (
            "How has the week been since we last met?"
            if i % 2 == 0
            else "Hard. I stayed in bed most days."
        )
        lines += [
            f"{ts(i)} --> {ts(i)[:-4]}.900",
            f"<v {'Dr Rivera' if i % 2 == 0 else 'Sam'}>{text}",
            "",
        ]
    return "\n".join(lines)


def test_a_worker_killed_mid_analysis_hands_the_job_over_after_the_lease(postgres, personas, procs):
    transcript = make_queued_transcript(personas)
    # Long enough (seconds of analysis) to be killed in the middle of it.
    Transcript.objects.filter(pk=transcript.pk).update(text=long_transcript(6000))
    result = analyse_transcript.enqueue(str(transcript.pk))
    Transcript.objects.filter(pk=transcript.pk).update(analysis_task_id=result.id)

    first = worker(procs, "first", TASK_LEASE_SECONDS="3")
    wait_for(
        lambda: status_of(result.id) == TaskResultStatus.RUNNING,
        40,
        "the first worker to start the analysis",
    )
    first.popen.send_signal(signal.SIGKILL)
    first.popen.wait(timeout=5)
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.QUEUED, "the analysis finished before the kill"
    assert status_of(result.id) == TaskResultStatus.RUNNING  # left claimed by a dead worker

    second = worker(procs, "second", TASK_LEASE_SECONDS="3")
    wait_for(
        lambda: status_of(result.id) == TaskResultStatus.SUCCESSFUL,
        50,
        "the second worker to finish it",
    )
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.worker_ids == ["first", "second"]
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.DONE and transcript.analysed_at is not None
    assert transcript.metrics["counts"]["questions"] >= 1
    assert (
        f"Task {row.pk.hex} put back in the queue: its worker first stopped sending heartbeats"
        in second.log()
    )
    assert second.alive


# --- a database outage of about 10 s -------------------------------------------------------------


def maintenance(sql: str, *params: object) -> None:
    """Run ``sql`` on the ``postgres`` database, as the database owner would."""

    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        password=s["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql, params)


def block_database(name: str) -> None:
    maintenance(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    maintenance("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)


def allow_database(name: str) -> None:
    maintenance(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    """Status and body; 0 when nothing answered (not started yet, or no answer in time)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


class CheckInClient:
    """A client's browser answering emailed check-in links (a cookie jar, the CSRF token)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.csrf = ""

    def open_form(self, token: str) -> None:
        with self.opener.open(f"{self.base}/check-in/?t={token}", timeout=10) as response:
            page = response.read().decode()
        self.csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def submit(self, token: str, mood: int) -> int:
        data = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": self.csrf,
                "t": token,
                "mood": mood,
                "note": "",
                "key": str(uuid.uuid4()),
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/check-in/", data=data, headers={"Referer": f"{self.base}/check-in/"}
        )
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def due_check_ins(personas, count: int) -> list[tuple[object, str]]:
    """``count`` due check-ins for the client, each with its emailed link token."""

    client = personas.client
    now = timezone.now()
    # Inactive: the scheduler's check-in cycle leaves it alone while the test runs.
    schedule = CheckInSchedule.objects.create(
        clinic=client.clinic,
        client=client,
        cadence=CheckInSchedule.Cadence.DAILY,
        start_date=now.date(),
        due_time=dt.time(0, 0),
        active=False,
    )
    made = []
    for i in range(count):
        check_in = CheckIn.objects.create(
            clinic=client.clinic,
            client=client,
            schedule=schedule,
            due_at=now - dt.timedelta(minutes=10 + i),
        )
        made.append((check_in.pk, CheckInLink.issue(check_in, now)[1]))
    return made


def test_worker_scheduler_and_web_outlive_a_database_outage(postgres, personas, procs):
    name = connection.settings_dict["NAME"]
    check_ins = due_check_ins(personas, 40)
    before = [resilience_tasks.record_run.enqueue(f"before-{i}") for i in range(3)]
    midrun = resilience_tasks.slow_record_run.enqueue("midrun", 6)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = procs("web", "runserver", "--noreload", f"127.0.0.1:{port}")
    work = worker(procs, "outage-worker")
    sched = procs("scheduler", "scheduler", "--interval", "5")
    wait_for(lambda: get(f"{base}/ready/", timeout=2)[0] == 200, 60, "/ready/ to answer 200", 0.5)
    wait_for(lambda: status_of(midrun.id) == TaskResultStatus.RUNNING, 20, "the slow task to start")

    browser = CheckInClient(base)
    browser.open_form(check_ins[0][1])
    answers: dict[object, tuple[int | str, float]] = {}

    def submit_all() -> None:
        for i, (check_in_id, token) in enumerate(check_ins):
            started = time.monotonic()
            try:
                outcome: int | str = browser.submit(token, mood=i % 11)
            except OSError as exc:  # a hang or a dropped connection, not an HTTP answer
                outcome = type(exc).__name__
            answers[check_in_id] = (outcome, time.monotonic() - started)
            time.sleep(0.4)

    submitter = threading.Thread(target=submit_all)
    submitter.start()
    time.sleep(1)
    soon = timezone.now() + dt.timedelta(seconds=3)  # these fall due during the outage
    during = [
        resilience_tasks.record_run.using(run_after=soon).enqueue(f"during-{i}") for i in range(3)
    ]
    connection.close()
    block_database(name)
    try:
        outage_started = time.monotonic()
        ready_during = get(f"{base}/ready/")
        time.sleep(max(0.0, 10 - (time.monotonic() - outage_started)))
    finally:
        allow_database(name)
    submitter.join(timeout=60)

    # The web process answered during the outage, fast and honestly.
    assert ready_during[0] == 503, ready_during
    assert b'"database": {"ok": false' in ready_during[1]
    wait_for(
        lambda: get(f"{base}/ready/", timeout=2)[0] == 200, 40, "/ready/ to answer 200 again", 0.5
    )

    # Every task enqueued before the outage, running through it or due during it ran once.
    tasks = [*before, midrun, *during]
    wait_for(
        lambda: all(status_of(t.id) == TaskResultStatus.SUCCESSFUL for t in tasks),
        40,
        "every task to finish",
        0.5,
    )
    for tag in [f"before-{i}" for i in range(3)] + ["midrun"] + [f"during-{i}" for i in range(3)]:
        assert resilience_tasks.runs(tag) == 1, tag
    assert len(DBTaskResult.objects.get(pk=midrun.id).worker_ids) == 2  # put back, then run again

    # Worker and scheduler stayed up and logged the outage once each.
    assert work.alive and sched.alive and web.alive
    for proc in (work, sched):
        log = proc.log()
        assert log.count("Database unavailable (") == 1, log
        assert log.count("Database reachable again after") == 1, log
        assert "Traceback" not in log, log

    # No acknowledged check-in lost or stored twice; failures were answered, not left hanging.
    assert len(answers) == len(check_ins)
    acknowledged = [pk for pk, (outcome, _) in answers.items() if outcome == 200]
    refused = {pk: outcome for pk, (outcome, _) in answers.items() if outcome != 200}
    assert acknowledged and refused, answers
    assert all(isinstance(outcome, int) and outcome >= 500 for outcome in refused.values()), refused
    assert max(seconds for _, seconds in answers.values()) < 15
    stored = {pk: CheckInResponse.objects.filter(check_in_id=pk).count() for pk, _ in check_ins}
    assert all(stored[pk] == 1 for pk in acknowledged), stored
    assert all(count <= 1 for count in stored.values()), stored


# --- worker_check --------------------------------------------------------------------------------


def alliance(*args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "alliance", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_worker_check_passes_with_a_worker_and_fails_in_time_without(postgres, procs):
    started = time.monotonic()
    none = alliance("worker_check", "--timeout", "2", timeout=60)
    assert none.returncode == 1 and none.stdout == ""
    assert none.stderr.strip() == "No worker ran the probe task within 2 s."
    assert time.monotonic() - started < 30

    runner = worker(procs, "checked-worker")
    ok = alliance("worker_check", "--timeout", "40", timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert re.fullmatch(
        r"Worker checked-worker ran the probe task in \d+\.\d\d s\.\n", ok.stdout
    ), ok.stdout
    assert runner.alive
