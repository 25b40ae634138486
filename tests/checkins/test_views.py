"""Check-in links, double submission, the concern channel, client home and data export."""

from __future__ import annotations

import json
import re
import uuid
from datetime import time, timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance.checkins.models import (
    CheckIn,
    CheckInLink,
    CheckInPlan,
    CheckInResponse,
    CheckInSchedule,
    Concern,
)
from alliance.checkins.schedule import run_cycle
from alliance.checkins.services import raise_concern, submit_check_in
from alliance.core.models import AuditEvent
from alliance.goals.models import Goal
from tests.conftest import sign_in


@pytest.fixture
def emailed(personas):
    """A due mood check-in and the token from its reminder email."""
    today = timezone.localdate()
    CheckInSchedule.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        cadence="daily",
        start_date=today - timedelta(days=2),
        due_time=time(0, 0),
    )

    plan = CheckInPlan.for_client(personas.client)
    plan.quiet_start = plan.quiet_end = time(0, 0)  # no quiet hours for this test
    plan.save()
    run_cycle(timezone.now())
    token = re.search(r"/check-in/\?t=([\w-]+)", mail.outbox[-1].body).group(1)
    return CheckIn.objects.get(status="due"), token


def test_emailed_link_opens_the_form_and_submits_once(client, personas, emailed):
    check_in, token = emailed
    url = reverse("check_in_link") + f"?t={token}"
    page = client.get(url)
    assert page.status_code == 200 and "Hello, Cleo" in page.content.decode()
    client.get(url)  # a mail scanner opening it twice does not use it up
    key = str(uuid.uuid4())
    done = client.post(
        reverse("check_in_link"), {"t": token, "mood": "6", "note": "Hard week at work", "key": key}
    )
    # Post/redirect/get: the result page is a GET, so a reload sends nothing again.
    assert done.status_code == 302 and done.url == reverse("check_in_done")
    result = client.get(done.url)
    assert result.status_code == 200 and "your check-in was sent" in result.content.decode()
    assert "your check-in was sent" in client.get(done.url).content.decode()  # reload
    assert CheckInResponse.objects.count() == 1
    response = CheckInResponse.objects.get()
    assert response.mood == 6 and response.note == "Hard week at work" and response.via == "link"
    check_in.refresh_from_db()
    assert check_in.status == "completed"
    again = client.post(reverse("check_in_link"), {"t": token, "mood": "2", "key": key})
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert CheckInResponse.objects.get().mood == 6


def test_expired_link_says_what_to_do(client, personas, emailed):
    _, token = emailed
    CheckInLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    page = client.get(reverse("check_in_link") + f"?t={token}")
    assert page.status_code == 410
    html = page.content.decode()
    assert "This link has expired" in html and reverse("client_signin") in html


def test_unknown_link_is_a_clear_page(client, db):
    page = client.get(reverse("check_in_link") + "?t=nonsense")
    assert page.status_code == 404 and "This link does not work" in page.content.decode()


def test_invalid_form_does_not_use_up_the_link(client, personas, emailed):
    _, token = emailed
    bad = client.post(
        reverse("check_in_link"), {"t": token, "mood": "11", "key": str(uuid.uuid4())}
    )
    assert bad.status_code == 200 and CheckInLink.objects.get().used_at is None


def test_double_submission_stores_one_answer(client, personas, emailed):
    check_in, _ = emailed
    assert submit_check_in(check_in, mood=5, note="", key=uuid.uuid4(), via="home")
    assert not submit_check_in(check_in, mood=3, note="", key=uuid.uuid4(), via="home")
    sign_in(client, personas.client_user)
    page = client.post(
        reverse("check_in_mine", args=[check_in.pk]), {"mood": "4", "key": str(uuid.uuid4())}
    )
    assert page.status_code == 302
    assert "We already have this check-in" in client.get(page.url).content.decode()
    assert CheckInResponse.objects.get().mood == 5


def test_signed_in_client_sees_and_completes_due_check_in(client, personas, emailed):
    check_in, _ = emailed
    sign_in(client, personas.client_user)
    home = client.get(reverse("client_home")).content.decode()
    assert reverse("check_in_mine", args=[check_in.pk]) in home
    client.post(
        reverse("check_in_mine", args=[check_in.pk]), {"mood": "7", "key": str(uuid.uuid4())}
    )
    check_in.refresh_from_db()
    assert check_in.status == "completed"
    sign_in(client, personas.other_client_user)
    assert client.get(reverse("check_in_mine", args=[check_in.pk])).status_code == 404


def test_check_in_result_page_needs_a_submission_in_this_browser(client, db):
    assert client.get(reverse("check_in_done")).status_code == 302


def test_a_double_submitted_concern_is_sent_once(client, personas):
    sign_in(client, personas.client_user)
    data = {"topic": "not_heard", "detail": "I feel rushed at the end"}
    client.post(reverse("concerns_mine"), data)
    page = client.post(reverse("concerns_mine"), data, follow=True).content.decode()
    assert "already sent" in page and Concern.objects.count() == 1
    client.post(reverse("concerns_mine"), {**data, "detail": "And the room is cold"})
    assert Concern.objects.count() == 2


