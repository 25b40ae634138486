import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from alliance.accounts.demo import STAFF, demo_totp_secret


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff account (development only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_totp is refused in production mode.")
        # The demo seeds each account's TOTP with its fixed demo secret, so the code is computed
        # from that without the database: the command then works from any folder, whichever
        # data directory the demo used (dev.py keeps it in the checkout's var/).
        emails = {staff_email for _role, _name, staff_email in STAFF}
        if email.lower() not in emails:
            raise CommandError(f"No demo staff account with TOTP for {email}.")
        counter = int(time.time()) // 30
        self.stdout.write(format_hotp_value(hotp_value(demo_totp_secret(email.lower()), counter)))
