"""Django's makemessages without msgmerge's fuzzy matching.

A guessed translation of a merely similar string is worse than none: a staff label would be
shown in Spanish as an unrelated client sentence, and the catalogue test refuses fuzzy entries
in client-facing text. New strings arrive untranslated instead, for a translator to fill in.
(Django documents subclassing the command to change ``msgmerge_options``.)
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
