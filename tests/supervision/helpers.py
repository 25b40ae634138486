"""Test data for supervision and reports: sessions, alliance ratings, PHQ-9 scores, links."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.clients.models import TherapySession
from alliance.measures.models import EpisodeOfCare, Response
from alliance.supervision.models import JournalEntry, SupervisionLink


def link(personas: Any, supervisee: Any = None) -> SupervisionLink:
    return SupervisionLink.objects.create(
        clinic=personas.clinic,
        supervisor=personas.supervisor,
        supervisee=supervisee or personas.therapist,
        created_by=personas.admin,
    )


def session(
    client: Any, therapist: Any, number: int, when: dt.datetime | None = None
) -> TherapySession:
    when = when or timezone.now() - dt.timedelta(days=7 * (20 - number))
    return TherapySession.objects.create(
        clinic=client.clinic,
        client=client,
        therapist=therapist,
        number=number,
        scheduled_at=when,
        status=TherapySession.Status.ATTENDED,
    )


def entry(
    client: Any,
    therapist: Any,
    *,
    felt: str = "",
    tags: dict[str, int] | None = None,
    sess: TherapySession | None = None,
    **texts: str,
) -> JournalEntry:
    e = JournalEntry(
        clinic=client.clinic, therapist=therapist, client=client, session=sess, felt=felt, **texts
    )
    e.set_structured(tags or {}, [])
    e.save()
    return e


def episode(client: Any, started: dt.date) -> Any:
    return EpisodeOfCare.objects.create(clinic=client.clinic, client=client, started=started)


def score(
    client: Any,
    instrument: str,
    total: float,
    when: dt.datetime,
    number: int | None = None,
    ep: Any = None,
    answers: dict[str, Any] | None = None,
) -> Any:
    return Response.objects.create(
        clinic=client.clinic,
        client=client,
        episode=ep,
        instrument_id=instrument,
        source="paper",
        total=total,
        completed_at=when,
        session_number=number,
        answers=answers or {},
        result={},
    )


def alliance_series(client: Any, scores: list[float], start: dt.datetime) -> None:
    for i, s in enumerate(scores, start=1):
        score(client, "sac_client", s, start + dt.timedelta(days=7 * (i - 1)), number=i)


def page_queries(django_client, url: str) -> tuple[int, list[str]]:
    """One GET of ``url`` (which must answer 200): how many queries it made, and their SQL."""
    with CaptureQueriesContext(connection) as ctx:
        response = django_client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]
