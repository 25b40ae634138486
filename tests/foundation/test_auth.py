"""Sign-in: MFA for staff, lockout, single-use expiring client links, inactivity logoff."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from sesame.utils import get_token

from alliance.accounts.models import Role
from alliance.core import crypto
from tests.conftest import make_staff, sign_in


def current_code(user) -> str:
    auth = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return format_hotp_value(
        hotp_value(crypto.decrypt(auth.data["secret"]), int(time.time()) // 30)
    )


def test_staff_password_alone_does_not_sign_in(client, personas):
    response = client.post(
        reverse("account_login"), {"login": "tess@north.test", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("caseload")).status_code == 302  # still not signed in
    done = client.post(reverse("mfa_authenticate"), {"code": current_code(personas.therapist)})
    assert done.status_code == 302
    assert client.get(reverse("caseload")).status_code == 200


def test_wrong_totp_code_is_refused(client, personas):
    client.post(
        reverse("account_login"), {"login": "tess@north.test", "password": "correct horse battery"}
    )
    wrong = "000000" if current_code(personas.therapist) != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert client.get(reverse("caseload")).status_code == 302


def test_staff_without_mfa_must_set_it_up_first(client, personas):
    newcomer = make_staff(
        personas.clinic,
        Role.THERAPIST,
        "Nina New",
        "nina@north.test",
        "another long password",
        mfa=False,
    )
    client.post(
        reverse("account_login"), {"login": "nina@north.test", "password": "another long password"}
    )
    response = client.get(reverse("caseload"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before MFA can be set up.
    gate = client.get(reverse("mfa_activate_totp"))
    assert gate.status_code == 302 and gate["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(gate["Location"], {"password": "another long password"})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    client.post(reverse("mfa_activate_totp"), {"code": code})
    assert Authenticator.objects.filter(user=newcomer, type="totp").exists()
    assert client.get(reverse("caseload")).status_code == 200


def test_staff_cannot_remove_their_totp(client, personas):
    sign_in(client, personas.therapist)
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=personas.therapist, type="totp").exists()


def test_totp_secret_is_encrypted_at_rest(personas):
    auth = Authenticator.objects.get(user=personas.therapist, type="totp")
    assert auth.data["secret"].startswith(crypto.PREFIX)


def test_lockout_after_repeated_failures(client, personas):
    for _ in range(5):
        client.post(
            reverse("account_login"), {"login": "tess@north.test", "password": "wrong password"}
        )
    response = client.post(
        reverse("account_login"), {"login": "tess@north.test", "password": "correct horse battery"}
    )
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert client.get(reverse("caseload")).status_code == 302
    # Another account is not affected.
    other = client.post(reverse("account_login"), {"login": "colin@north.test", "password": "x"})
    assert other.status_code == 200


def _link_from_mail() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/signin/link/\?t=\S+)", body).group(1)


def test_client_link_signs_in_once(client, personas):
    client.post(reverse("client_signin"), {"email": "Cleo@Client.test"})
    assert len(mail.outbox) == 1
    link = _link_from_mail()
    token = link.split("t=")[1]
    assert "Cleo" not in mail.outbox[0].subject
    # Opening the link (a mail scanner would) does not sign in or use the token.
    page = client.get(link)
    assert page.status_code == 200 and b"Sign in now" in page.content
    assert client.get(reverse("client_home")).status_code == 302
    response = client.post(reverse("client_signin_link"), {"t": token})
    assert response.status_code == 302 and response["Location"] == reverse("client_home")
    assert client.get(reverse("client_home")).status_code == 200
    client.logout()
    reused = client.post(reverse("client_signin_link"), {"t": token})
    assert reused.status_code == 400
    assert b"expired or was already used" in reused.content
    assert b"Send me a new link" in reused.content


def test_client_link_expires(client, personas, settings):
    client.post(reverse("client_signin"), {"email": "cleo@client.test"})
    token = _link_from_mail().split("t=")[1]

    later = time.time() + settings.SESAME_MAX_AGE + 5
    with mock.patch("time.time", return_value=later):
        response = client.post(reverse("client_signin_link"), {"t": token})
    assert response.status_code == 400
    assert client.get(reverse("client_home")).status_code == 302


def test_unknown_or_staff_email_gets_the_same_answer_and_no_mail(client, personas):
    for email in ("nobody@nowhere.test", "tess@north.test"):
        response = client.post(reverse("client_signin"), {"email": email})
        assert response.status_code == 302 and response["Location"] == reverse("client_signin_sent")
    assert mail.outbox == []


def test_malformed_email_shows_the_form_again(client, db):
    response = client.post(reverse("client_signin"), {"email": "not-an-email"})
    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content


def test_staff_link_tokens_are_refused(client, personas):
    response = client.post(reverse("client_signin_link"), {"t": get_token(personas.therapist)})
    assert response.status_code == 400
    assert client.get(reverse("caseload")).status_code == 302


@override_settings(STAFF_IDLE_MINUTES=15)
def test_staff_are_signed_out_after_inactivity(client, personas):
    sign_in(client, personas.therapist)
    assert client.get(reverse("caseload")).status_code == 200
    with mock.patch("alliance.core.middleware.time.time", return_value=time.time() + 16 * 60):
        response = client.get(reverse("caseload"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


@pytest.mark.parametrize("minutes_idle,still_in", [(10, True), (20, False)])
def test_client_idle_limit_is_longer(client, personas, minutes_idle, still_in, settings):
    settings.CLIENT_IDLE_MINUTES = 15
    sign_in(client, personas.client_user)
    client.get(reverse("client_home"))
    with mock.patch(
        "alliance.core.middleware.time.time", return_value=time.time() + minutes_idle * 60
    ):
        response = client.get(reverse("client_home"))
    assert (response.status_code == 200) is still_in


def test_recovery_code_signs_in_once_instead_of_totp(client, personas):
    codes = RecoveryCodes.activate(personas.therapist).get_unused_codes()
    client.post(
        reverse("account_login"), {"login": "tess@north.test", "password": "correct horse battery"}
    )
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.get(reverse("caseload")).status_code == 200
    client.logout()
    client.post(
        reverse("account_login"), {"login": "tess@north.test", "password": "correct horse battery"}
    )
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.get(reverse("caseload")).status_code == 302


def test_staff_sign_in_page_does_not_invite_a_sign_up(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert "sign up" not in page.lower() and reverse("account_signup") not in page
    assert "clinic admin creates your account" in page
    assert reverse("client_signin") in page
