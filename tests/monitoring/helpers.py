"""Building session alliance histories through the real write path (``record_response``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from alliance.clients.models import TherapySession
from alliance.measures import scoring
from alliance.measures.demo import answers_for
from alliance.measures.services import record_response

START = timezone.now() - dt.timedelta(days=7 * 30)


def sac_answers(mean: float, felt_off: bool = False) -> dict[str, Any]:
    """Four 0–6 answers whose mean is ``mean`` (to the nearest quarter)."""
    total = round(mean * 4)
    items = []
    for i in range(4):
        v = min(6, -(-total // (4 - i)))
        items.append(v)
        total -= v
    return {**{f"item{i + 1}": v for i, v in enumerate(items)}, "felt_off": 1 if felt_off else 0}


def session(
    client: Any, number: int, status: str = "attended", when: dt.datetime | None = None
) -> Any:
    therapist = client.care_team.filter(is_primary=True).first().therapist
    return TherapySession.objects.create(
        clinic=client.clinic,
        client=client,
        therapist=therapist,
        number=number,
        scheduled_at=when or START + dt.timedelta(days=7 * number),
        status=status,
    )


def rate(
    client: Any,
    number: int,
    mean: float,
    *,
    felt_off: bool = False,
    instrument: str = "sac_client",
    make_session: bool = True,
) -> Any:
    """The client's (or therapist's) Session Alliance Check for session ``number``."""

    if make_session and not TherapySession.objects.filter(client=client, number=number).exists():
        session(client, number)
    answers = sac_answers(mean, felt_off)
    actor = client.user if instrument == "sac_client" else client.care_team.first().therapist
    return record_response(
        client=client,
        instrument_id=instrument,
        result=scoring.score(instrument, answers),
        answers=answers,
        source="form",
        actor=actor,
        completed_at=START + dt.timedelta(days=7 * number, hours=1),
        session_number=number if instrument == "sac_therapist" else None,
    ).response


def series(client: Any, scores: list[float | None], reported: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    for n, s in enumerate(scores, start=1):
        if s is None:
            session(client, n, status="missed")
            continue
        rate(client, n, s, felt_off=n in reported)


def phq9(client: Any, number: int, total: int) -> Any:
    answers = answers_for("phq9", total, 0)
    return record_response(
        client=client,
        instrument_id="phq9",
        result=scoring.score("phq9", answers),
        answers=answers,
        source="form",
        actor=client.user,
        completed_at=START + dt.timedelta(days=7 * number, hours=2),
        session_number=number,
    ).response
