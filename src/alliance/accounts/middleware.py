"""MFA is enforced for every staff role."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# Pages a staff member without MFA may still reach: setting it up, and signing out.
ALLOWED_WITHOUT_MFA = {
    "mfa_activate_totp",
    "mfa_index",
    "mfa_generate_recovery_codes",
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
    "account_logout",
    "account_reauthenticate",
    "health",
}


def has_totp(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffMFARequiredMiddleware:
    """A signed-in staff member without a TOTP authenticator is sent to set one up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: object, *args: object
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.membership is None:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in ALLOWED_WITHOUT_MFA:
            return None
        if request.path.startswith("/static/"):
            return None
        if request.session.get("alliance.mfa_ok"):
            return None
        if has_totp(user):
            request.session["alliance.mfa_ok"] = True
            return None
        return redirect("mfa_activate_totp")
