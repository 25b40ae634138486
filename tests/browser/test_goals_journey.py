"""Goals and check-ins journey on a phone: the client proposes a goal, the therapist agrees, the client
completes a check-in from an emailed link, raises a concern, and the therapist acknowledges it."""

from __future__ import annotations

import re
from datetime import time, timedelta

from django.core import mail
from django.utils import timezone

from alliance.accounts.models import Clinic, Role
from alliance.checkins.models import CheckInPlan, CheckInSchedule, Concern
from alliance.checkins.schedule import run_cycle
from alliance.clients.models import ConsentText
from alliance.goals.models import Goal
from tests.browser.conftest import client_login, staff_login
from tests.conftest import grant, make_client, make_staff


def test_goal_check_in_and_concern_journey(phone_page, page):
    # An earlier transactional test's flush may have removed the seeded consent texts.
    ConsentText.objects.get_or_create(
        kind="treatment", version=1, defaults={"body": "Consent to treatment."}
    )
    clinic = Clinic.objects.create(name="Journey Clinic")
    therapist = make_staff(
        clinic, Role.THERAPIST, "Jo Journey", "jo@journey.test", "a long journey password"
    )
    record = make_client(clinic, "Kit Keeper", "kit@client.test", [therapist])
    grant(record, "treatment", therapist)

    # The client, on a phone, proposes a goal in their own words.
    client_login(phone_page, record.user)
    phone_page.goto("/me/goals/")
    phone_page.get_by_label("The goal, in your own words").fill(
        "Cook dinner at home three nights a week"
    )
    phone_page.get_by_role("button", name="Propose this goal").click()
    phone_page.get_by_text("It becomes active when your therapist agrees").wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375

    # The therapist agrees.
    staff_login(page, "jo@journey.test", "a long journey password")
    page.goto(f"/clients/{record.pk}/goals/")
    page.get_by_role("button", name="I agree to this goal").click()
    page.get_by_text("Goal agreed by both of you").wait_for()
    assert Goal.objects.get(client=record).status == "active"

    # The worker emails a check-in link; the client completes it from the email.
    CheckInSchedule.objects.create(
        clinic=clinic,
        client=record,
        cadence="daily",
        start_date=timezone.localdate() - timedelta(days=2),
        due_time=time(0, 0),
    )
    plan = CheckInPlan.for_client(record)
    plan.quiet_start = plan.quiet_end = time(0, 0)
    plan.save()
    run_cycle(timezone.now())
    link = re.search(r"https?://[^/]+(/check-in/\?t=[\w-]+)", mail.outbox[-1].body).group(1)
    phone_page.goto(link)
    phone_page.get_by_label("7", exact=True).check()
    phone_page.get_by_label("Anything you want your therapist to know? (optional)").fill(
        "Cooking went well"
    )
    phone_page.get_by_role("button", name="Send my check-in").click()
    phone_page.get_by_text("your check-in was sent").wait_for()
    phone_page.goto(link)
    phone_page.get_by_text("This link was already used").wait_for()

    # The client raises a concern and is told who can read it.
    phone_page.goto("/me/concerns/")
    phone_page.get_by_text("Who can read this").wait_for()
    phone_page.get_by_label("I don't feel heard or understood").check()
    phone_page.get_by_label("Tell us more (optional)").fill("The last session felt rushed")
    phone_page.get_by_role("button", name="Send my concern").click()
    phone_page.get_by_text("Not read yet").wait_for()

    # The therapist sees it on the client page and acknowledges it; the client sees when.
    page.goto(f"/clients/{record.pk}/")
    page.get_by_text("The last session felt rushed").wait_for()
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("The client can see that you read it").wait_for()
    assert Concern.objects.get(client=record).acknowledged_by == therapist
    phone_page.goto("/me/concerns/")
    phone_page.get_by_text("Read by your therapist on").wait_for()
