"""Everything Alliance holds about a client, for the client (GDPR art. 15 and 20).

One dict feeds all three forms of the export: ``/me/data.json``, the readable page ``/me/data/``
and the PDF ``/me/data.pdf`` (:mod:`alliance.exports.pdf`), so they show the same data.

What is in it, and what is deliberately not:

- questionnaires: every response to an instrument the *client* answers (``respondent ==
  "client"``: PHQ-9, GAD-7, the client's Session Alliance Check, WAI-SR, SRS, SAI), whoever
  entered it (the client on a form or link, the care team from paper, an import), with the
  total, band, flags in plain words and the item answers. Item text is included only where the
  shipped instrument file carries it (``item_texts_licensed``); WAI-SR, SRS and SAI ship scoring
  maps only, so their answers are listed by item number and never with item text, not even a
  clinic's locally imported licensed texts (this file leaves the clinic, the licence does not).
- sessions: every scheduled therapy session (number, date and time, scheduled / attended /
  missed / cancelled).
- left out: the therapist's own Session Alliance Check (``sac_therapist``). It is the therapist's
  rating of the session, and no client-facing page shows it (the client home shows only the
  client's own check); see docs/goals-and-checkins.md. Also left out: the therapist's private
  reflection notes, supervision notes and comments, and transcript text.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from alliance.checkins.models import CheckIn, CheckInSchedule, Concern
from alliance.clients.models import ClientRecord, ConsentKind, TherapySession
from alliance.core.models import AuditEvent
from alliance.core.timezones import readable_time as format_time
from alliance.core.timezones import zone_named
from alliance.goals.models import Goal, Task, gas_history
from alliance.measures import registry, scoring
from alliance.measures.models import Response

# Same wording as the site footer (base.html).
ABOUT_SCORES = "Scores and feedback shown in Alliance support conversation; they are not a diagnosis or a risk assessment."
# Same wording as the page a client sees after answering PHQ-9 item 9 above 0 (measures/done.html).
CRISIS_LEAD = (
    "You said you have had thoughts of being better off dead or of hurting yourself. "
    "You do not have to wait for your next session."
)
CRISIS_NOTE = (
    "Your answers are not watched in real time. Your care team will see them, but not immediately. "
    "If you are in danger now, use the numbers above."
)
LICENSED_TEXTS_NOTE = (
    "The publisher's licence does not allow us to share this questionnaire's questions, "
    "so your answers are listed by question number."
)
SOURCE_WORDS: dict[str, str] = {
    Response.Source.FORM: "You, in your client area",
    Response.Source.LINK: "You, from a link we sent you",
    Response.Source.PAPER: "Entered from a paper form by {who} (total only)",
    Response.Source.FHIR: "Imported from another system by {who}",
}
FLAG_WORDS = {
    scoring.FLAG_PRORATED: "One answer was missing, so the total was worked out from the other answers.",
    scoring.FLAG_INCOMPLETE: "Too many answers were missing to work out a total.",
    scoring.FLAG_ITEM9_POSITIVE: "Question 9 was answered above 0.",
    scoring.FLAG_ITEM9_MISSING: "Question 9 was not answered.",
    scoring.FLAG_IDENTICAL: "Every answer was the same.",
    scoring.FLAG_TOO_FAST: "The questionnaire was answered very quickly.",
    "above_cutoff": "The total is at or above the questionnaire's cut-off score.",
    "below_cutoff": "The total is below the questionnaire's cut-off score.",
}


def _dt(value: Any) -> str | None:
    return value.isoformat() if value else None


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _answer_words(value: Any, option: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if option is not None and option.text:
        # "Several days (1)"; options that already start with their number ("0 — Not at all") as they are.
        return (
            option.text
            if option.text.startswith(str(option.value))
            else f"{option.text} ({option.value})"
        )
    return str(_number(value))


def _item_answers(response: Response, inst: registry.Instrument) -> list[dict[str, Any]]:
    """The client's item answers; item text only where the shipped instrument carries it."""
    show_text = inst.item_texts_licensed
    rows = []
    for item in inst.items:
        raw = (
            response.do_differently
            if item.type == "text"
            else (response.answers or {}).get(item.id)
        )
        if raw in (None, ""):
            continue
        try:
            value = scoring.parse_answer(inst, item, raw)
        except scoring.ScoringError:
            value = raw
        if value in (None, ""):
            continue
        option = (
            item.option_for_value(value) if item.answer_options and type(value) is int else None
        )
        row: dict[str, Any] = {"number": item.number}
        if show_text and item.text:
            row["question"] = item.text
        row["answer"] = _answer_words(value, option)
        rows.append(row)
    return rows


