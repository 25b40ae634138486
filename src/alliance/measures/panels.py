"""The measures sections of the clinician's client page and the client's home."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from alliance.clients.access import on_care_team
from alliance.core.access import signed_in_user
from alliance.core.languages import active_language
from alliance.measures import expected, registry, signals
from alliance.measures.charts import alliance_words, build_chart, plain_words
from alliance.measures.models import (
    OUTCOME_INSTRUMENTS,
    Administration,
    MeasureSettings,
    OutcomeResult,
    Response,
    instrument_choices,
)


def _due_administrations(client: Any) -> list[Administration]:
    for assignment in client.measure_assignments.filter(
        active=True, next_due_at__lte=timezone.now()
    ):
        assignment.create_due_administration()
    signals.questionnaires_due_check.send(sender=Administration, client=client)
    return list(client.administrations.filter(status__in=Administration.OPEN).order_by("due_at"))


def staff_context(request: HttpRequest, client: Any) -> dict[str, Any]:
    settings = MeasureSettings.for_clinic(client.clinic)
    responses = list(Response.objects.filter(client=client).order_by("completed_at"))
    episode = client.episodes.order_by("-started").first()
    charts = []
    for iid in OUTCOME_INSTRUMENTS:
        in_episode = [
            r
            for r in responses
            if r.instrument_id == iid and (episode is None or r.episode_id == episode.pk)
        ]
        outcome_settings = settings.outcome_settings(iid).resolved()
        rc = outcome_settings.reliable_change
        intake = next((r.total for r in in_episode if r.total is not None), None)
        band = None
        if intake is not None and rc:
            band = expected.band_for(
                expected.for_clinic(client.clinic, iid),
                iid,
                intake,
                rc,
                outcome_settings.response_fraction,
                outcome_settings.no_improvement_by_session or 6,
            )
        chart = build_chart(iid, in_episode, rc, band)
        if chart:
            charts.append(chart)
    outcomes = list(
        OutcomeResult.objects.filter(client=client)
        .select_related("episode")
        .order_by("-episode__started", "instrument_id")
    )
    for o in outcomes:
        o.instrument_name = registry.load(o.instrument_id).short_name  # type: ignore[attr-defined]
    return {
        "client": client,
        "charts": charts,
        "responses": list(reversed(responses))[:30],
        "outcomes": outcomes,
        "episode": episode,
        "open_administrations": _due_administrations(client),
        "choices": instrument_choices(),
        "is_care_team": on_care_team(signed_in_user(request), client),
    }


def client_context(request: HttpRequest, client: Any) -> dict[str, Any]:
    responses = list(Response.objects.filter(client=client).order_by("completed_at"))
    summaries = []
    for iid in OUTCOME_INSTRUMENTS:
        mine = [r for r in responses if r.instrument_id == iid]
        words = plain_words(iid, mine)
        if words:
            summaries.append({"words": words, "chart": build_chart(iid, mine, None)})
    alliance = alliance_words(responses)
    todo = []
    for adm in _due_administrations(client):
        # Its title in the client's language where the instrument has that translation.
        inst = registry.load(adm.instrument_id).localized(active_language())
        todo.append({"administration": adm, "instrument": inst, "n": len(inst.scored_items)})
    return {"todo": todo, "summaries": summaries, "alliance": alliance}
