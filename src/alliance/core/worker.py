"""Background work that survives faults: database outages, killed workers, re-runs.

``alliance db_worker`` runs :class:`ResilientWorker`, django-tasks-db's worker with three
additions:

- **Outages.** When the database goes away the worker closes the broken connection and tries
  again with exponential back-off (1 s doubling to 30 s). It logs one warning when the outage
  starts and one line when it ends, with its duration. A task that failed because the database
  went away mid-run is put back in the queue, not marked failed (up to ``MAX_ATTEMPTS`` runs).
- **Heartbeats.** A thread records the worker's heartbeat (:class:`WorkerHeartbeat`) every few
  seconds, also while a long task runs. The scheduler records one too. ``/ready/`` reads them.
- **Leases.** A RUNNING task whose worker has not beaten for ``TASK_LEASE_SECONDS`` (killed with
  ``kill -9``, machine lost) is put back to READY by whichever live worker sees it first. The
  update is conditional on the task still being RUNNING since the same start, so with several
  workers exactly one re-queues it and it runs again once.

A re-run must change nothing twice, so every task is idempotent (see each ``tasks.py``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max

from alliance.core.models import WorkerHeartbeat

logger = logging.getLogger("alliance.worker")


def task_ref(task_id: object) -> str:
    """A task id for the log. It names a queue row, not a person, so it is written as 32 hex
    digits, the form the log redaction of record UUIDs leaves readable for the operator."""
    return uuid.UUID(str(task_id)).hex


OUTAGE_ERRORS = (OperationalError, InterfaceError)
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
# A task that loses its database or its worker this many times is marked failed for good.
MAX_ATTEMPTS = 5
# While SQLite's single write lock is held by someone else, a heartbeat is skipped rather than
# queued behind the writer: the next one comes soon and the lease is many beats long.
SQLITE_HEARTBEAT_LOCK_WAIT_MS = 250


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped while running it, too many times."""


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database could not be reached or used."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def heartbeat_interval() -> float:
    """Seconds between heartbeats: short enough for the lease and /ready/, rare on SQLite."""
    every = float(settings.WORKER_HEARTBEAT_SECONDS) or (
        30.0 if connection.vendor == "sqlite" else 5.0
    )
    return max(0.5, min(every, settings.TASK_LEASE_SECONDS / 3, settings.READY_WORKER_MAX_AGE / 3))


class Backoff:
    """Exponential back-off: 1, 2, 4 … seconds, capped."""

    def __init__(
        self, first: float = BACKOFF_FIRST_SECONDS, cap: float = BACKOFF_CAP_SECONDS
    ) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first


class Outage:
    """Logs one warning when the database goes away and one line when it is back."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.since: float | None = None

    def started(self, exc: BaseException) -> None:
        if self.since is not None:
            return
        self.since = time.monotonic()
        # The exception's class only: driver messages can quote SQL parameters.
        logger.warning(
            "Database unavailable (%s); the %s keeps retrying with back-off up to %.0f s.",
            type(exc).__name__,
            self.who,
            BACKOFF_CAP_SECONDS,
        )

    def ended(self) -> None:
        if self.since is None:
            return
        logger.info(
            "Database reachable again after %.1f s; the %s resumes.",
            time.monotonic() - self.since,
            self.who,
        )
        self.since = None


def close_connections() -> None:
    """Drop this thread's database connections, broken or not; the next query reconnects."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except DatabaseError:
            conn.connection = None


def database_reachable() -> bool:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except OUTAGE_ERRORS:
        return False
    return True


def wait_for_database(
    outage: Outage, backoff: Backoff, keep_going: Callable[[], bool] = lambda: True
) -> bool:
    """Sleep with back-off until the database answers; False if ``keep_going`` said stop."""
    while keep_going():
        close_connections()
        time.sleep(backoff.next())
        if database_reachable():
            outage.ended()
            backoff.reset()
            return True
    return False


class Heart:
    """Records one process's heartbeat row."""

    def __init__(self, worker_id: str, kind: str) -> None:
        self.worker_id = worker_id
        self.kind = kind
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.started_at = timezone.now()

    def beat(self) -> None:
        now = timezone.now()
        if not WorkerHeartbeat.objects.filter(pk=self.worker_id).update(last_seen=now):
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id,
                defaults={
                    "kind": self.kind,
                    "host": self.host,
                    "pid": self.pid,
                    "started_at": self.started_at,
                    "last_seen": now,
                },
            )

    def stop(self) -> None:
        """A process that exits cleanly removes its row; a killed one leaves it to go stale."""
        with contextlib.suppress(DatabaseError):
            WorkerHeartbeat.objects.filter(pk=self.worker_id).delete()


