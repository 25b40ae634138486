"""Sign-in hardening: per-identity lockout of links, rate-limited link requests, sign-out that
ends every way in, staff-only API schema, HttpOnly CSRF cookie."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse
from sesame.utils import get_token

from alliance.accounts import signin_limits
from tests.conftest import sign_in

ATTACKER_IP = "203.0.113.9"
CLIENT_IP = "198.51.100.7"
LINK = "/signin/link/"


def tampered(token: str) -> str:
    """A token that still names its user but whose signature is wrong."""
    tail = "AAAA" if not token.endswith("AAAA") else "BBBB"
    return token[:-4] + tail


def test_fifty_bad_links_from_one_address_do_not_lock_out_another_client(personas):
    attacker = Client(REMOTE_ADDR=ATTACKER_IP)
    for i in range(50):
        attacker.post(LINK, {"t": f"not-a-token-{i:02d}-xxxxxxxx"})
    cleo = Client(REMOTE_ADDR=CLIENT_IP)
    response = cleo.post(LINK, {"t": get_token(personas.client_user)})
    assert response.status_code == 302 and response["Location"] == reverse("client_home")
    assert cleo.get(reverse("client_home")).status_code == 200
    # The address that sent them is slowed down.
    assert attacker.post(LINK, {"t": "still-not-a-token-xxxxxxxx"}).status_code == 429


def test_bad_links_for_one_client_lock_only_that_clients_links_and_say_what_to_do(personas):
    attacker = Client(REMOTE_ADDR=ATTACKER_IP)
    for _ in range(signin_limits.LINK_FAILURES_PER_CLIENT):
        assert (
            attacker.post(LINK, {"t": tampered(get_token(personas.client_user))}).status_code == 400
        )
    cleo = Client(REMOTE_ADDR=CLIENT_IP)
    response = cleo.post(LINK, {"t": get_token(personas.client_user)})
    assert response.status_code == 429
    page = response.content.decode()
    assert "paused" in page and "30 minutes" in page and "ask for a new link" in page
    assert "call your clinic" in page
    assert cleo.get(reverse("client_home")).status_code == 302
    # Another client, even from the attacker's own address, signs in as usual.
    otto = Client(REMOTE_ADDR=ATTACKER_IP)
    response = otto.post(LINK, {"t": get_token(personas.other_client_user)})
    assert response.status_code == 302 and response["Location"] == reverse("client_home")


def test_staff_lockout_still_comes_on_the_fifth_wrong_password(client, personas):
    for _ in range(5):
        client.post(
            reverse("account_login"), {"login": "tess@north.test", "password": "wrong password"}
        )
    response = client.post(
        reverse("account_login"), {"login": "tess@north.test", "password": "correct horse battery"}
    )
    assert response.status_code == 429
    # A client's link is not touched by a staff lockout.
    other = Client(REMOTE_ADDR=CLIENT_IP)
    assert other.post(LINK, {"t": get_token(personas.client_user)}).status_code == 302


def test_link_requests_are_limited_per_address_with_the_same_answer(personas):
    crowd = Client(REMOTE_ADDR=ATTACKER_IP)
    for i in range(signin_limits.LINK_REQUESTS_PER_IP):
        response = crowd.post(reverse("client_signin"), {"email": f"someone{i}@nowhere.test"})
        assert response.status_code == 302 and response["Location"] == reverse("client_signin_sent")
    response = crowd.post(reverse("client_signin"), {"email": "cleo@client.test"})
    assert response.status_code == 302 and response["Location"] == reverse("client_signin_sent")
    assert mail.outbox == []
    # From another address the client still gets her link.
    Client(REMOTE_ADDR=CLIENT_IP).post(reverse("client_signin"), {"email": "cleo@client.test"})
    assert [m.to for m in mail.outbox] == [["cleo@client.test"]]


def test_link_requests_are_limited_per_email_address(personas):
    for i in range(signin_limits.LINK_REQUESTS_PER_EMAIL + 3):
        response = Client(REMOTE_ADDR=f"198.51.100.{i + 10}").post(
            reverse("client_signin"), {"email": "cleo@client.test"}
        )
        assert response.status_code == 302 and response["Location"] == reverse("client_signin_sent")
    assert len(mail.outbox) == signin_limits.LINK_REQUESTS_PER_EMAIL


def test_signing_out_revokes_unused_links_and_ends_other_sessions(personas):
    phone, laptop = Client(REMOTE_ADDR=CLIENT_IP), Client(REMOTE_ADDR=CLIENT_IP)
    assert phone.post(LINK, {"t": get_token(personas.client_user)}).status_code == 302
    personas.client_user.refresh_from_db()
    assert laptop.post(LINK, {"t": get_token(personas.client_user)}).status_code == 302
    personas.client_user.refresh_from_db()
    unused = get_token(personas.client_user)  # e.g. a link asked for while signed in
    assert phone.post(reverse("account_logout")).status_code == 302
    assert phone.get(reverse("client_home")).status_code == 302
    assert laptop.get(reverse("client_home")).status_code == 302
    later = Client(REMOTE_ADDR=CLIENT_IP)
    response = later.post(LINK, {"t": unused})
    assert response.status_code == 400
    assert later.get(reverse("client_home")).status_code == 302
    # A link asked for after signing out works.
    personas.client_user.refresh_from_db()
    assert later.post(LINK, {"t": get_token(personas.client_user)}).status_code == 302


def test_idle_sign_out_does_not_end_other_sessions(personas, settings):
    phone, laptop = Client(), Client()
    sign_in(phone, personas.client_user)
    sign_in(laptop, personas.client_user)
    assert phone.get(reverse("client_home")).status_code == 200
    later = __import__("time").time() + settings.CLIENT_IDLE_MINUTES * 60 + 5
    with mock.patch("time.time", return_value=later):
        assert phone.get(reverse("client_home")).status_code == 302
        assert laptop.get(reverse("client_home")).status_code == 200


def test_staff_sign_out_ends_their_other_sessions(personas):
    desk, home = Client(), Client()
    sign_in(desk, personas.therapist)
    sign_in(home, personas.therapist)
    assert home.get(reverse("caseload")).status_code == 200
    desk.post(reverse("account_logout"))
    assert home.get(reverse("caseload")).status_code == 302
    # Other people are not signed out.
    colleague = Client()
    sign_in(colleague, personas.colleague)
    desk2 = Client()
    sign_in(desk2, personas.therapist)
    desk2.post(reverse("account_logout"))
    assert colleague.get(reverse("caseload")).status_code == 200


def test_staff_password_change_ends_other_sessions_but_keeps_this_one(personas):
    desk, home = Client(), Client()
    sign_in(desk, personas.therapist)
    sign_in(home, personas.therapist)
    new = "a much longer new passphrase 42"
    response = desk.post(
        reverse("account_change_password"),
        {"oldpassword": "correct horse battery", "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert desk.get(reverse("caseload")).status_code == 200
    assert home.get(reverse("caseload")).status_code == 302


def test_staff_email_change_ends_other_sessions_but_keeps_this_one(personas):
    desk, home = Client(), Client()
    sign_in(desk, personas.therapist)
    sign_in(home, personas.therapist)
    EmailAddress.objects.create(
        user=personas.therapist, email="tess@north.test", primary=True, verified=True
    )
    EmailAddress.objects.create(
        user=personas.therapist, email="tess.new@north.test", primary=False, verified=True
    )
    response = desk.post(
        reverse("account_email"), {"action_primary": "", "email": "tess.new@north.test"}
    )
    assert response.status_code == 302
    personas.therapist.refresh_from_db()
    assert personas.therapist.email == "tess.new@north.test"
    assert desk.get(reverse("caseload")).status_code == 200
    assert home.get(reverse("caseload")).status_code == 302


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_api_schema_needs_a_staff_session(client, personas, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and reverse("account_login") in anonymous["Location"]
    sign_in(client, personas.client_user)
    assert client.get(path).status_code == 404
    sign_in(client, personas.therapist)
    response = client.get(path)
    assert response.status_code == 200 and response.json()["info"]["title"] == "Alliance API"


def test_api_non_uuid_id_is_404_not_422(client, personas):
    sign_in(client, personas.therapist)
    for path in ("/api/v1/clients/1", "/api/v1/clients/1/measures", "/api/v1/clients/x/goals"):
        response = client.get(path)
        assert response.status_code == 404, path
    # A malformed query value is still a validation error, with its reason.
    assert client.get(f"/api/v1/clients/{personas.client.pk}").status_code == 200


def test_csrf_cookie_is_http_only_and_htmx_still_sends_the_token(personas):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, personas.client_user)
    page = browser.get(reverse("client_consents"))
    cookie = page.cookies["csrftoken"]
    assert cookie["httponly"] is True
    html = page.content.decode()

    # htmx sends the token the page carries (hx-headers on <body>), never the cookie's.
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)
    response = browser.post(
        reverse("client_consents"), {"kind": "treatment", "granted": "yes"}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 302
