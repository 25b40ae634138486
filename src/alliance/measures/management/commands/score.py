import sys

from django.core.management.base import BaseCommand

from alliance.measures.cli import score_main


class Command(BaseCommand):
    help = (
        "Score PHQ-9 or GAD-7 answers without a database: alliance score phq9 --answers 1,2,0,..."
    )

    def run_from_argv(self, argv):
        # The scoring CLI owns its arguments and exit codes (2 on bad input), so Django's
        # parser is bypassed; no database is touched.
        sys.exit(score_main(argv[2:], sys.stdout, sys.stderr))
