import sys

from django.core.management.base import BaseCommand

from alliance.nlp.cli import nlp_main


class Command(BaseCommand):
    help = "Train or evaluate the transcript classifiers: alliance nlp train | alliance nlp evaluate ARTIFACT"

    def run_from_argv(self, argv):
        sys.exit(nlp_main(argv[2:], sys.stdout, sys.stderr))
