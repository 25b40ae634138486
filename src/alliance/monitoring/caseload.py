"""The therapist's caseload, ordered by what needs attention first.

One query for the clients with their latest PHQ-9 (and the one before), latest client and
therapist alliance ratings, next session and not-on-track status as subqueries, and one for
their open alerts, whatever the caseload size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from alliance.clients.models import ClientRecord, TherapySession
from alliance.monitoring.models import OPEN_STATUSES, Alert

NO_ALERT = 1000


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{round(x, 2):g}"


@dataclass
class CaseloadRow:
    client: Any
    alerts: list[Alert] = field(default_factory=list)

    @property
    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == Alert.Status.OPEN]

    @property
    def snoozed_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == Alert.Status.SNOOZED]

    @property
    def top_severity(self) -> int:
        return min((a.severity for a in self.open_alerts), default=NO_ALERT)

    @property
    def phq9(self) -> float | None:
        return self.client.phq9_latest

    @property
    def phq9_trend(self) -> str:
        """In words, with an arrow that is not the only cue: lower PHQ-9 is better."""
        latest, previous = self.client.phq9_latest, self.client.phq9_previous
        if latest is None or previous is None:
            return "first score" if latest is not None else ""
        delta = latest - previous
        if delta < 0:
            return f"↓ {_fmt(-delta)} lower (better) than before"
        if delta > 0:
            return f"↑ {_fmt(delta)} higher (worse) than before"
        return "→ same as before"

    @property
    def low_alliance(self) -> bool:
        v = self.client.sac_client_latest
        return v is not None and v < 4

    def sort_key(self) -> tuple[Any, ...]:
        c = self.client
        return (
            self.top_severity,
            0 if c.not_on_track else 1,
            0 if self.low_alliance else 1,
            -len(self.open_alerts),
            c.next_session_at or dt.datetime.max.replace(tzinfo=dt.UTC),
            c.full_name,
        )


def caseload_rows(user: Any, now: dt.datetime | None = None) -> list[CaseloadRow]:
    from alliance.measures.models import OutcomeResult, Response

    now = now or timezone.now()

    def latest(instrument: str, offset: int = 0) -> Subquery:
        return Subquery(
            Response.objects.filter(
                client=OuterRef("pk"), instrument_id=instrument, total__isnull=False
            )
            .order_by("-completed_at")
            .values("total")[offset : offset + 1]
        )

    upcoming = TherapySession.objects.upcoming(now).filter(client=OuterRef("pk"))
    clients = list(
        ClientRecord.objects.visible_to(user)
        .filter(status=ClientRecord.Status.ACTIVE)
        .annotate(
            phq9_latest=latest("phq9"),
            phq9_previous=latest("phq9", 1),
            sac_client_latest=latest("sac_client"),
            sac_therapist_latest=latest("sac_therapist"),
            next_session_at=Subquery(upcoming.values("scheduled_at")[:1]),
            next_session_number=Subquery(upcoming.values("number")[:1]),
            not_on_track=Exists(
                OutcomeResult.objects.filter(
                    client=OuterRef("pk"), not_on_track=True, episode__ended__isnull=True
                )
            ),
        )
    )
    rows = {c.pk: CaseloadRow(c) for c in clients}
    if rows:
        for alert in Alert.objects.filter(
            client_id__in=list(rows), status__in=OPEN_STATUSES
        ).order_by("severity", "created_at"):
            rows[alert.client_id].alerts.append(alert)
    return sorted(rows.values(), key=CaseloadRow.sort_key)
