"""Immediate safety notices: item 9 and concerns reach the treating therapist at once (email),
the on-call contacts by email and SMS, through the real worker; SMS goes to a real local HTTP
server that speaks the provider's API; failures are retried and shown to the clinic admin."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alliance.alerts.models import Alert
from alliance.checkins.services import raise_concern
from alliance.monitoring import notices
from alliance.monitoring.models import MonitoringSettings, SafetyNotice
from tests.conftest import run_worker, sign_in
from tests.measures.test_safety import submit_item9

SECRETS = ("Cleo", "Client", "cleo@client.test")


class FakeProvider:
    """A Twilio-compatible Messages endpoint on 127.0.0.1 that records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                provider.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization", ""), "form": form}
                )
                if provider.fail_with:
                    status, body = provider.fail_with, {"code": 20500, "message": "Internal error"}
                else:
                    status, body = 201, {"sid": "SM123", "status": "queued"}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider(settings):
    with FakeProvider() as p:
        settings.SMS_BACKEND = "alliance.core.sms.TwilioCompatibleBackend"
        settings.SMS_API_URL = p.url
        settings.SMS_ACCOUNT_SID = "AC_test"
        settings.SMS_AUTH_TOKEN = "token_test"
        settings.DEFAULT_FROM_SMS = "+12065550100"
        yield p


def _on_call(clinic, sms: bool = True) -> None:
    s = MonitoringSettings.for_clinic(clinic)
    s.on_call_email = "duty@north.test"
    s.sms_enabled = sms
    s.on_call_sms = "+12065550199"
    s.save()


@pytest.mark.django_db(transaction=True)
def test_item9_tells_the_therapist_and_on_call_at_once_without_clinical_content(
    client, personas, provider
):
    _on_call(personas.clinic)
    submit_item9(client, personas)
    alert = Alert.objects.get(kind="safety")
    assert SafetyNotice.objects.filter(status="pending").count() == 3
    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == ["duty@north.test", "tess@north.test"]
    for m in mail.outbox:
        assert m.subject == "Alliance: a safety alert needs attention now"
        assert "http://127.0.0.1:8000/alerts/" in m.body
        text = m.subject + m.body
        for secret in (
            *SECRETS,
            str(personas.client.pk),
            personas.client.pseudonym,
            "item 9",
            "PHQ",
        ):
            assert secret not in text
    (sms,) = provider.requests
    assert sms["path"] == "/2010-04-01/Accounts/AC_test/Messages.json"
    assert sms["auth"] == "Basic " + base64.b64encode(b"AC_test:token_test").decode()
    assert sms["form"]["To"] == ["+12065550199"] and sms["form"]["From"] == ["+12065550100"]
    assert "safety alert" in sms["form"]["Body"][0] and "Cleo" not in sms["form"]["Body"][0]
    rows = {(n.channel, n.role, n.status, n.attempts) for n in SafetyNotice.objects.all()}
    assert rows == {
        ("email", "therapist", "sent", 1),
        ("email", "on-call", "sent", 1),
        ("sms", "on-call", "sent", 1),
    }
    assert all(n.alert_id == alert.pk for n in SafetyNotice.objects.all())
    # Idempotent: a second positive item 9 joins the open alert and sends nothing new, and a
    # second run of a delivered notice's task sends nothing either.
    submit_item9(client, personas)
    for n in SafetyNotice.objects.all():
        assert notices.deliver_safety_notice.call(str(n.pk)) == "sent"
    run_worker()
    assert len(mail.outbox) == 2 and len(provider.requests) == 1
    assert SafetyNotice.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_concern_tells_the_treating_therapist(personas):
    raise_concern(
        personas.client, personas.client_user, "not_working", "The homework feels pointless."
    )
    run_worker()
    (m,) = mail.outbox
    assert m.to == ["tess@north.test"] and m.subject == "Alliance: a client raised a concern"
    assert "homework" not in m.body and "Cleo" not in m.body
    notice = SafetyNotice.objects.get()
    assert (notice.source, notice.status, notice.recipient) == (
        "concern",
        "sent",
        personas.therapist,
    )


