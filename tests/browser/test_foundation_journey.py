"""Staff sign-in with MFA, open a client, sign out — in real Chromium."""

from __future__ import annotations

from alliance.accounts.models import Clinic, Role
from tests.browser.conftest import staff_login
from tests.conftest import grant, make_client, make_staff


def test_staff_signin_with_mfa_open_client_sign_out(page):
    clinic = Clinic.objects.create(name="Journey Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Jo Journey", "jo@journey.test", "a long journey password"
    )
    record = make_client(clinic, "Kit Keeper", "kit@client.test", [therapist])
    grant(record, "treatment", therapist)

    staff_login(page, "jo@journey.test", "a long journey password")
    assert page.url.endswith("/caseload/")
    page.get_by_role("link", name="Kit Keeper").click()
    page.wait_for_url(f"**/clients/{record.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kit Keeper")
    # The strict CSP header is served on every page.
    response = page.request.get(f"/clients/{record.pk}/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    page.goto(f"/clients/{record.pk}/")
    assert "/accounts/login/" in page.url
