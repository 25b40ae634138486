"""Recording a scored response: the one multi-model write shared by the client form, the
single-use link, paper entry and FHIR import (response, episode, outcome, alerts, audit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from alliance.alerts.models import Alert, AlertKind
from alliance.core import audit
from alliance.measures import signals
from alliance.measures.models import (
    OUTCOME_INSTRUMENTS,
    Administration,
    EpisodeOfCare,
    MeasureSettings,
    OutcomeResult,
    Response,
)
from alliance.measures.outcomes import classify
from alliance.measures.scoring import ScoreResult

RECORD_TYPES = {
    "phq9": "phq9_response",
    "gad7": "gad7_response",
    "sac_client": "alliance_check",
    "sac_therapist": "alliance_check",
}


def record_type_for(instrument_id: str) -> str:
    return RECORD_TYPES.get(instrument_id, "measure_response")


@dataclass
class Recorded:
    response: Response
    created: bool
    safety_alert: Alert | None = None


def _audit(
    client: Any,
    actor: Any,
    request: HttpRequest | None,
    action: str,
    record_type: str,
    note: str = "",
) -> None:
    audit.record(
        clinic=client.clinic,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        record_type=record_type,
        client=client,
        request=request,
        note=note,
        actor_role=None if actor is not None and actor.is_authenticated else "client (by link)",
    )


def record_response(
    *,
    client: Any,
    instrument_id: str,
    result: ScoreResult,
    answers: dict[str, Any],
    source: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    administration: Administration | None = None,
    completed_at: dt.datetime | None = None,
    do_differently: str = "",
    session_number: int | None = None,
    language: str = "en",
) -> Recorded:
    """Store a scored response exactly once and run the safety pathway and outcome rules.

    With an administration, the administration row is locked and a completed one returns the
    existing response (double submit, reload, a second tab): nothing new is stored.
    ``language`` is the BCP-47 code of the language the questionnaire was shown in.
    """
    completed_at = completed_at or timezone.now()
    with transaction.atomic():
        if administration is not None:
            administration = Administration.objects.select_for_update().get(pk=administration.pk)
            existing = Response.objects.filter(administration=administration).first()
            if existing is not None:
                return Recorded(existing, False)
        episode = EpisodeOfCare.for_day(client, timezone.localdate(completed_at))
        response = Response.objects.create(
            clinic=client.clinic,
            client=client,
            administration=administration,
            episode=episode,
            instrument_id=instrument_id,
            source=source,
            answers={k: v for k, v in answers.items() if k != "do_differently"},
            total=result.total,
            severity=result.severity or "",
            flags=list(result.flags),
            result=result.to_dict(),
            item9_positive=result.item9_positive,
            do_differently=do_differently,
            session_number=session_number,
            language=language or "en",
            completed_at=completed_at,
            entered_by=actor
            if actor is not None and getattr(actor, "is_authenticated", False)
            else None,
        )
        if administration is not None:
            administration.status = Administration.Status.COMPLETED
            administration.completed_at = completed_at
            administration.partial_answers = {}
            administration.save(update_fields=["status", "completed_at", "partial_answers"])
        _audit(
            client,
            actor,
            request,
            "create",
            record_type_for(instrument_id),
            note=f"source={source}",
        )
        safety = None
        if result.item9_positive:
            safety = raise_safety_alert(response)
        if instrument_id in OUTCOME_INSTRUMENTS:
            update_outcome(episode, instrument_id)
        # Monitoring runs rupture detection, the client–therapist disagreement check and the
        # early-alliance signal on a Session Alliance Check.
        signals.response_recorded.send(sender=Response, response=response)
    return Recorded(response, True, safety)


def raise_safety_alert(response: Response) -> Alert:
    """PHQ-9 item 9 above 0, whatever the total: the care team gets a safety alert.

    PHQ instruction manual: any positive answer to item 9 needs follow-up by a clinician. The
    alert only says that the item was answered above 0; it never rates or clears risk.
    """
    item9 = (response.answers or {}).get("item9")
    alert, created = Alert.raise_for(
        response.client,
        AlertKind.SAFETY,
        "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered above 0"
        f"{f' ({item9})' if item9 is not None else ''}. Contact the client and record what was done.",
        {
            "response": str(response.pk),
            "instrument": "phq9",
            "item9": item9,
            "total": response.total,
        },
    )
    audit.record(
        clinic=response.clinic,
        actor=None,
        actor_role="system",
        action="create" if created else "update",
        record_type="safety_alert",
        client=response.client,
        note="item 9 above 0",
    )
    # Monitoring tells the treating therapist (and on-call) at once and schedules the escalation.
    signals.safety_alert_raised.send(
        sender=Response, response=response, alert=alert, created=created
    )
    return alert


def update_outcome(episode: EpisodeOfCare, instrument_id: str) -> OutcomeResult:
    """Reclassify the episode for one instrument and store it with the settings used."""
    responses = list(
        Response.objects.filter(
            episode=episode, instrument_id=instrument_id, total__isnull=False
        ).order_by("completed_at")
    )
    points = [
        (r.session_number or n, timezone.localdate(r.completed_at), r.total)
        for n, r in enumerate(responses, start=1)
    ]
    settings = MeasureSettings.for_clinic(episode.clinic).outcome_settings(instrument_id)
    c = classify(points, settings)
    outcome, _ = OutcomeResult.objects.update_or_create(
        episode=episode,
        instrument_id=instrument_id,
        defaults={
            "clinic": episode.clinic,
            "client": episode.client,
            "computed_at": timezone.now(),
            "n_scores": len(points),
            "statuses": c.statuses,
            "reason": c.reason[:500],
            "not_on_track": c.not_on_track,
            "not_on_track_reasons": c.not_on_track_reasons,
            "next_step": (c.next_step or "")[:300],
            "settings": c.settings,
        },
    )
    if c.not_on_track:
        Alert.raise_for(
            episode.client,
            AlertKind.NOT_ON_TRACK,
            c.reason[:300],
            {
                "instrument": instrument_id,
                "episode": str(episode.pk),
                "reasons": c.not_on_track_reasons,
            },
        )
    return outcome
