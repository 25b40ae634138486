from django.core.management.base import BaseCommand, CommandError

from alliance.core.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Replace the database with a backup made by `alliance backup`, after checking that the "
        "configured FIELD_ENCRYPTION_KEYS decrypt it. Stop the server, workers and scheduler first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--force",
            action="store_true",
            help="SQLite: restore even if the backup's audit chain does not verify. "
            "PostgreSQL: restore while other sessions are connected.",
        )

    def handle(self, *args, path: str, force: bool, **options):
        try:
            result = restore(path, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        out = self.stdout
        out.write(f"Restored {path} into {result.database}.")
        out.write(
            f"The keys decrypt it: {result.encrypted_checked} sampled encrypted values checked."
        )
        if result.previous_copy is not None:
            out.write(
                f"The database it replaced is kept at {result.previous_copy}; delete it when satisfied."
            )
        if result.pending_migrations:
            out.write(
                f"The backup predates {len(result.pending_migrations)} migrations: run `alliance migrate`, "
                "then `alliance audit_verify`."
            )
        if result.audit_entries is None:
            out.write("Audit trail not verified yet: run `alliance audit_verify` after migrating.")
        elif result.audit_breaks:
            for line in result.audit_breaks:
                self.stderr.write(f"Audit chain: {line}.")
            raise CommandError(
                f"{len(result.audit_breaks)} broken audit chain(s) in the restored database."
            )
        else:
            out.write(f"Audit trail intact: {result.audit_entries} entries verified.")
