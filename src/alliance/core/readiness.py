"""Readiness for a load balancer (``/ready/``): can this installation do its work right now?

Four checks, each named in the answer: the database answers, no migration is unapplied, a task
worker and a scheduler have recorded a heartbeat within ``READY_WORKER_MAX_AGE`` seconds. Only
reads; a passed migration check is remembered for the life of the process, since migrations are
applied before a new release's processes start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max
from django.utils import timezone

from alliance.core.models import WorkerHeartbeat

_migrations_applied = False


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _migrations() -> dict[str, Any]:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {
                "ok": False,
                "detail": f"{len(plan)} migration(s) not applied; run `alliance migrate`",
            }
        _migrations_applied = True
    return {"ok": True}


def _heartbeat(kind: str) -> dict[str, Any]:
    now = timezone.now()
    max_age = settings.READY_WORKER_MAX_AGE
    last = WorkerHeartbeat.objects.filter(kind=kind).aggregate(last=Max("last_seen"))["last"]
    if last is None:
        return {"ok": False, "detail": f"no {kind} has ever reported"}
    age = max(0, int((now - last).total_seconds()))
    if last < now - timedelta(seconds=max_age):
        return {
            "ok": False,
            "age_seconds": age,
            "detail": f"last {kind} heartbeat {age} s ago (limit {max_age} s)",
        }
    return {"ok": True, "age_seconds": age}


def check() -> dict[str, dict[str, Any]]:
    """Every check by name; a check that cannot reach the database fails, it does not raise."""
    checks: dict[str, dict[str, Any]] = {}
    for name, run in (
        ("database", _database),
        ("migrations", _migrations),
        ("worker", lambda: _heartbeat(WorkerHeartbeat.Kind.WORKER)),
        ("scheduler", lambda: _heartbeat(WorkerHeartbeat.Kind.SCHEDULER)),
    ):
        if name != "database" and not checks["database"]["ok"]:
            checks[name] = {"ok": False, "detail": "database unavailable"}
            continue
        try:
            checks[name] = run()
        except DatabaseError as exc:
            checks[name] = {"ok": False, "detail": f"database error ({type(exc).__name__})"}
    return checks


def reset() -> None:
    """Forget the remembered migration check (tests)."""
    global _migrations_applied
    _migrations_applied = False