def _questionnaires(client: ClientRecord) -> list[dict[str, Any]]:
    out = []
    responses = (
        Response.objects.filter(client=client).select_related("entered_by").order_by("completed_at")
    )
    for r in responses:
        try:
            # The questions as the client read them: in the language the response was shown in.
            inst = registry.load(r.instrument_id).localized(r.language)
        except (
            registry.UnknownInstrumentError
        ):  # no longer shipped: the stored score, no item answers
            out.append(
                {
                    "questionnaire": r.instrument_id,
                    "full_name": r.instrument_id,
                    "date": _dt(r.completed_at),
                    "entered_by": str(r.get_source_display()),
                    "session": r.session_number,
                    "total": _number(r.total),
                    "score_range": "",
                    "severity": r.severity,
                    "notes": [],
                    "answers": [],
                }
            )
            continue
        if inst.respondent != "client":
            continue  # the therapist's own rating (sac_therapist): see the module docstring
        who = (
            r.entered_by.full_name
            if r.entered_by and r.source not in (r.Source.FORM, r.Source.LINK)
            else ""
        )
        entered = SOURCE_WORDS.get(r.source) or str(r.get_source_display())
        row: dict[str, Any] = {
            "questionnaire": inst.short_name,
            "full_name": inst.name,
            "date": _dt(r.completed_at),
            "entered_by": entered.format(who=who or "your care team"),
            "session": r.session_number,
            "total": _number(r.total),
            "score_range": f"{inst.scoring.min:g} to {inst.scoring.max:g}",
            "severity": r.severity,
            "notes": [FLAG_WORDS[f] for f in r.flags or [] if f in FLAG_WORDS],
            "answers": _item_answers(r, inst),
        }
        if not inst.validated and inst.note:
            row["about_this_questionnaire"] = inst.note
        if not inst.item_texts_licensed and row["answers"]:
            row["about_the_questions"] = LICENSED_TEXTS_NOTE
        if r.item9_positive:
            row["support_now"] = {
                "message": CRISIS_LEAD,
                "crisis_resources": client.clinic.crisis_resources_for(),
                "note": CRISIS_NOTE,
            }
        out.append(row)
    return out


