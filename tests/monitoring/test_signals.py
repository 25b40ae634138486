"""The lower apps announce what happened through signals they declare; monitoring reacts.

Each sender is checked for firing (a receiver of the test's own records the call), and each of
monitoring's receivers for what it does when the signal arrives without the sending code path.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

from alliance.alerts.models import Alert, AlertKind
from alliance.checkins.models import Concern
from alliance.checkins.services import raise_concern
from alliance.checkins.signals import concern_raised
from alliance.goals.models import Goal, Task, TaskUpdate
from alliance.goals.signals import task_not_working
from alliance.measures import scoring
from alliance.measures.models import Response
from alliance.measures.services import record_response
from alliance.measures.signals import response_recorded, safety_alert_raised
from alliance.monitoring import receivers
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode, SafetyNotice
from tests.monitoring.helpers import rate, series


@contextmanager
def heard(signal: Any):
    calls: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    signal.connect(listener, weak=False)
    try:
        yield calls
    finally:
        signal.disconnect(listener)


def test_monitoring_is_connected_to_every_hand_over():
    for signal, receiver in (
        (response_recorded, receivers.on_response_recorded),
        (safety_alert_raised, receivers.on_safety_alert_raised),
        (concern_raised, receivers.on_concern_raised),
        (task_not_working, receivers.on_task_not_working),
    ):
        assert receiver in [entry[1]() for entry in signal.receivers], signal


def phq9_item9(client: Any) -> Response:
    answers = {f"item{n}": 0 for n in range(1, 10)} | {"item9": 1}
    return record_response(
        client=client,
        instrument_id="phq9",
        result=scoring.score("phq9", answers),
        answers=answers,
        source="form",
        actor=client.user,
    ).response


def test_measures_announces_each_new_response_and_each_safety_alert(personas):
    with heard(response_recorded) as recorded, heard(safety_alert_raised) as raised:
        first = phq9_item9(personas.client)
        second = phq9_item9(personas.client)
    assert [c["response"] for c in recorded] == [first, second]
    alert = Alert.objects.get(client=personas.client, kind=AlertKind.SAFETY)
    assert [(c["response"], c["alert"], c["created"]) for c in raised] == [
        (first, alert, True),
        (second, alert, False),  # the second answer joined the open alert
    ]


def test_a_new_safety_alert_is_told_at_once_and_its_escalation_scheduled(
    personas, django_capture_on_commit_callbacks
):
    settings = MonitoringSettings.for_clinic(personas.clinic)
    settings.escalation_hours = 7
    settings.save()
    alert, _ = Alert.raise_for(personas.client, AlertKind.SAFETY, "PHQ-9 item 9 above 0", {})
    response = Response(clinic=personas.clinic, client=personas.client, instrument_id="phq9")
    with django_capture_on_commit_callbacks() as callbacks:
        safety_alert_raised.send(sender=Response, response=response, alert=alert, created=False)
    assert not SafetyNotice.objects.exists() and callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        safety_alert_raised.send(sender=Response, response=response, alert=alert, created=True)
    notice = SafetyNotice.objects.get()
    assert (notice.alert, notice.source, notice.recipient) == (alert, "safety", personas.therapist)
    assert len(callbacks) == 2  # the notice's delivery and the escalation


def test_an_alliance_check_runs_rupture_detection(personas):
    series(personas.client, [5, 5, 5])
    response = rate(personas.client, 4, 1.5)
    (episode,) = RuptureEpisode.objects.filter(client=personas.client)
    assert episode.start_session == 4 and response.session_number == 4
    # Heard again (a re-delivered signal), the same rating changes nothing.
    response_recorded.send(sender=Response, response=response)
    assert RuptureEpisode.objects.filter(client=personas.client).count() == 1


def test_checkins_announces_a_concern_and_monitoring_links_it_to_the_episode(personas):
    series(personas.client, [5, 5, 5])
    with heard(concern_raised) as calls:
        concern = raise_concern(personas.client, personas.client_user, "not_working", "")
    assert [c["concern"] for c in calls] == [concern]
    episode = RuptureEpisode.objects.get(client=personas.client)
    stored = Concern.objects.get(pk=concern.pk)
    assert stored.rupture_episode == episode and stored.alert == episode.alert
    assert (concern.rupture_episode, concern.alert_id) == (episode, episode.alert_id)
    assert SafetyNotice.objects.filter(source="concern", source_id=concern.pk).exists()


def test_a_task_that_is_not_working_opens_the_rupture_episode(personas):
    series(personas.client, [5, 5, 5])
    goal = Goal.propose(
        personas.client, personas.client_user, "client", wording="A goal", importance=2
    )
    task = Task.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        goal=goal,
        description="Walk",
        created_by=personas.therapist,
    )
    for minutes in (60, 10):
        TaskUpdate.objects.create(
            clinic=personas.clinic,
            task=task,
            not_working=True,
            created_at=timezone.now() - dt.timedelta(minutes=minutes),
        )
    assert not RuptureEpisode.objects.exists()
    task_not_working.send(sender=Task, task=task, count=2)
    episode = RuptureEpisode.objects.get(client=personas.client)
    assert "task_not_working" in episode.rules
    assert Alert.objects.get(client=personas.client, kind=AlertKind.RUPTURE).rules