def test_concern_is_raised_acknowledged_and_the_client_sees_when(client, personas):
    p = personas
    sign_in(client, p.client_user)
    page = client.get(reverse("concerns_mine")).content.decode()
    assert "Who can read this" in page and "Tess Therapist" in page
    client.post(
        reverse("concerns_mine"), {"topic": "not_heard", "detail": "I feel rushed at the end"}
    )
    concern = Concern.objects.get()
    assert concern.detail == "I feel rushed at the end" and concern.acknowledged_at is None
    try:
        Alert = apps.get_model("monitoring", "Alert")
    except LookupError:
        Alert = None
    if Alert is not None:
        alert = Alert.objects.get(client=p.client, kind="rupture")
        assert (
            concern.rupture_episode.alert_id == alert.pk
        )  # the concern opened the rupture episode
        client.post(reverse("concerns_mine"), {"topic": "other"})
        assert (
            Alert.objects.filter(client=p.client, kind="rupture").count() == 1
        )  # and a second joins it
    assert "Not read yet" in client.get(reverse("concerns_mine")).content.decode()

    sign_in(client, p.colleague)
    assert (
        client.post(reverse("concern_acknowledge", args=[p.client.pk, concern.pk])).status_code
        == 404
    )
    sign_in(client, p.therapist)
    detail = client.get(reverse("client_detail", args=[p.client.pk])).content.decode()
    assert "I feel rushed at the end" in detail and "Acknowledge" in detail
    client.post(reverse("concern_acknowledge", args=[p.client.pk, concern.pk]))
    concern.refresh_from_db()
    assert concern.acknowledged_by == p.therapist
    sign_in(client, p.client_user)
    assert "Read by your therapist on" in client.get(reverse("concerns_mine")).content.decode()


def test_concern_detail_is_encrypted(personas):
    raise_concern(personas.client, personas.client_user, "other", "very private words")
    with connection.cursor() as cur:
        cur.execute("SELECT detail FROM checkins_concern")
        assert cur.fetchone()[0].startswith("fernet:")


def test_client_home_shows_goals_access_and_export(client, personas):
    p = personas
    Goal.propose(p.client, p.therapist, "therapist", wording="Feel calmer at work")
    sign_in(client, p.therapist)
    client.get(reverse("client_detail", args=[p.client.pk]))
    sign_in(client, p.client_user)
    home = client.get(reverse("client_home")).content.decode()
    for text in (
        "Your goals",
        "Feel calmer at work",
        "waiting for you",
        "Who has access to your record",
        "Tess Therapist",
        reverse("my_data_json"),
        reverse("concerns_mine"),
        reverse("client_consents"),
    ):
        assert text in home


def test_data_export_contains_everything_and_is_audited(client, personas, emailed):
    p = personas
    check_in, _ = emailed
    goal = Goal.propose(p.client, p.client_user, "client", wording="Sleep through the night")
    submit_check_in(check_in, mood=4, note="Slept badly", key=uuid.uuid4(), via="home")
    Concern.objects.create(
        clinic=p.clinic, client=p.client, raised_by=p.client_user, topic="other", detail="Too fast"
    )
    sign_in(client, p.client_user)
    response = client.get(reverse("my_data_json"))
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["you"]["name"] == "Cleo Client"
    assert data["goals"][0]["wording"] == "Sleep through the night" and data["goals"][0][
        "id"
    ] == str(goal.pk)
    assert {"mood": 4, "anything_to_know": "Slept badly"}.items() <= data["check_ins"][0].items()
    assert data["concerns"][0]["detail"] == "Too fast"
    assert data["consents"][0]["consent"] == "Treatment"
    assert any(
        "viewed" in e["what"] or "exported" in e["what"] for e in data["who_accessed_your_record"]
    )
    summary = client.get(reverse("my_data_summary")).content.decode()
    assert "Sleep through the night" in summary and "Slept badly" in summary
    assert (
        AuditEvent.objects.filter(client=p.client, action="export", record_type="export").count()
        == 2
    )


def test_therapist_sets_schedules_and_sees_missed_check_ins(client, personas):
    p = personas
    sign_in(client, p.therapist)
    client.post(
        reverse("check_ins_staff", args=[p.client.pk]),
        {
            "form": "schedule",
            "kind": "instrument",
            "instrument": "phq9",
            "cadence": "fortnightly",
            "start_date": "2026-01-05",
            "due_time": "18:00",
        },
    )
    s = CheckInSchedule.objects.get()
    assert str(s) == "PHQ9, every 2 weeks"
    CheckIn.objects.create(
        clinic=p.clinic,
        client=p.client,
        schedule=s,
        due_at=timezone.now() - timedelta(days=5),
        status="missed",
    )
    page = client.get(reverse("client_detail", args=[p.client.pk])).content.decode()
    assert "1 missed check-in" in page
    sign_in(client, p.colleague)
    assert client.get(reverse("check_ins_staff", args=[p.client.pk])).status_code == 404


@pytest.mark.parametrize(
    "name", ["concerns_mine", "my_data_json", "my_data_summary", "my_data_pdf", "goals_mine"]
)
def test_client_pages_need_a_client(client, personas, name):
    sign_in(client, None)
    assert client.get(reverse(name)).status_code == 302
    sign_in(client, personas.therapist)
    assert client.get(reverse(name)).status_code == 404
