"""Enqueue the check for overdue, unacknowledged safety alerts (run from cron, e.g. every 15
minutes); the worker (`alliance db_worker`) sends the escalation emails. `--now` runs the check
in this process instead (for a deployment without a worker, or by hand)."""

from django.core.management.base import BaseCommand

from alliance.monitoring.tasks import check_overdue_alerts


class Command(BaseCommand):
    help = "Escalate safety alerts nobody acknowledged in time (enqueues the check for the worker)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", action="store_true", help="Run the check here instead of enqueuing it."
        )

    def handle(self, *args, **options):
        if options["now"]:
            count = check_overdue_alerts.call()
            self.stdout.write(f"Escalated {count} alert(s).")
        else:
            result = check_overdue_alerts.enqueue()
            self.stdout.write(
                f"Enqueued the overdue-alert check ({result.id}); the worker runs it."
            )
