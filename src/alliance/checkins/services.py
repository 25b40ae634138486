"""Writes that several views share: answering a check-in, raising and acknowledging a concern."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInResponse, Concern
from alliance.checkins.signals import concern_raised
from alliance.clients.models import ClientRecord
from alliance.core import audit


def submit_check_in(
    check_in: CheckIn,
    *,
    mood: int | None,
    note: str,
    key: uuid.UUID,
    via: str,
    when: datetime | None = None,
) -> bool:
    """Store the answer once; False when this check-in was already answered (double submit)."""
    when = when or timezone.now()
    try:
        with transaction.atomic():
            CheckInResponse.objects.create(
                clinic_id=check_in.clinic_id,
                check_in=check_in,
                mood=mood,
                note=note,
                idempotency_key=key,
                via=via,
                submitted_at=when,
            )
            CheckIn.objects.filter(pk=check_in.pk).update(
                status=CheckIn.Status.COMPLETED, completed_at=when
            )
    except IntegrityError:
        return False
    client = check_in.client
    audit.record(
        clinic=client.clinic,
        actor=client.user,
        action="create",
        record_type="check_in",
        client=client,
    )
    return True


def raise_concern(client: ClientRecord, by, topic: str, detail: str) -> Concern:  # noqa: ANN001
    concern = Concern.objects.create(
        clinic=client.clinic, client=client, raised_by=by, topic=topic, detail=detail
    )
    on_concern_raised(concern)
    return concern


def on_concern_raised(concern: Concern) -> None:
    """Tell the apps above that a concern was raised (``checkins.signals.concern_raised``).

    A concern is a rupture signal: monitoring opens or joins the client's rupture episode and
    its alert and links the concern to both. The concern stays on the therapist's panel until
    acknowledged either way.
    """
    concern_raised.send(sender=Concern, concern=concern)


def acknowledge_concern(concern: Concern, by, when: datetime | None = None) -> bool:  # noqa: ANN001
    """The therapist read it; the client sees when. False when it was already acknowledged."""
    when = when or timezone.now()
    return bool(
        Concern.objects.filter(pk=concern.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=when, acknowledged_by=by
        )
    )
