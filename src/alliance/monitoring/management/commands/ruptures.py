import sys

from django.core.management.base import BaseCommand

from alliance.monitoring.cli import ruptures_main


class Command(BaseCommand):
    help = "Detect alliance rupture episodes in a CSV of session ratings (no database needed)."

    def run_from_argv(self, argv):
        sys.exit(ruptures_main(argv[2:], sys.stdout, sys.stderr))
