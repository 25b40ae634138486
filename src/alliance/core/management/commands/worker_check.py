"""``alliance worker_check [--timeout S]``: is a background worker taking tasks right now?

Enqueues a no-op probe task and waits for a worker to run it. Exits 0 and prints the worker's id
and the latency (enqueued to finished) when one did; exits 1 with one line when none did in time.
"""

from __future__ import annotations

import sys
import time
from typing import NoReturn

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from alliance.core.tasks import probe

POLL_SECONDS = 0.2


class Command(BaseCommand):
    help = "Enqueue a no-op probe task; exit 0 when a worker ran it in time, else 1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=30.0, help="Seconds to wait for a worker (default 30)."
        )

    def handle(self, *args, **options) -> None:
        timeout = options["timeout"]
        if not timeout > 0:
            self._fail("--timeout must be more than 0 seconds.")
        try:
            result_id = probe.enqueue().id
            deadline = time.monotonic() + timeout
            while True:
                row = DBTaskResult.objects.filter(pk=result_id).only("status").first()
                if row is not None and row.status in (
                    TaskResultStatus.SUCCESSFUL,
                    TaskResultStatus.FAILED,
                ):
                    break
                if time.monotonic() >= deadline:
                    # Withdraw the probe unless a worker took it meanwhile, so none runs it late.
                    DBTaskResult.objects.filter(
                        pk=result_id, status=TaskResultStatus.READY
                    ).delete()
                    self._fail(f"No worker ran the probe task within {timeout:g} s.")
                time.sleep(POLL_SECONDS)
            row = DBTaskResult.objects.get(pk=result_id)
        except DatabaseError as exc:
            self._fail(f"Database unavailable ({type(exc).__name__}); cannot check the workers.")
        if row.status != TaskResultStatus.SUCCESSFUL:
            self._fail("The probe task failed on the worker; see the worker's log.")
        latency = (row.finished_at - row.enqueued_at).total_seconds()
        self.stdout.write(f"Worker {row.return_value} ran the probe task in {latency:.2f} s.")

    def _fail(self, line: str) -> NoReturn:
        self.stderr.write(line)
        sys.exit(1)
