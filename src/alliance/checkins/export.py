"""Everything Alliance holds about a client, for the client (GDPR art. 15 and 20)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInSchedule, Concern
from alliance.clients.models import ClientRecord, ConsentKind
from alliance.core.models import AuditEvent
from alliance.goals.models import Goal, Task, gas_history


def _dt(value: Any) -> str | None:
    return value.isoformat() if value else None


def client_data(client: ClientRecord) -> dict[str, Any]:
    goals = []
    for g in Goal.objects.for_client(client).prefetch_related("ratings", "changes"):
        goals.append({
            "id": str(g.pk), "wording": g.wording, "status": g.get_status_display(), "reason": g.status_reason,
            "proposed_by": g.proposed_by_side, "created": _dt(g.created_at),
            "client_agreed": _dt(g.client_agreed_at), "therapist_agreed": _dt(g.therapist_agreed_at),
            "levels": {f"{level:+d}": words for level, _label, words in g.levels()},
            "importance": g.importance, "difficulty": g.difficulty, "weight": g.weight,
            "your_rank": g.client_rank, "therapist_rank": g.therapist_rank,
            "ratings": [{"date": r.rated_on.isoformat(), "by": r.rater, "level": r.level} for r in g.ratings.all()],
            "changes": [{"proposed_by": c.side, "status": c.get_status_display(), "when": _dt(c.created_at),
                         "wording": c.after.get("wording", ""), "note": c.note} for c in g.changes.all()],
        })
    tasks = [{
        "goal": str(t.goal_id), "task": t.description, "why_this_helps": t.rationale, "status": t.get_status_display(),
        "progress": t.progress,
        "updates": [{"when": _dt(u.created_at), "progress": u.progress, "not_working": u.not_working, "note": u.note}
                    for u in t.updates.all()],
    } for t in Task.objects.filter(client=client)]
    check_ins = []
    for c in CheckIn.objects.filter(client=client).select_related("schedule").order_by("due_at"):
        row = {"due": _dt(c.due_at), "what": str(c.schedule), "status": c.get_status_display(),
               "completed": _dt(c.completed_at)}
        response = getattr(c, "response", None) if c.status == CheckIn.Status.COMPLETED else None
        if response is not None:
            row.update({"mood": response.mood, "anything_to_know": response.note})
        check_ins.append(row)
    consents = []
    for kind, label in ConsentKind.choices:
        for consent in client.consents.filter(kind=kind).select_related("text"):
            consents.append({"consent": label, "granted": consent.granted, "recorded": _dt(consent.recorded_at),
                             "withdrawn": _dt(consent.withdrawn_at), "text_version": consent.text.version})
    return {
        "exported_at": timezone.now().isoformat(),
        "you": {"name": client.full_name, "preferred_name": client.preferred_name, "time_zone": client.time_zone,
                "status": client.get_status_display(), "clinic": client.clinic.name},
        "care_team": [m.therapist.full_name for m in client.care_team.select_related("therapist")],
        "consents": consents,
        "goals": goals,
        "goal_attainment": [{"date": p.rated_on.isoformat(), "rated_by": p.rater, "t_score": p.t_score,
                             "goals_rated": p.n_goals} for p in gas_history(client)],
        "tasks": tasks,
        "check_in_schedules": [str(s) for s in CheckInSchedule.objects.filter(client=client, active=True)],
        "check_ins": check_ins,
        "concerns": [{"raised": _dt(c.raised_at), "about": c.get_topic_display(), "detail": c.detail,
                      "read_by_therapist": _dt(c.acknowledged_at)} for c in Concern.objects.filter(client=client)],
        "who_accessed_your_record": [{"when": _dt(e.at), "what": e.plain_words}
                                     for e in AuditEvent.objects.filter(client=client).order_by("-at")[:1000]],
    }
