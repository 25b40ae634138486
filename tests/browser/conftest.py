"""Browser journeys in real headless Chromium (Debian's package), driven by Playwright.

The suite starts everything itself: pytest-django's live server and a Chromium process.
Without Chromium the journeys are skipped, unless ALLIANCE_REQUIRE_BROWSER=1 (CI), where
a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import sync_playwright
from sesame.utils import get_query_string

from alliance.accounts.models import User
from alliance.core import crypto

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_CANDIDATES = [
    os.environ.get("ALLIANCE_CHROMIUM", ""),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    shutil.which("chromium") or "",
    shutil.which("chromium-browser") or "",
]


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("ALLIANCE_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (ALLIANCE_REQUIRE_BROWSER=1) but was not found.")
        pytest.skip(
            "Chromium is not installed (apt-get install chromium); browser journeys skipped."
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


def _new_page(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    # A CSP violation or a script error is a defect: collect them and fail the test.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 500 or (r.status == 404 and "/static/" in r.url)
            else None
        ),
    )
    page.console_errors = errors  # type: ignore[attr-defined]
    return context, page


@pytest.fixture
def page(browser, live_server, transactional_db):
    context, page = _new_page(browser, live_server, {"width": 1280, "height": 900})
    yield page
    context.close()
    assert page.console_errors == [], page.console_errors  # type: ignore[attr-defined]


@pytest.fixture
def phone_page(browser, live_server, transactional_db):
    context, page = _new_page(browser, live_server, {"width": 375, "height": 740})
    yield page
    context.close()
    assert page.console_errors == [], page.console_errors  # type: ignore[attr-defined]


def totp_now(user) -> str:
    auth = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return format_hotp_value(
        hotp_value(crypto.decrypt(auth.data["secret"]), int(time.time()) // 30)
    )


def staff_login(page, email: str, password: str) -> None:
    """Sign in as staff through the real forms: email + password, then the TOTP code."""

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(totp_now(User.objects.get(email=email)))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def client_login(page, user) -> None:
    """Open a fresh single-use sign-in link, as a client would from the email."""

    page.goto("/signin/link/" + get_query_string(user))
    page.get_by_role("button", name="Sign in now").click()
    page.wait_for_url("**/me/")


@pytest.fixture
def login_staff():
    return staff_login


@pytest.fixture
def login_client():
    return client_login
