"""Monitoring's answers to what the lower apps tell it (connected in ``MonitoringConfig.ready``).

Each lower app declares the signal it sends (``measures.signals``, ``checkins.signals``,
``goals.signals``) and never imports monitoring; the receivers run in the sender's thread,
inside its transaction where it has one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from alliance.alerts.models import Alert
from alliance.checkins.models import Concern
from alliance.goals.models import Task
from alliance.measures.models import Response
from alliance.monitoring import detection, notices, tasks
from alliance.monitoring.models import MonitoringSettings

ALLIANCE_CHECKS = ("sac_client", "sac_therapist")


def on_response_recorded(sender: Any, response: Response, **kwargs: Any) -> None:
    """A Session Alliance Check: rupture detection, the disagreement check and early alliance."""
    if response.instrument_id in ALLIANCE_CHECKS:
        detection.on_alliance_rating(response)


def on_safety_alert_raised(
    sender: Any, response: Response, alert: Alert, created: bool, **kwargs: Any
) -> None:
    """A new safety alert: the treating therapist (and on-call) is told at once, and the
    escalation is scheduled for when it becomes overdue. An answer that joined an open alert
    changes neither."""
    if not created:
        return
    notices.notify(response.client, "safety", alert.pk, alert)
    hours = MonitoringSettings.for_clinic(response.clinic).escalation_hours
    run_after = alert.created_at + dt.timedelta(hours=hours)
    alert_id = str(alert.pk)
    transaction.on_commit(lambda: tasks.schedule_escalation(alert_id, run_after))


def on_concern_raised(sender: Any, concern: Concern, **kwargs: Any) -> None:
    """A concern is a rupture signal: open or join the episode and link the concern to it."""
    with transaction.atomic():
        episode = detection.on_concern(concern)
    if episode is not None:
        Concern.objects.filter(pk=concern.pk).update(
            alert_id=episode.alert_id, rupture_episode=episode
        )
        concern.alert_id, concern.rupture_episode = episode.alert_id, episode


def on_task_not_working(sender: Any, task: Task, count: int, **kwargs: Any) -> None:
    """A repeated "this isn't working for me" opens or joins the rupture episode and its alert."""
    with transaction.atomic():
        detection.on_task_not_working(task)
