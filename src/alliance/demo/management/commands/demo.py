"""Set up and run the demo: migrate, seed once, print logins, run the worker and the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from sesame.utils import get_query_string

from alliance.accounts.demo import STAFF, demo_totp_secret
from alliance.clients.models import ClientRecord
from alliance.core.seeding import DEMO_PASSWORD, demo_exists, seed_demo


class Command(BaseCommand):
    help = "Migrate, seed the demo clinic (once), print demo logins, and serve with a worker."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Set up and print logins only.")

    def handle(self, *args, addrport: str, no_serve: bool, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo is refused in production mode.")
        started = time.monotonic()
        helper_env = dict(os.environ)
        if not os.environ.get("SITE_URL"):
            # Links in the demo's emails (seeded ones, and the worker's) point at the server
            # this command starts, not at the default port.
            settings.SITE_URL = helper_env["SITE_URL"] = demo_site_url(addrport)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        if demo_exists():
            self.stdout.write("Demo clinic found: keeping existing data.")
        else:
            ctx = seed_demo()
            assert ctx is not None  # seed_demo returns None only when the demo exists
            self.stdout.write(f"Seeded the demo clinic ({len(ctx.clients)} clients).")
            # Send the emails the seeding queued (printed by the console backend) now, so the
            # logins below are the last thing printed instead of scrolling away under them.
            call_command(
                "db_worker",
                "--batch",
                "--queue-name",
                "*",
                "--no-startup-delay",
                "--no-reload",
                verbosity=0,
            )
        self.print_logins(addrport)
        self.stdout.write(f"Ready in {time.monotonic() - started:.1f} s.")
        if no_serve:
            return
        helpers = [
            subprocess.Popen(
                [sys.executable, "-m", "alliance", "db_worker", "--queue-name", "*", "--no-reload"],
                env=helper_env,
            ),
            subprocess.Popen([sys.executable, "-m", "alliance", "scheduler"], env=helper_env),
        ]
        # `kill PID` (SIGTERM) must stop the worker and scheduler too, as Ctrl-C does: turn it
        # into SystemExit so the finally block below runs instead of orphaning them.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for process in helpers:
                process.terminate()
            for process in helpers:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def print_logins(self, addrport: str) -> None:
        base = demo_site_url(addrport)
        out = self.stdout
        out.write("")
        out.write("=" * 72)
        out.write(f"Alliance demo on {base}/  (demo data only: every name is fictional)")
        out.write(f"Data directory: {settings.DATA_DIR}")
        out.write("-" * 72)
        out.write(f"Staff sign in at {base}/accounts/login/ with password {DEMO_PASSWORD}")
        out.write("and a TOTP code: add the secret to an authenticator app, or run")
        out.write("  alliance demo_totp EMAIL     (prints the current code)")
        for role, _name, email in STAFF:
            out.write(f"  {role:<10} {email:<32} TOTP secret {demo_totp_secret(email)}")
        client = (
            ClientRecord.objects.filter(
                user__email__endswith="@demo.alliance.test", status="active"
            )
            .select_related("user")
            .order_by("full_name")
            .first()
        )
        if client is not None:
            out.write("Clients sign in by emailed link (printed to this console by the demo's")
            out.write(f"email backend). A fresh single-use link for {client.full_name}:")
            out.write(f"  {base}/signin/link/{get_query_string(client.user)}")
        spanish = (
            ClientRecord.objects.filter(
                user__email__endswith="@demo.alliance.test", status="active", language="es"
            )
            .select_related("user")
            .order_by("full_name")
            .first()
        )
        if spanish is not None:
            out.write(f"{spanish.full_name} reads Alliance in Spanish; their single-use link:")
            out.write(f"  {base}/signin/link/{get_query_string(spanish.user)}")
        out.write("-" * 72)
        out.write("These demo logins, links and emails are printed here deliberately so you can")
        out.write("try the demo. Real logs never show them: tokens, email addresses and record")
        out.write("ids are redacted (docs/security.md, Logs).")
        out.write("=" * 72)


def demo_site_url(addrport: str) -> str:
    """The base URL a browser on this machine uses for ``runserver``'s ADDRPORT ("8001",
    "0.0.0.0:8001", "[::1]:8001"): a wildcard address is reached through the loopback one."""
    host, _, port = addrport.rpartition(":")
    if not host or host in ("0.0.0.0", "0"):
        host = "127.0.0.1"
    elif host in ("[::]", "::"):
        host = "[::1]"
    return f"http://{host}:{port}"


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