def requeue_abandoned(lease_seconds: float, now: datetime | None = None) -> list[str]:
    """Put back to READY every RUNNING task whose worker stopped beating over a lease ago.

    Returns the ids of the tasks put back. A task run ``MAX_ATTEMPTS`` times is failed instead.
    """
    now = now or timezone.now()
    expired = now - timedelta(seconds=lease_seconds)
    live = set(
        WorkerHeartbeat.objects.filter(
            kind=WorkerHeartbeat.Kind.WORKER, last_seen__gte=expired
        ).values_list("worker_id", flat=True)
    )
    requeued = []
    candidates = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=expired)
        .only("id", "worker_ids", "started_at")
    )
    for task in candidates:
        owner = task.worker_ids[-1] if task.worker_ids else None
        if owner in live:  # a long task on a live worker
            continue
        # Conditional on the same claim: of several workers seeing it, one wins.
        claim = DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
        )
        if len(task.worker_ids) >= MAX_ATTEMPTS:
            if claim.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=f"The worker running this task stopped {len(task.worker_ids)} times; not retried again.",
            ):
                logger.error(
                    "Task %s failed: its worker stopped %d times",
                    task_ref(task.pk),
                    len(task.worker_ids),
                )
            continue
        if claim.update(status=TaskResultStatus.READY):
            logger.warning(
                "Task %s put back in the queue: its worker %s stopped sending heartbeats",
                task_ref(task.pk),
                owner,
            )
            requeued.append(str(task.pk))
    return requeued


def prune_heartbeats(now: datetime | None = None) -> int:
    """Forget processes silent for a day (killed ones never remove their own row)."""
    now = now or timezone.now()
    stale = WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1))
    # Read first: on SQLite even a DELETE that matches nothing takes the write lock.
    return stale.delete()[0] if stale.exists() else 0


class HeartbeatThread(threading.Thread):
    """Beats every ``interval`` seconds on its own connection, also while a task runs, and
    (for workers) checks leases.

    Lease checks wait until this process has beaten twice in a row since it (re)connected, so
    after an outage every live worker has had the time to beat before anyone's lease is judged.
    """

    def __init__(self, heart: Heart, interval: float, lease_seconds: float | None) -> None:
        super().__init__(name=f"heartbeat-{heart.worker_id}", daemon=True)
        self.heart = heart
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.check_every = max(interval, (lease_seconds or 0) / 10)
        self._stop_event = threading.Event()
        self.failed = False

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout=self.interval + 5)

    def run(self) -> None:
        connected_since: float | None = None
        last_check = 0.0
        try:
            while not self._stop_event.is_set():
                try:
                    limit_lock_wait()
                    self.heart.beat()
                    now = time.monotonic()
                    connected_since = connected_since or now
                    if (
                        self.lease_seconds is not None
                        and now - connected_since >= 2 * self.interval
                        and now - last_check >= self.check_every
                    ):
                        last_check = now
                        requeue_abandoned(self.lease_seconds)
                        prune_heartbeats()
                except DatabaseError:
                    # The main loop logs outages; this thread just tries again next beat.
                    connected_since = None
                    close_connections()
                except Exception:
                    # Anything else must not end the heartbeats, or this worker's own tasks
                    # would be taken for abandoned; said once, not every beat.
                    if not self.failed:
                        logger.exception(
                            "Heartbeat or lease check failed; retrying every %.0f s", self.interval
                        )
                    self.failed = True
                else:
                    self.failed = False
                self._stop_event.wait(self.interval)
        finally:
            close_connections()


def limit_lock_wait() -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_HEARTBEAT_LOCK_WAIT_MS}")


