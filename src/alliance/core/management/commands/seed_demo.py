from django.core.management.base import BaseCommand

from alliance.core.seeding import seed_demo


class Command(BaseCommand):
    help = "Seed the demo clinic (once; re-running keeps existing data)."

    def handle(self, *args, **options):
        ctx = seed_demo()
        if ctx is None:
            self.stdout.write("Demo clinic already present; nothing changed.")
            return
        self.stdout.write(
            f"Seeded the demo clinic: {len(ctx.therapists) + 2} staff, {len(ctx.clients)} clients."
        )