def client_data(client: ClientRecord) -> dict[str, Any]:
    goals = []
    for g in Goal.objects.for_client(client).prefetch_related("ratings", "changes"):
        goals.append(
            {
                "id": str(g.pk),
                "wording": g.wording,
                "status": g.get_status_display(),
                "reason": g.status_reason,
                "proposed_by": g.proposed_by_side,
                "created": _dt(g.created_at),
                "client_agreed": _dt(g.client_agreed_at),
                "therapist_agreed": _dt(g.therapist_agreed_at),
                "levels": {f"{level:+d}": words for level, _label, words in g.levels()},
                "importance": g.importance,
                "difficulty": g.difficulty,
                "weight": g.weight,
                "your_rank": g.client_rank,
                "therapist_rank": g.therapist_rank,
                "ratings": [
                    {"date": r.rated_on.isoformat(), "by": r.rater, "level": r.level}
                    for r in g.ratings.all()
                ],
                "changes": [
                    {
                        "proposed_by": c.side,
                        "status": c.get_status_display(),
                        "when": _dt(c.created_at),
                        "wording": c.after.get("wording", ""),
                        "note": c.note,
                    }
                    for c in g.changes.all()
                ],
            }
        )
    tasks = [
        {
            "goal": str(t.goal_id),
            "task": t.description,
            "why_this_helps": t.rationale,
            "status": t.get_status_display(),
            "progress": t.progress,
            "updates": [
                {
                    "when": _dt(u.created_at),
                    "progress": u.progress,
                    "not_working": u.not_working,
                    "note": u.note,
                }
                for u in t.updates.all()
            ],
        }
        for t in Task.objects.filter(client=client)
    ]
    check_ins = []
    for c in CheckIn.objects.filter(client=client).select_related("schedule").order_by("due_at"):
        row = {
            "due": _dt(c.due_at),
            "what": str(c.schedule),
            "status": c.get_status_display(),
            "completed": _dt(c.completed_at),
        }
        response = getattr(c, "response", None) if c.status == CheckIn.Status.COMPLETED else None
        if response is not None:
            row.update({"mood": response.mood, "anything_to_know": response.note})
        check_ins.append(row)
    consents = []
    for kind, label in ConsentKind.choices:
        for consent in client.consents.filter(kind=kind).select_related("text"):
            consents.append(
                {
                    "consent": str(label),
                    "granted": consent.granted,
                    "recorded": _dt(consent.recorded_at),
                    "withdrawn": _dt(consent.withdrawn_at),
                    "text_version": consent.text.version,
                }
            )
    return {
        "exported_at": timezone.now().isoformat(),
        "you": {
            "name": client.full_name,
            "preferred_name": client.preferred_name,
            "time_zone": client.time_zone,
            "status": client.get_status_display(),
            "clinic": client.clinic.name,
        },
        "crisis_line": client.clinic.crisis_line_for(),
        "care_team": [m.therapist.full_name for m in client.care_team.select_related("therapist")],
        "sessions": [
            {"number": s.number, "date": _dt(s.scheduled_at), "status": s.get_status_display()}
            for s in TherapySession.objects.filter(client=client).order_by("number")
        ],
        "consents": consents,
        "goals": goals,
        "goal_attainment": [
            {
                "date": p.rated_on.isoformat(),
                "rated_by": p.rater,
                "t_score": p.t_score,
                "goals_rated": p.n_goals,
            }
            for p in gas_history(client)
        ],
        "tasks": tasks,
        "check_in_schedules": [
            str(s) for s in CheckInSchedule.objects.filter(client=client, active=True)
        ],
        "check_ins": check_ins,
        "about_scores": ABOUT_SCORES,
        "questionnaires": _questionnaires(client),
        "concerns": [
            {
                "raised": _dt(c.raised_at),
                "about": str(c.get_topic_display()),
                "detail": c.detail,
                "read_by_therapist": _dt(c.acknowledged_at),
            }
            for c in Concern.objects.filter(client=client)
        ],
        "who_accessed_your_record": [
            {"when": _dt(e.at), "what": e.plain_words}
            for e in AuditEvent.objects.filter(client=client).order_by("-at")[:1000]
        ],
    }


# Words for the "you" section (the JSON keeps its keys; people read these).
YOU_LABELS = {
    "name": "Name",
    "preferred_name": "Preferred name",
    "time_zone": "Time zone",
    "status": "Status",
    "clinic": "Clinic",
}


def you_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The "you" section as (label, value) pairs in reading order, for the page and the PDF."""
    return [
        (YOU_LABELS.get(key, key.replace("_", " ").capitalize()), str(value or "—"))
        for key, value in data["you"].items()
    ]


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def readable_time(value: str | None, tz: tzinfo) -> str:
    """An ISO time from the export as a person reads it ("2026-11-20 14:05" in ``tz``); plain
    dates and other text unchanged. The JSON copy keeps the exact ISO values."""
    if not value or not isinstance(value, str) or not _ISO_TIME.match(value):
        return value or ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return format_time(moment, tz)


def client_zone(data: dict[str, Any]) -> ZoneInfo:
    return zone_named(data["you"].get("time_zone"), "UTC")


def readable(data: Any, tz: tzinfo) -> Any:
    """A copy of the export with every ISO time made readable, for the HTML and PDF copies."""
    if isinstance(data, dict):
        return {k: readable(v, tz) for k, v in data.items()}
    if isinstance(data, list):
        return [readable(v, tz) for v in data]
    if isinstance(data, str) and _ISO_TIME.match(data):
        return readable_time(data, tz)
    return data
