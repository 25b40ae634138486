import sys

from django.core.management.base import BaseCommand

from alliance.nlp.cli import analyze_main


class Command(BaseCommand):
    help = "Analyse a transcript file (VTT, SRT or text) offline: alliance analyze FILE [--format json]"

    def run_from_argv(self, argv):
        # The analyzer owns its arguments and exit codes (2 on bad input); no database is used.
        sys.exit(analyze_main(argv[2:], sys.stdout, sys.stderr))
