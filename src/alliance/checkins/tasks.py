"""Background work for check-ins, run by ``alliance db_worker``."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_tasks import task

from alliance.checkins.schedule import run_cycle


@task()
def check_in_cycle(now_iso: str = "") -> dict[str, int]:
    """Create due check-ins, mark missed ones (telling the therapist after N), send reminders.

    ``now_iso`` pins the clock (tests, catch-up runs); empty means the current time.
    """

    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    result = run_cycle(now)
    return {"created": result.created, "missed": result.missed, "reminded": result.reminded}