@pytest.mark.django_db(transaction=True)
def test_sms_failures_are_retried_with_back_off_then_shown_to_the_admin(client, personas, provider):
    _on_call(personas.clinic)
    provider.fail_with = 500
    submit_item9(client, personas)
    run_worker()
    sms = SafetyNotice.objects.get(channel="sms")
    assert (sms.status, sms.attempts, sms.last_error) == (
        "retrying",
        1,
        "provider answered HTTP 500 (code 20500)",
    )
    assert (
        dt.timedelta(seconds=50)
        < sms.next_attempt_at - sms.last_attempt_at
        <= dt.timedelta(minutes=1)
    )
    retry = DBTaskResult.objects.filter(status="READY", args_kwargs__args=[str(sms.pk)]).get()
    assert retry.run_after == sms.next_attempt_at
    run_worker()  # not due yet: nothing is tried early
    assert len(provider.requests) == 1
    # The remaining attempts fail too; each schedules the next with a longer gap.
    gaps = []
    for _ in range(4):
        SafetyNotice.objects.filter(pk=sms.pk).update(
            next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
        )
        DBTaskResult.objects.filter(status="READY").update(
            run_after=timezone.now() - dt.timedelta(seconds=1)
        )
        run_worker()
        sms.refresh_from_db()
        if sms.next_attempt_at:
            gaps.append(round((sms.next_attempt_at - sms.last_attempt_at).total_seconds() / 60))
    assert gaps == [5, 15, 60]
    assert (sms.status, sms.attempts, len(provider.requests)) == ("failed", 5, 5)
    assert not DBTaskResult.objects.filter(status="READY").exists()
    # The admin sees it, failures first, and can send it again once the provider is back.
    sign_in(client, personas.admin)
    page = client.get(reverse("safety_notices"))
    html = page.content.decode()
    assert "1 notice not delivered" in html and "Send again" in html
    assert [n.status for n in page.context["notices"]][0] == "failed"
    assert "Cleo" not in html
    provider.fail_with = None
    r = client.post(reverse("safety_notices"), {"form": "resend", "notice": str(sms.pk)})
    assert r.status_code == 302
    run_worker()
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, len(provider.requests)) == ("sent", 1, 6)


def test_safety_notices_page_is_for_the_clinic_admin_and_validates(client, personas):
    for user in (personas.therapist, personas.supervisor, personas.client_user):
        sign_in(client, user)
        assert client.get(reverse("safety_notices")).status_code in (403, 404)
    sign_in(client, personas.admin)
    r = client.post(
        reverse("safety_notices"),
        {
            "form": "settings",
            "escalation_hours": "4",
            "on_call_email": "",
            "sms_enabled": "on",
            "on_call_sms": "",
        },
    )
    assert (
        r.status_code == 400 and "Enter the on-call number to switch SMS on." in r.content.decode()
    )
    r = client.post(
        reverse("safety_notices"),
        {
            "form": "settings",
            "escalation_hours": "4",
            "on_call_email": "duty@north.test",
            "on_call_sms": "555-0199",
        },
    )
    assert r.status_code == 400 and "international form" in r.content.decode()
    s = MonitoringSettings.for_clinic(personas.clinic)
    assert (s.on_call_email, s.sms_enabled, s.on_call_sms) == ("", False, "")
    r = client.post(
        reverse("safety_notices"),
        {
            "form": "settings",
            "escalation_hours": "2",
            "on_call_email": "duty@north.test",
            "sms_enabled": "on",
            "on_call_sms": "+12065550199",
        },
    )
    assert r.status_code == 302
    s = MonitoringSettings.for_clinic(personas.clinic)
    assert (s.escalation_hours, s.on_call_email, s.sms_enabled, s.on_call_sms) == (
        2,
        "duty@north.test",
        True,
        "+12065550199",
    )
    # The escalation time stays between 1 and 72 hours; a refused value changes nothing.
    for hours in ("0", "73", "soon"):
        r = client.post(
            reverse("safety_notices"),
            {"form": "settings", "escalation_hours": hours, "on_call_email": "duty@north.test"},
        )
        assert r.status_code == 400
    assert MonitoringSettings.for_clinic(personas.clinic).escalation_hours == 2
    # Another clinic's notice cannot be resent from here.
    r = client.post(
        reverse("safety_notices"),
        {"form": "resend", "notice": "00000000-0000-0000-0000-000000000000"},
    )
    assert r.status_code == 404


def test_no_sms_unless_the_clinic_switched_it_on(personas):
    _on_call(personas.clinic, sms=False)
    notices.notify(personas.client, "safety", personas.client.pk)
    assert sorted(SafetyNotice.objects.values_list("channel", "address")) == [
        ("email", "duty@north.test"),
        ("email", "tess@north.test"),
    ]
