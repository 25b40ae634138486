"""A django-sms backend for any provider that speaks Twilio's Messages API.

django-sms ships a Twilio backend built on the ``twilio`` SDK, which always talks to Twilio's
own hosts. This backend posts the same form (``To``, ``From``, ``Body``) with HTTP basic auth
to ``SMS_API_URL``, so one class serves Twilio and the providers that copy its API, and a test
can point it at a small local server instead of the real provider.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from sms.backends.base import BaseSmsBackend
from sms.message import Message


class SmsDeliveryError(Exception):
    """The provider refused or could not be reached; the message says why, with no content."""


class TwilioCompatibleBackend(BaseSmsBackend):
    timeout = 10

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.api_url = str(kwargs.get("api_url") or settings.SMS_API_URL).rstrip("/")
        self.account_sid = str(kwargs.get("account_sid") or settings.SMS_ACCOUNT_SID)
        self.auth_token = str(kwargs.get("auth_token") or settings.SMS_AUTH_TOKEN)
        if not (self.account_sid and self.auth_token):
            raise ImproperlyConfigured("Set SMS_ACCOUNT_SID and SMS_AUTH_TOKEN to send SMS.")

    def _post(self, to: str, originator: str, body: str) -> None:
        url = f"{self.api_url}/2010-04-01/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": originator, "Body": body}).encode()
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Authorization": f"Basic {credentials}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            # The provider's own code and message (Twilio: {"code", "message"}); never the body.
            try:
                detail = json.loads(exc.read() or b"{}")
            except ValueError:
                detail = {}
            code = detail.get("code", "") if isinstance(detail, dict) else ""
            raise SmsDeliveryError(
                f"provider answered HTTP {exc.code}" + (f" (code {code})" if code else "")
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsDeliveryError(f"provider not reachable: {type(reason).__name__}") from None
        except ValueError:
            raise SmsDeliveryError("provider answered something that is not JSON") from None
        if isinstance(payload, dict) and payload.get("status") in ("failed", "undelivered"):
            raise SmsDeliveryError(f"provider reports the message {payload['status']}")

    def send_messages(self, messages: list[Message]) -> int:
        sent = 0
        for message in messages:
            for recipient in message.recipients:
                try:
                    self._post(recipient, message.originator, message.body)
                except SmsDeliveryError:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent
