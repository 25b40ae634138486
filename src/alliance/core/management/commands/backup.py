from django.core.management.base import BaseCommand, CommandError

from alliance.core.backup import BackupError, backup, describe_database


class Command(BaseCommand):
    help = (
        "Back up the database to PATH (a file, or a folder to put a dated file in): SQLite through "
        "its online backup API, PostgreSQL with pg_dump. The keys are not in it: back up "
        "FIELD_ENCRYPTION_KEYS and SECRET_KEY apart (docs/backup.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing file")

    def handle(self, *args, path: str, overwrite: bool, **options):
        try:
            written = backup(path, overwrite=overwrite)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        size = written.stat().st_size
        self.stdout.write(f"Backed up {describe_database()} to {written} ({size:,} bytes).")
        self.stdout.write(
            "It is readable only with the FIELD_ENCRYPTION_KEYS in use now: keep them, apart from it."
        )
