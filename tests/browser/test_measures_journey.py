"""A client on a phone answers a PHQ-9 with item 9 = 1 and sees the crisis resources at once;
the therapist sees the safety alert at the top and acknowledges it with what was done."""

from __future__ import annotations

import pytest

from alliance.accounts.models import Clinic, Role
from alliance.alerts.models import Alert
from alliance.measures.models import Administration
from tests.browser.conftest import client_login, staff_login
from tests.conftest import make_client, make_staff

pytestmark = pytest.mark.browser


def test_phq9_item9_on_a_phone_then_therapist_acknowledges(phone_page, page):
    clinic = Clinic.objects.create(
        name="Journey Clinic",
        crisis_resources="Call or text 988, or chat at 988lifeline.org. In danger: 911.",
    )
    therapist = make_staff(
        clinic, Role.THERAPIST, "Jo Journey", "jo@journey.test", "a long journey password"
    )
    record = make_client(clinic, "Kit Keeper", "kit@client.test", [therapist])
    Administration.objects.create(clinic=clinic, client=record, instrument_id="phq9")

    # The client, on a 375px-wide phone.
    client_login(phone_page, record.user)
    phone_page.get_by_role("link", name="Answer the PHQ-9").click()
    phone_page.wait_for_url("**/me/measures/**")
    assert phone_page.get_by_role("heading", level=1).inner_text() == "PHQ-9"
    for n in range(1, 9):
        phone_page.locator(f"#q-item{n}").get_by_label("Not at all").check()
    phone_page.locator("#q-item9").get_by_label("Several days").check()
    phone_page.get_by_text("9 of 9 answered").wait_for()  # progress saved through htmx
    # Nothing on the form is wider than the phone.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    phone_page.get_by_role("button", name="Send my answers").click()
    phone_page.wait_for_url("**/done/")
    crisis = phone_page.locator("#crisis")
    assert crisis.is_visible()
    assert "988lifeline.org" in crisis.inner_text()
    assert "not watched in real time" in crisis.inner_text()

    # The therapist: the safety alert is at the top of the client's page.
    staff_login(page, "jo@journey.test", "a long journey password")
    page.get_by_role("link", name="Kit Keeper").click()
    banner = page.locator("#panel-alerts")
    assert "SAFETY" in banner.inner_text()
    banner.get_by_role("link", name="Acknowledge and record what was done").click()
    # A note of what was done is required (the server refuses an empty one too).
    assert page.get_by_label("What was done").get_attribute("required") is not None
    page.get_by_label("What was done").fill(
        "Called Kit; reviewed the safety plan; next contact tomorrow."
    )
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"**/clients/{record.pk}/")
    assert "Alert acknowledged" in page.locator(".messages").inner_text()
    page.goto("/alerts/")
    assert "No alerts need attention." in page.locator("main").inner_text()
    alert = Alert.objects.get(client=record, kind="safety")
    assert alert.status == "acknowledged" and alert.acknowledged_by == therapist
