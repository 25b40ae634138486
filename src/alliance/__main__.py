"""The `alliance` command: Django's manage.py with the settings preset."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line

from alliance.core.env import STATELESS_COMMANDS, mark_stateless


def load_settings_or_exit() -> None:
    """Import the settings now, so a configuration error is one line on stderr, not a traceback.

    Exit status 2 (a usage error): the operator has to set or fix the variable named.
    """

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the access imports and checks the settings
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"alliance: configuration error: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(2) from None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in STATELESS_COMMANDS:
        # Before the settings load: they then generate no secret files and create no folders.
        mark_stateless()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    load_settings_or_exit()

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
