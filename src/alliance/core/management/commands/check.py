"""Django's `check`, printing first where this installation keeps its state."""

from __future__ import annotations

from django.conf import settings
from django.core.management.commands import check

from alliance.core.backup import describe_database


def describe_data_dir() -> str:
    path = settings.DATA_DIR
    if not path.exists():
        return f"{path} (not created yet)"
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return f"{path} (mode {mode:o}: others can read it; `chmod 700` it)"
    return str(path)


class Command(check.Command):
    def handle(self, *app_labels, **options):
        self.stdout.write(f"Data directory: {describe_data_dir()}")
        self.stdout.write(f"Database: {describe_database()}")
        return super().handle(*app_labels, **options)
