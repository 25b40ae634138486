from django.core.management.base import BaseCommand

from alliance.monitoring import tasks


class Command(BaseCommand):
    help = (
        "Wake snoozed alerts whose time is up and check every active client for disengagement "
        "(missed sessions, long gaps, falling check-ins, low early alliance). Run daily from cron, "
        "or enqueue it for the worker with --enqueue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="Hand the check to the worker instead."
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            tasks.check_monitoring.enqueue()
            self.stdout.write("Monitoring check enqueued.")
            return
        counts = tasks.check_monitoring.call()
        self.stdout.write(
            f"Woke {counts['woken']} snoozed alert(s); {counts['disengagement']} client(s) with disengagement signals."
        )