class ResilientWorker(Worker):
    """django-tasks-db's worker, kept as is, wrapped for outages, heartbeats and leases."""

    def __init__(self, *, lease_seconds: float | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lease_seconds = float(lease_seconds or settings.TASK_LEASE_SECONDS)
        self.heart = Heart(self.worker_id, WorkerHeartbeat.Kind.WORKER)
        self.outage = Outage("worker")
        self.backoff = Backoff()

    def run(self) -> None:
        thread = None
        if self.batch:
            # A batch run (tests, cron) is short: beat and check leases once, in this thread.
            self._beat_once()
        else:
            thread = HeartbeatThread(self.heart, heartbeat_interval(), self.lease_seconds)
            thread.start()
        try:
            while True:
                try:
                    super().run()
                    return
                except OUTAGE_ERRORS as exc:
                    self.outage.started(exc)
                    if not wait_for_database(
                        self.outage, self.backoff, keep_going=lambda: self.running
                    ):
                        return
                    self.startup_delay = False
        finally:
            if thread is not None:
                thread.stop()
            self.heart.stop()

    def _beat_once(self) -> None:
        try:
            self.heart.beat()
            requeue_abandoned(self.lease_seconds)
        except OUTAGE_ERRORS as exc:
            self.outage.started(exc)
            close_connections()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        record_failure = db_task_result.set_failed

        def set_failed(exc: BaseException) -> None:
            if is_outage(exc) and len(db_task_result.worker_ids) < MAX_ATTEMPTS:
                self._requeue_after_outage(db_task_result, exc)
            else:
                record_failure(exc)

        # The base worker records any exception as a final failure; a lost database is not the
        # task's fault, so that one case is routed here instead.
        db_task_result.set_failed = set_failed
        super().run_task(db_task_result)

    def _requeue_after_outage(self, db_task_result: DBTaskResult, exc: BaseException) -> None:
        self.outage.started(exc)
        if not wait_for_database(self.outage, self.backoff, keep_going=lambda: self.running):
            return  # shutting down: the lease hands the task to another worker
        if DBTaskResult.objects.filter(
            pk=db_task_result.pk, status=TaskResultStatus.RUNNING
        ).update(status=TaskResultStatus.READY, run_after=get_date_max()):
            logger.info(
                "Task %s put back in the queue after a database outage", task_ref(db_task_result.pk)
            )
        db_task_result.status = TaskResultStatus.READY


@dataclass(frozen=True)
class TaskProgress:
    """Where one queued task stands, in terms a page can tell its user truthfully.

    ``state`` is one of: ``waiting`` (queued, never started), ``running``, ``interrupted`` (its
    worker or the database went away; it will run again), ``failed``, ``done``.
    """

    state: str
    enqueued_at: datetime
    attempts: int
    worker_running: bool
    retry_by: datetime | None = None


def task_progress(task_id: uuid.UUID | str, now: datetime | None = None) -> TaskProgress | None:
    """The progress of a database-backend task; None when there is no such task (any more)."""
    now = now or timezone.now()
    row = (
        DBTaskResult.objects.filter(pk=task_id)
        .only("status", "enqueued_at", "started_at", "worker_ids")
        .first()
    )
    if row is None:
        return None
    lease = timedelta(seconds=settings.TASK_LEASE_SECONDS)
    max_age = timedelta(seconds=settings.READY_WORKER_MAX_AGE)
    fresh = now - max_age
    beats = dict(
        WorkerHeartbeat.objects.filter(
            kind=WorkerHeartbeat.Kind.WORKER, last_seen__gte=now - max(lease, max_age)
        ).values_list("worker_id", "last_seen")
    )
    worker_running = any(seen >= fresh for seen in beats.values())
    attempts = len(row.worker_ids)
    common = {
        "enqueued_at": row.enqueued_at,
        "attempts": attempts,
        "worker_running": worker_running,
    }
    if row.status == TaskResultStatus.SUCCESSFUL:
        return TaskProgress("done", **common)
    if row.status == TaskResultStatus.FAILED:
        return TaskProgress("failed", **common)
    if row.status == TaskResultStatus.RUNNING:
        owner_seen = beats.get(row.worker_ids[-1]) if row.worker_ids else None
        if owner_seen is not None and owner_seen >= now - lease / 2:
            return TaskProgress("running", **common)
        # Its worker has gone quiet: another worker takes the task over once the lease is up.
        last_sign = max(filter(None, [row.started_at, owner_seen]))
        return TaskProgress("interrupted", retry_by=last_sign + lease + lease / 10, **common)
    if attempts:
        return TaskProgress("interrupted", **common)  # back in the queue
    return TaskProgress("waiting", **common)
