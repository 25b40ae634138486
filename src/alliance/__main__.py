"""The `alliance` command: Django's manage.py with the settings preset."""

from __future__ import annotations

import os
import sys


def main() -> None:
    from alliance.core.env import STATELESS_COMMANDS, mark_stateless

    if len(sys.argv) > 1 and sys.argv[1] in STATELESS_COMMANDS:
        # Before the settings load: they then generate no secret files and create no folders.
        mark_stateless()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
