"""Where check-in schedules meet questionnaires (the measures app).

A schedule of kind "instrument" (e.g. PHQ-9 every 2 weeks) makes a check-in due; the client
answers the questionnaire through the measures app. Two small hooks join them:

- ``open_due_instrument_administrations(client, now)`` gives every due instrument check-in an
  open questionnaire to answer (one per instrument; none twice), run whenever the measures app
  is about to list the client's questionnaires (``measures.signals.questionnaires_due_check``);
- a stored questionnaire response completes the due check-ins of that instrument
  (``complete_on_response``, connected to ``Response`` post_save).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from alliance.checkins.models import CheckIn
from alliance.checkins.schedule import due_for_client
from alliance.measures import registry
from alliance.measures.models import Administration


def open_due_instrument_administrations(client: Any, now: datetime | None = None) -> int:
    """Create the questionnaire for each due instrument check-in; returns how many were made."""
    now = now or timezone.now()
    made = 0
    for item in due_for_client(client, now):
        if item.kind != "instrument" or not item.instrument:
            continue
        try:
            registry.load(item.instrument)
        except Exception:  # an unknown instrument id in a schedule must not break the client's home
            continue
        exists = Administration.objects.filter(
            client=client, instrument_id=item.instrument, status__in=Administration.OPEN
        ).exists()
        if not exists:
            Administration.objects.create(
                clinic=client.clinic,
                client=client,
                instrument_id=item.instrument,
                due_at=item.due_at,
            )
            made += 1
    return made


def complete_on_response(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    CheckIn.objects.filter(
        client_id=instance.client_id,
        schedule__kind="instrument",
        schedule__instrument=instance.instrument_id,
        status__in=[CheckIn.Status.DUE, CheckIn.Status.MISSED],
        due_at__lte=instance.completed_at,
    ).update(status=CheckIn.Status.COMPLETED, completed_at=instance.completed_at)


def open_due_on_listing(sender: Any, client: Any, **kwargs: Any) -> None:
    """Receiver of ``measures.signals.questionnaires_due_check``."""
    open_due_instrument_administrations(client)
