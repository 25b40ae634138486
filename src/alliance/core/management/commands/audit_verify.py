from django.core.management.base import BaseCommand, CommandError

from alliance.core.audit import verify_chain
from alliance.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail and name the first broken entry."

    def handle(self, *args, **options):
        breaks = verify_chain()
        if breaks:
            for b in breaks:
                self.stderr.write(
                    f"Audit chain of clinic {b.clinic_id} is broken at entry {b.entry_id} "
                    f"(#{b.seq}): {b.reason}."
                )
            raise CommandError(f"{len(breaks)} broken audit chain(s).")
        count = AuditEvent.objects.count()
        self.stdout.write(f"Audit trail intact: {count} entries verified.")
