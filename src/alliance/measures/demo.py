"""Demo clinic: PHQ-9 and GAD-7 histories in every severity band, improvement, deterioration,
a client not on track, one unacknowledged safety alert and one acknowledged. All fictional."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from alliance.core.seeding import DemoContext
from alliance.measures import scoring
from alliance.measures.models import Administration, Assignment
from alliance.measures.services import record_response

# (client index, instrument, totals oldest first, item 9 of the latest, what it shows)
TRAJECTORIES: list[tuple[int, str, list[int], int, str]] = [
    (0, "phq9", [14, 11], 0, "moderate to mild; a PHQ-9 is waiting for them"),
    (1, "phq9", [6, 3], 0, "minimal"),
    (2, "phq9", [12, 8], 0, "mild"),
    (3, "phq9", [13, 12, 14], 0, "moderate, no change"),
    (4, "phq9", [18, 17, 16], 0, "moderately severe"),
    (5, "phq9", [23, 22], 0, "severe"),
    (6, "phq9", [19, 15, 11, 8, 6], 0, "reliable improvement, response, recovery"),
    (7, "phq9", [9, 12, 16], 0, "reliable deterioration: not on track"),
    (8, "phq9", [15, 17], 1, "item 9 above 0: unacknowledged safety alert"),
    (9, "phq9", [16, 13], 1, "item 9 above 0: acknowledged safety alert"),
    (10, "gad7", [16, 12, 9], 0, "GAD-7 reliable improvement"),
    (10, "phq9", [11, 7], 0, "mild"),
    (11, "phq9", [15, 15, 14, 15, 14, 15], 0, "no reliable improvement by session 6: not on track"),
]


def answers_for(instrument_id: str, total: int, item9: int) -> dict[str, Any]:
    """Item answers that add up to ``total`` (item 9 fixed), spread evenly."""
    n = 9 if instrument_id == "phq9" else 7
    fixed = item9 if instrument_id == "phq9" else 0
    free = n - 1 if instrument_id == "phq9" else n
    remaining = total - fixed
    values = []
    for i in range(free):
        v = min(3, -(-remaining // (free - i)))
        values.append(v)
        remaining -= v
    if instrument_id == "phq9":
        values.append(fixed)
    return {f"item{i + 1}": v for i, v in enumerate(values)}


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    for index, instrument_id, totals, item9, _what in TRAJECTORIES:
        client = ctx.clients[index]
        for n, total in enumerate(totals):
            last = n == len(totals) - 1
            answers = answers_for(instrument_id, total, item9 if last else 0)
            result = scoring.score(instrument_id, answers)
            when = now - dt.timedelta(
                days=14 * (len(totals) - 1 - n) + 2, hours=ctx.rng.randint(0, 8)
            )
            recorded = record_response(
                client=client,
                instrument_id=instrument_id,
                result=result,
                answers=answers,
                source="form",
                actor=client.user,
                completed_at=when,
            )
            if recorded.safety_alert is not None and index == 9:
                therapist = client.care_team.first().therapist
                recorded.safety_alert.acknowledge(
                    therapist,
                    "Phoned the client the same day; reviewed the safety plan; next session brought forward.",
                )
    # A recurring PHQ-9 for the demo client, with one waiting to be answered.
    first = ctx.clients[0]
    assignment = Assignment.objects.create(
        clinic=first.clinic,
        client=first,
        instrument_id="phq9",
        every_days=14,
        assigned_by=first.care_team.first().therapist,
        next_due_at=now,
    )
    assignment.create_due_administration()
    Administration.objects.create(clinic=first.clinic, client=first, instrument_id="sac_client")
    ctx.notes.append(
        "Measures: PHQ-9 histories in every severity band; "
        f"{ctx.clients[8].full_name} has an unacknowledged safety alert; "
        f"{ctx.clients[0].full_name} has a PHQ-9 and a session check to answer."
    )
