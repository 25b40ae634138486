"""django-allauth and django-axes hooks."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from alliance.core import crypto


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff are added by their clinic admin; clients by their clinic. No self sign-up.
        return False

    def logout(self, request: HttpRequest) -> None:
        """A deliberate sign-out ends every way in: other sessions and unused sign-in links.

        (Automatic logoff after inactivity ends only the idle session.)
        """
        user = request.user
        super().logout(request)
        if getattr(user, "is_authenticated", False):
            user.end_every_sign_in()  # type: ignore[union-attr]


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The login being attempted: allauth passes ``email``, the form posts ``login``."""
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        value = credentials.get(key)
        if value:
            return str(value).strip().lower()
    if request is not None and request.method == "POST":
        return str(request.POST.get("login", "")).strip().lower()
    return ""


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets are encrypted with the field-encryption keys; staff cannot drop MFA."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        return not (
            authenticator.type == Authenticator.Type.TOTP
            and authenticator.user.membership is not None
        )
