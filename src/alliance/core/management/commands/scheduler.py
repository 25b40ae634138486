"""Enqueue the periodic jobs for the worker: check-ins and reminders, overdue safety alerts,
and the daily monitoring pass. Each app registers its own jobs (``alliance.core.periodic``).

Run one or more of these next to `alliance db_worker` (or use cron with the individual
commands). Each slot is claimed in the shared cache, so several schedulers never enqueue the
same job twice. The scheduler records its heartbeat (for `/ready/`) and outlives database
outages: it logs one line when the database goes away and one when it is back, and carries on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.crypto import get_random_string

from alliance.core import periodic
from alliance.core.models import WorkerHeartbeat
from alliance.core.worker import (
    OUTAGE_ERRORS,
    Backoff,
    Heart,
    Outage,
    heartbeat_interval,
    wait_for_database,
)

logger = logging.getLogger("alliance.worker")


def jobs() -> list[tuple[str, int, Callable[[], object]]]:
    """The jobs the apps registered (``alliance.core.periodic``) as (name, seconds, enqueue)."""
    return [(job.name, job.every, job.enqueue) for job in periodic.registered()]


def run_due(now: float) -> list[str]:
    """Enqueue every job whose current slot nobody has claimed yet; returns their names.

    The claim and the enqueue commit together (the database cache and the task queue share the
    database), so an outage between the two cannot leave a slot claimed with no job queued. With
    Redis as the cache the claim is given back when the enqueue fails.
    """
    enqueued = []
    for name, every, enqueue in jobs():
        slot = int(now // every)
        key = "alliance-scheduler:" + name.replace(" ", "-") + f":{slot}"
        with transaction.atomic():
            if not cache.add(key, "claimed", timeout=every * 2):
                continue
            try:
                enqueue()
            except Exception:
                # Best effort: the database cache's claim rolls back anyway.
                with contextlib.suppress(Exception):
                    cache.delete(key)
                raise
        enqueued.append(name)
    return enqueued


class Command(BaseCommand):
    help = "Enqueue periodic jobs (check-ins, reminders, escalation, monitoring) for the worker."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue what is due now and exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between checks.")

    def handle(self, *args, **options):
        heart = Heart("scheduler-" + get_random_string(24), WorkerHeartbeat.Kind.SCHEDULER)
        outage, backoff = Outage("scheduler"), Backoff()
        every = max(5, options["interval"])
        beat_every = heartbeat_interval()
        next_run = next_beat = 0.0
        try:
            while True:
                try:
                    if time.monotonic() >= next_beat:
                        heart.beat()
                        next_beat = time.monotonic() + beat_every
                    if time.monotonic() >= next_run:
                        for name in run_due(time.time()):
                            self.stdout.write(f"Enqueued: {name}")
                        next_run = time.monotonic() + every
                except OUTAGE_ERRORS as exc:
                    if options["once"]:
                        raise
                    outage.started(exc)
                    wait_for_database(outage, backoff)
                    continue
                except Exception:
                    # Another fault (the Redis cache away, say): the scheduler must not stop,
                    # and retries with the same back-off.
                    if options["once"]:
                        raise
                    delay = backoff.next()
                    logger.exception("Scheduling failed; retrying in %.0f s", delay)
                    time.sleep(delay)
                    continue
                backoff.reset()
                if options["once"]:
                    return
                time.sleep(max(0.0, min(next_run, next_beat) - time.monotonic()))
        finally:
            if not options["once"]:
                heart.stop()
