"""Client-page panels for goals: the therapist's goals/tasks/GAS panel and the client's goals."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from alliance.goals.charts import gas_chart
from alliance.goals.models import Goal, RankDisagreement, Task, gas_history


def _latest(history: list, rater: str) -> Any:
    points = [p for p in history if p.rater == rater]
    return points[-1] if points else None


def staff_panel(request: HttpRequest, client: Any) -> dict[str, Any]:
    goals = list(Goal.objects.for_client(client).current().prefetch_related("tasks"))
    history = gas_history(client)
    signals = [
        t
        for t in Task.objects.filter(client=client).select_related("goal")
        if t.unseen_not_working().exists()
    ]
    return {
        "client": client,
        "goals": goals,
        "history": history,
        "chart": gas_chart(history),
        "latest_client": _latest(history, "client"),
        "latest_therapist": _latest(history, "therapist"),
        "disagreement": RankDisagreement.objects.filter(
            client=client, resolved_at__isnull=True
        ).first(),
        "signals": signals,
    }


def client_panel(request: HttpRequest, client: Any) -> dict[str, Any]:
    goals = list(Goal.objects.for_client(client).current().prefetch_related("tasks"))
    history = gas_history(client)
    latest = _latest(history, "client")
    words = None
    if latest is not None:
        if latest.t_score >= 55:
            words = gettext("better than you both expected")
        elif latest.t_score > 45:
            words = gettext("about as you both expected")
        else:
            words = gettext("not as far as hoped yet")
    return {"goals": goals, "latest": latest, "words": words}
