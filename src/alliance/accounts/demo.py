"""Demo clinic: the clinic and its staff. Names are obviously fictional."""

from __future__ import annotations

import base64
import hashlib

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP

from alliance.accounts.models import Clinic, Membership, Role, User
from alliance.core.seeding import DEMO_CLINIC_NAME, DEMO_PASSWORD, DemoContext

STAFF = [
    ("admin", "Ada Adminton", "admin@demo.alliance.test"),
    ("supervisor", "Dr. Sam Supervisa", "supervisor@demo.alliance.test"),
    ("therapist", "Dr. Theo Therapos", "theo@demo.alliance.test"),
    ("therapist", "Dr. Rhea Listenwell", "rhea@demo.alliance.test"),
    ("therapist", "Dr. Max Empathia", "max@demo.alliance.test"),
]


def demo_totp_secret(email: str) -> str:
    """A stable, demo-only TOTP secret per account so the printed secret keeps working."""
    digest = hashlib.sha256(f"alliance-demo-totp:{email}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def seed(ctx: DemoContext) -> None:
    ctx.clinic = Clinic.objects.create(name=DEMO_CLINIC_NAME, time_zone="America/New_York")
    for role, name, email in STAFF:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
        Membership.objects.create(clinic=ctx.clinic, user=user, role=role)
        TOTP.activate(user, demo_totp_secret(email))
        RecoveryCodes.activate(user)
        if role == Role.ADMIN:
            ctx.admin = user
        elif role == Role.SUPERVISOR:
            ctx.supervisor = user
        else:
            ctx.therapists.append(user)
        ctx.logins.append(
            (
                role,
                name,
                email,
                f"password {DEMO_PASSWORD}, TOTP secret {demo_totp_secret(email)} "
                f"(or run: alliance demo_totp {email})",
            )
        )
