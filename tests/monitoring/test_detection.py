"""Each rule on constructed series, through the real write path and the Django models."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from alliance.alerts.models import Alert
from alliance.checkins.models import Concern
from alliance.checkins.services import on_concern_raised
from alliance.goals.models import Task, TaskUpdate
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode
from tests.conftest import grant, sign_in
from tests.goals.test_goals import earlier, make_goal
from tests.monitoring.helpers import START, rate, series

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_gap_rule(personas):
    # The constructed histories lie in the past with nothing booked; the long-gap rule
    # (tested in test_disengagement) would rightly fire on them.
    MonitoringSettings.objects.create(clinic=personas.clinic, long_gap_days=0)


def episodes(client):
    return list(RuptureEpisode.objects.filter(client=client).order_by("start_session"))


def test_v_shaped_dip_opens_an_episode_and_the_return_repairs_it(personas):
    c = personas.client
    series(c, [5, 5, 5, 5, 2])
    (e,) = episodes(c)
    assert e.status == "open" and e.start_session == 5
    assert set(e.rules) == {"k_sd", "cutoff", "drop"}
    assert e.evidence["baseline_mean"] == 5 and e.evidence["threshold"] == pytest.approx(3.8)
    assert (
        e.rule_settings["k"] == 2.0 and e.rule_settings["repair_window"] == 3
    )  # settings stored with it
    alert = Alert.objects.get(client=c, kind="rupture")
    assert alert.status == "open" and "session 5" in alert.reason
    assert alert.evidence[-1]["episode"] == str(e.pk) and set(alert.rules) == {
        "k_sd",
        "cutoff",
        "drop",
    }

    rate(c, 6, 5)
    e.refresh_from_db()
    alert.refresh_from_db()
    assert (e.status, e.end_session) == ("repaired", 6) and e.closed_at is not None
    assert alert.status == "closed" and "session 6" in alert.close_reason


def test_slow_decline_is_caught_by_the_cutoff_not_by_k_sd(personas):
    c = personas.client
    series(c, [5.5, 5.25, 5, 4.75, 4.5, 4.25, 4, 3.75])
    (e,) = episodes(c)
    assert e.start_session == 8 and e.rules == ["cutoff"]


def test_ceiling_stuck_series_is_low_information_not_silence(client, personas):
    c = personas.client
    series(c, [6, 6, 6, 6, 6, 6])
    assert episodes(c) == [] and not Alert.objects.filter(client=c).exists()
    sign_in(client, personas.therapist)
    html = client.get(reverse("alliance_timeline", args=[c.pk])).content.decode()
    assert (
        'id="low-information"' in html and "6 of 6 ratings (100%) are at the scale maximum" in html
    )


def test_noise_does_not_alert(personas):
    c = personas.client
    series(c, [5, 4.75, 5.25, 5, 4.5, 5.25, 5, 5.5, 4.75, 5])
    assert episodes(c) == []
    assert not Alert.objects.filter(client=c).exists()


def test_a_dip_never_repaired_escalates_to_the_therapist_without_supervision_consent(
    personas, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    c = personas.client
    series(c, [5, 5, 5, 2, 2.5, 2.5])
    (e,) = episodes(c)
    assert e.status == "open"
    with django_capture_on_commit_callbacks(execute=True):
        rate(c, 7, 2.5)  # the window (3 sessions after the start) has passed
    e.refresh_from_db()
    assert e.status == "unrepaired" and e.end_session == 7 and e.escalated_to == "therapist"
    assert Alert.objects.get(pk=e.alert_id).status == "closed"
    unrepaired = Alert.objects.get(client=c, kind="unrepaired_rupture", status="open")
    assert unrepaired.escalated_to == "therapist" and unrepaired.escalated_at is None
    assert "Raise it with the client directly" in unrepaired.reason

    assert mail.outbox == []  # no supervisor is told without the client's consent
    assert unrepaired.evidence[-1]["escalated_to"] == "therapist"


def test_unrepaired_rupture_goes_to_the_supervisor_only_with_consent(
    client, personas, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    c = personas.client
    grant(c, "supervision", personas.therapist)
    with django_capture_on_commit_callbacks(execute=True):
        series(c, [5, 5, 5, 2, 2.5, 2.5, 2.5])
    unrepaired = Alert.objects.get(client=c, kind="unrepaired_rupture")
    # The supervisor is emailed once, with no client details.
    assert [m.to for m in mail.outbox] == [["sue@north.test"]]
    assert "Cleo" not in mail.outbox[0].body and c.pseudonym not in mail.outbox[0].body
    assert "http://127.0.0.1:8000/alerts/" in mail.outbox[0].body  # an absolute link (SITE_URL)
    assert unrepaired.escalated_to == "supervisor" and unrepaired.escalated_at is not None
    assert "supervisors" in unrepaired.reason
    sign_in(client, personas.supervisor)
    page = client.get(reverse("alert_list"))
    assert unrepaired in page.context["escalated"]
    assert c.pseudonym in page.content.decode() and "Cleo Client" not in page.content.decode()


def test_client_reported_rupture_with_a_good_score(personas):
    c = personas.client
    series(c, [5, 5, 5, 5], reported={4})
    (e,) = episodes(c)
    assert e.rules == ["reported"] and e.start_session == 4


def concern_after(client, user, session_number, topic="tasks"):
    concern = Concern.objects.create(
        clinic=client.clinic,
        client=client,
        raised_by=user,
        topic=topic,
        detail="The homework feels pointless",
        raised_at=START + dt.timedelta(days=7 * session_number + 3),
    )
    on_concern_raised(concern)
    return concern


def test_concern_between_sessions_opens_the_episode_for_the_next_session(personas):
    c = personas.client
    series(c, [5, 5, 5])
    concern = concern_after(c, personas.client_user, 3)
    (e,) = episodes(c)
    assert e.start_session == 4 and e.rules == ["concern"]
    concern.refresh_from_db()
    assert concern.rupture_episode == e and concern.alert_id == e.alert_id
    assert "concern" in Alert.objects.get(client=c, kind="rupture").rules
    rate(c, 4, 5)
    rate(c, 5, 5)
    e.refresh_from_db()
    assert e.status == "repaired" and e.end_session == 5


def test_task_not_working_said_twice_opens_an_episode_with_its_alert(client, personas):
    c = personas.client
    series(c, [5, 5, 5])
    goal = make_goal(personas, "Sleep better")
    task = Task.objects.create(
        clinic=c.clinic,
        client=c,
        goal=goal,
        description="Wind down at ten",
        rationale="A routine helps sleep",
        created_by=personas.therapist,
    )
    sign_in(client, personas.client_user)
    url = reverse("task_mine_update", args=[task.pk])
    client.post(url, {"not_working": "on", "note": "I work late"})
    assert episodes(c) == [] and not Alert.objects.filter(client=c, kind="rupture").exists()
    earlier(task)  # the client comes back later and says it again
    client.post(url, {"not_working": "on"})
    (e,) = episodes(c)
    assert e.rules == ["task_not_working"] and e.start_session == 4 and e.status == "open"
    alert = Alert.objects.get(client=c, kind="rupture")
    assert e.alert_id == alert.pk and "task_not_working" in alert.rules
    assert "I work late" not in str(alert.evidence) + alert.reason  # no client words in alerts
    # A third "not working" joins the same episode and alert; nothing new is opened.
    earlier(task)
    client.post(url, {"not_working": "on"})
    assert len(episodes(c)) == 1 and Alert.objects.filter(client=c, kind="rupture").count() == 1
    # Session 4 (held after the signal) carries it, so its rating cannot repair; session 5's does.
    TaskUpdate.objects.filter(task=task).update(created_at=START + dt.timedelta(days=7 * 3 + 3))
    rate(c, 4, 5)
    e.refresh_from_db()
    assert e.status == "open"
    rate(c, 5, 5)
    e.refresh_from_db()
    alert.refresh_from_db()
    assert (e.status, e.end_session) == ("repaired", 5) and alert.status == "closed"


def test_lenient_clinic_setting_finds_more_and_stores_what_it_used(personas):
    c = personas.client
    MonitoringSettings.objects.filter(clinic=c.clinic).update(
        k=1.0, cutoff=None, drop_from_previous=None
    )
    series(c, [5, 5.5, 5, 5.5, 4.5])
    (e,) = episodes(c)
    assert e.rules == ["k_sd"] and e.rule_settings["k"] == 1.0 and e.rule_settings["cutoff"] is None


def test_one_open_alert_per_client_and_kind_new_evidence_attaches(personas):
    c = personas.client
    series(c, [5, 5, 5, 2])
    concern_after(c, personas.client_user, 4, "not_heard")
    alerts = Alert.objects.filter(client=c, kind="rupture")
    assert alerts.count() == 1
    assert len(alerts.get().evidence) == 2 and "concern" in alerts.get().rules


def test_disagreement_flag_uses_the_clinic_gap_and_stores_it(personas):
    c = personas.client
    series(c, [5, 5])
    rate(c, 2, 5.75, instrument="sac_therapist")  # gap 0.75: fine
    assert not Alert.objects.filter(client=c, kind="disagreement").exists()
    rate(c, 3, 3.5)
    rate(c, 3, 5.5, instrument="sac_therapist")  # gap 2 >= 1.5
    alert = Alert.objects.get(client=c, kind="disagreement")
    ev = alert.evidence[-1]
    assert (ev["session"], ev["client"], ev["therapist"], ev["gap"]) == (3, 3.5, 5.5, 2.0)
    assert ev["settings"]["disagreement_gap"] == 1.5
    assert "Session 3" in alert.reason


def test_therapist_rating_first_then_client(personas):
    c = personas.client
    series(c, [5])
    rate(c, 2, 6, instrument="sac_therapist", make_session=True)
    rate(c, 2, 4)
    assert Alert.objects.filter(client=c, kind="disagreement").count() == 1
