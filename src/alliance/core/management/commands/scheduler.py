"""Enqueue the periodic jobs for the worker: check-ins and reminders, overdue safety alerts,
and the daily monitoring pass.

Run one or more of these next to `alliance db_worker` (or use cron with the individual
commands). Each slot is claimed in the shared cache, so several schedulers never enqueue the
same job twice.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.core.management.base import BaseCommand


def jobs() -> list[tuple[str, int, object]]:
    from alliance.checkins.tasks import check_in_cycle
    from alliance.monitoring.notices import resend_due_notices
    from alliance.monitoring.tasks import check_monitoring, check_overdue_alerts

    return [
        ("check-in cycle and reminders", 15 * 60, lambda: check_in_cycle.enqueue("")),
        ("overdue safety alerts", 15 * 60, check_overdue_alerts.enqueue),
        ("undelivered safety notices", 5 * 60, resend_due_notices.enqueue),
        ("daily monitoring pass", 24 * 3600, check_monitoring.enqueue),
    ]


def run_due(now: float) -> list[str]:
    """Enqueue every job whose current slot nobody has claimed yet; returns their names."""
    enqueued = []
    for name, every, enqueue in jobs():
        slot = int(now // every)
        key = "alliance-scheduler:" + name.replace(" ", "-") + f":{slot}"
        if cache.add(key, "claimed", timeout=every * 2):
            enqueue()  # type: ignore[operator]
            enqueued.append(name)
    return enqueued


class Command(BaseCommand):
    help = "Enqueue periodic jobs (check-ins, reminders, escalation, monitoring) for the worker."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue what is due now and exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between checks.")

    def handle(self, *args, **options):
        while True:
            for name in run_due(time.time()):
                self.stdout.write(f"Enqueued: {name}")
            if options["once"]:
                return
            time.sleep(max(5, options["interval"]))
