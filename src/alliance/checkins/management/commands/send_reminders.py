from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from alliance.checkins.tasks import check_in_cycle


class Command(BaseCommand):
    help = (
        "Run the check-in cycle: create due check-ins, mark missed ones, send reminders. "
        "Run it from cron every 15 minutes, or pass --enqueue to hand it to the task worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="queue it for `alliance db_worker` instead"
        )
        parser.add_argument(
            "--now", help="ISO date-time to act as the current time (catch-up, tests)"
        )

    def handle(self, *args, **options):
        now_iso = options["now"] or ""
        if now_iso:
            try:
                moment = datetime.fromisoformat(now_iso)
            except ValueError:
                raise CommandError(f"--now: {now_iso!r} is not an ISO date-time") from None
            if timezone.is_naive(moment):
                raise CommandError("--now needs a time zone offset, e.g. 2026-03-08T12:00:00+00:00")

        if options["enqueue"]:
            result = check_in_cycle.enqueue(now_iso)
            self.stdout.write(f"Queued check-in cycle {result.id}\n")
            return
        counts = check_in_cycle.call(now_iso)
        self.stdout.write(
            f"Check-ins created: {counts['created']}, missed: {counts['missed']}, reminders sent: {counts['reminded']}\n"
        )
