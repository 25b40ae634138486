import sys

from django.core.management.base import BaseCommand

from alliance.goals.cli import gas_main


class Command(BaseCommand):
    help = "Goal Attainment Scaling T-score: alliance gas --levels 0,1,-1 --weights 2,1,3"

    def run_from_argv(self, argv):
        sys.exit(gas_main(argv[2:], sys.stdout, sys.stderr))
