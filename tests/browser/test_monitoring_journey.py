"""Rupture journey: a therapist sees a new rupture at the top of the caseload, opens the
alliance timeline, records the repair, and the alert closes when the next rating recovers."""

from __future__ import annotations

from alliance.accounts.models import Clinic, Role
from alliance.alerts.models import Alert
from alliance.clients.models import ConsentText
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode
from tests.browser.conftest import staff_login
from tests.conftest import grant, make_client, make_staff
from tests.monitoring.helpers import rate


def test_rupture_repair_journey(page):
    ConsentText.objects.get_or_create(
        kind="treatment", version=1, defaults={"body": "Consent to treatment."}
    )
    clinic = Clinic.objects.create(name="Journey Clinic")
    MonitoringSettings.objects.create(
        clinic=clinic, long_gap_days=0
    )  # past histories, nothing booked
    therapist = make_staff(
        clinic, Role.THERAPIST, "Ria Repair", "ria@journey.test", "a long journey password"
    )
    steady = make_client(clinic, "Abel Steady", "abel@client.test", [therapist])
    kit = make_client(clinic, "Kit Keeper", "kit@client.test", [therapist])
    for record in (steady, kit):
        grant(record, "treatment", therapist)
        for n in range(1, 5):
            rate(record, n, 5)
    rate(
        kit, 5, 2, felt_off=True
    )  # the client's latest check: a clear dip, and "something felt off"

    staff_login(page, "ria@journey.test", "a long journey password")
    page.goto("/caseload/")
    first_row = page.locator("#caseload tbody tr").first
    assert "Kit Keeper" in first_row.inner_text()
    assert "Possible rupture at session 5" in first_row.inner_text()
    first_row.get_by_role("link", name="Alliance timeline").click()

    page.get_by_role("heading", name="Alliance timeline — Kit Keeper").wait_for()
    assert page.locator("svg .episode-band.episode-open").count() == 1
    summary = page.locator("#timeline-summary").inner_text()
    assert "Alliance dipped at session 5 after the client said something felt off" in summary
    assert page.locator("#alliance-table tbody tr").count() == 5
    page.get_by_role("link", name="Acknowledge and record the repair").click()

    page.get_by_label("Cleared up a misunderstanding").check()
    page.get_by_label("Acknowledged my own part in what went wrong").check()
    page.get_by_label("Notes (optional)").fill("We talked about the homework I set without asking.")
    page.get_by_role("button", name="Record the repair").click()
    page.get_by_text("Repair recorded.").wait_for()
    page.get_by_text("We talked about the homework I set without asking.").wait_for()
    episode = RuptureEpisode.objects.get(client=kit)
    alert = Alert.objects.get(pk=episode.alert_id)
    assert alert.status == "acknowledged" and episode.repair_approaches == ["clarify", "own_part"]

    rate(kit, 6, 5)  # the next session's rating is back at the client's level
    page.reload()
    assert "back to baseline by session 6" in page.locator("#timeline-summary").inner_text()
    assert page.locator("svg .episode-band.episode-repaired").count() == 1
    assert Alert.objects.get(pk=alert.pk).status == "closed"
    page.goto("/caseload/")
    assert "Possible rupture" not in page.locator("#caseload").inner_text()
