"""Monitoring pages: persona matrix, the timeline, recording a repair, the therapist's own
rating, snooze, "was this useful?", the usefulness report and the clinic settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.core.models import AuditEvent
from alliance.measures.models import Response
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode
from tests.conftest import (
    ADMIN_AND_SUPERVISOR,
    ADMIN_ONLY,
    CARE_TEAM_ONLY,
    assert_persona_matrix,
    sign_in,
)
from tests.monitoring.helpers import phq9, rate, series, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def dip(personas):
    MonitoringSettings.objects.create(clinic=personas.clinic, long_gap_days=0)
    series(personas.client, [5, 5, 5, 5, 2])
    return RuptureEpisode.objects.get(client=personas.client)


def test_persona_matrix(client, personas, dip):
    alert = Alert.objects.get(client=personas.client, kind="rupture")
    cases = [
        (reverse("alliance_timeline", args=[personas.client.pk]), CARE_TEAM_ONLY),
        (reverse("alliance_therapist_rating", args=[personas.client.pk]), CARE_TEAM_ONLY),
        (reverse("rupture_episode_repair", args=[dip.pk]), CARE_TEAM_ONLY),
        (reverse("alert_snooze", args=[alert.pk]), CARE_TEAM_ONLY),
        (reverse("alert_usefulness_report"), ADMIN_AND_SUPERVISOR),
        (reverse("monitoring_settings"), ADMIN_ONLY),
    ]
    for url, expected in cases:
        assert_persona_matrix(client, personas, url, expected)
    sign_in(client, personas.colleague)
    assert (
        client.post(reverse("alert_useful", args=[alert.pk]), {"useful": "yes"}).status_code == 404
    )
    assert Alert.objects.get(pk=alert.pk).useful is None


def test_timeline_chart_table_summary_and_episode(client, personas, dip):
    c = personas.client
    rate(c, 5, 5.5, instrument="sac_therapist")
    session(c, 6, status="missed")
    phq9(c, 1, 14)
    phq9(c, 5, 16)
    sign_in(client, personas.therapist)
    html = client.get(reverse("alliance_timeline", args=[c.pk])).content.decode()
    assert "<svg" in html and 'id="pat-open"' in html and "episode-band episode-open" in html
    assert (
        "Alliance dipped at session 5 (lowest 2 at session 5); watching for a return to the earlier level until session 8."
        in html
    )
    assert "The therapist rated session 5 at least 1.5 points higher than the client did." in html
    assert "Missed or cancelled: session 6." in html
    assert 'id="alliance-table"' in html and "(therapist clearly higher)" in html
    assert "PHQ-9 (0–27, lower is better)" in html and "missed" in html
    assert "Settings used: k 2.0" in html and "at or below the client&#x27;s own level 5" in html


def test_recording_a_repair_then_recovery_closes_the_alert(client, personas, dip):
    c = personas.client
    sign_in(client, personas.therapist)
    url = reverse("rupture_episode_repair", args=[dip.pk])
    assert client.post(url, {"note": "  "}).status_code == 400  # nothing chosen, nothing written
    response = client.post(
        url, {"approach": ["clarify", "own_part"], "note": "We talked about the homework mix-up."}
    )
    assert response.status_code == 302
    dip.refresh_from_db()
    assert (
        dip.repair_approaches == ["clarify", "own_part"]
        and dip.acknowledged_by == personas.therapist
    )
    with connection.cursor() as cur:
        cur.execute("SELECT repair_note FROM monitoring_ruptureepisode WHERE id = %s", [dip.pk.hex])
        raw = cur.fetchone()
    if raw:  # SQLite stores UUIDs as hex; PostgreSQL as uuid (checked below either way)
        assert "homework" not in str(raw[0])
    alert = Alert.objects.get(pk=dip.alert_id)
    assert alert.status == "acknowledged" and "Cleared up a misunderstanding" in alert.action_taken
    assert AuditEvent.objects.filter(
        client=c, record_type="rupture_episode", action="update"
    ).exists()
    timeline = client.get(reverse("alliance_timeline", args=[c.pk])).content.decode()
    assert (
        "We talked about the homework mix-up." in timeline
        and "Acknowledged my own part" in timeline
    )

    rate(c, 6, 5)
    dip.refresh_from_db()
    alert.refresh_from_db()
    assert dip.status == "repaired" and alert.status == "closed"
    timeline = client.get(reverse("alliance_timeline", args=[c.pk])).content.decode()
    assert (
        "back to baseline by session 6" in timeline and "episode-band episode-repaired" in timeline
    )


def test_therapist_rates_a_session_from_the_form(client, personas, dip):
    sign_in(client, personas.therapist)
    url = reverse("alliance_therapist_rating", args=[personas.client.pk])
    page = client.get(url).content.decode()
    assert "Session 5" in page and "not a validated instrument" in page.lower()
    bad = client.post(url, {"session": "5", "item1": "6"})
    assert bad.status_code == 400
    ok = client.post(
        url,
        {"session": "5", "item1": "6", "item2": "5", "item3": "6", "item4": "5", "felt_off": "0"},
    )
    assert ok.status_code == 302

    r = Response.objects.get(client=personas.client, instrument_id="sac_therapist")
    assert (r.session_number, r.total, r.entered_by) == (5, 5.5, personas.therapist)
    assert Alert.objects.get(client=personas.client, kind="disagreement").evidence[-1]["gap"] == 3.5
    assert "Session 5" not in client.get(url).content.decode()  # rated once


def test_snooze_with_reason_and_wake_up(client, personas, dip):
    alert = Alert.objects.get(client=personas.client, kind="rupture")
    sign_in(client, personas.therapist)
    url = reverse("alert_snooze", args=[alert.pk])
    assert client.post(url, {"days": "3", "reason": ""}).status_code == 400
    assert (
        client.post(
            url, {"days": "3", "reason": "Discussed today; waiting for the next rating"}
        ).status_code
        == 302
    )
    alert.refresh_from_db()
    assert (
        alert.status == "snoozed"
        and alert.snooze_reason.startswith("Discussed")
        and alert.snoozed_by == personas.therapist
    )
    page = client.get(reverse("alert_list"))
    assert alert in page.context["snoozed_alerts"] and alert not in page.context["open_alerts"]
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=timezone.now() - dt.timedelta(seconds=1))
    page = client.get(reverse("alert_list"))
    assert alert in page.context["open_alerts"]  # woke up by itself
    alert.refresh_from_db()
    assert alert.status == "snoozed"  # read as open; the periodic pass stores the wake-up


def test_safety_alerts_cannot_be_snoozed(client, personas):
    alert, _ = Alert.raise_for(personas.client, "safety", "item 9", {})
    sign_in(client, personas.therapist)
    response = client.post(
        reverse("alert_snooze", args=[alert.pk]), {"days": "1", "reason": "busy"}
    )
    assert b"cannot be snoozed" in response.content
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_usefulness_marking_and_report(client, personas, dip):
    rupture = Alert.objects.get(client=personas.client, kind="rupture")
    disagreement, _ = Alert.raise_for(
        personas.client, "disagreement", "x", {}, rules=["disagreement"]
    )
    Alert.raise_for(
        personas.other_client, "disengagement", "y", {}, rules=["missed_sessions", "long_gap"]
    )
    Alert.raise_for(
        personas.foreign_client, "disagreement", "z", {}, rules=["disagreement"]
    )  # other clinic
    sign_in(client, personas.therapist)
    client.post(reverse("alert_useful", args=[rupture.pk]), {"useful": "yes"})
    client.post(reverse("alert_useful", args=[disagreement.pk]), {"useful": "no"})
    assert Alert.objects.get(pk=rupture.pk).useful is True
    assert Alert.objects.get(pk=disagreement.pk).useful_marked_by == personas.therapist
    sign_in(client, personas.supervisor)
    response = client.get(reverse("alert_usefulness_report"))
    table = {r["rule"]: r for r in response.context["table"]}
    assert (
        table["k_sd"]["raised"] == 1
        and table["k_sd"]["useful"] == 1
        and table["k_sd"]["percent_useful"] == 100
    )
    assert (
        table["disagreement"]["raised"] == 1 and table["disagreement"]["not_useful"] == 1
    )  # not the other clinic's
    assert table["missed_sessions"]["unmarked"] == 1 and table["long_gap"]["raised"] == 1
    html = response.content.decode()
    assert "Cleo" not in html and "Otto" not in html


def test_admin_changes_settings_and_bad_values_are_refused(client, personas):
    sign_in(client, personas.admin)
    url = reverse("monitoring_settings")
    data = {
        f.name: getattr(MonitoringSettings(), f.name)
        for f in MonitoringSettings._meta.fields
        if f.name not in ("id", "clinic")
    }
    data = {k: "" if v is None else v for k, v in data.items()}
    assert client.post(url, {**data, "k": "0"}).status_code == 400
    assert client.post(url, {**data, "k": "1", "disagreement_gap": "2"}).status_code == 302
    ms = MonitoringSettings.objects.get(clinic=personas.clinic)
    assert ms.k == 1 and ms.disagreement_gap == 2


def test_every_monitoring_setting_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs/monitoring.md").read_text()
    fields = [f.name for f in MonitoringSettings._meta.fields if f.name not in ("id", "clinic")]
    assert [f for f in fields if f"`{f}`" not in doc] == []
