from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from alliance.accounts.models import User
from alliance.core import crypto


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff account (development only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        import time

        if settings.PRODUCTION:
            raise CommandError("demo_totp is refused in production mode.")
        user = User.objects.filter(email=email.lower(), email__endswith="@demo.alliance.test").first()
        auth = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first() if user else None
        if auth is None:
            raise CommandError(f"No demo staff account with TOTP for {email}.")
        secret = crypto.decrypt(auth.data["secret"])
        counter = int(time.time()) // 30
        self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
