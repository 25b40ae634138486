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
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from alliance.checkins.models import CheckIn, CheckInSchedule, Concern
from alliance.clients.models import ClientRecord, ConsentKind, TherapySession
from alliance.core.models import AuditEvent
from alliance.core.timezones import readable_time as format_time
from alliance.core.timezones import zone_named
from alliance.goals.models import Goal, GoalChange, Task, gas_history
from alliance.measures import registry, scoring
from alliance.measures.models import Response

# Every sentence here is read by the client, so it is marked for translation and evaluated
# when the export is built (in the client's language: see views.py). JSON keys stay English.

# Same wording as the site footer (base.html).
ABOUT_SCORES = _(
    "Scores and feedback shown in Alliance support conversation; they are not a diagnosis or a "
    "risk assessment."
)
# Same wording as the page a client sees after answering PHQ-9 item 9 above 0 (measures/done.html).
CRISIS_LEAD = _(
    "You said you have had thoughts of being better off dead or of hurting yourself. "
    "You do not have to wait for your next session."
)
CRISIS_NOTE = _(
    "Your answers are not watched in real time. Your care team will see them, but not immediately. "
    "If you are in danger now, use the numbers above."
)
LICENSED_TEXTS_NOTE = _(
    "The publisher's licence does not allow us to share this questionnaire's questions, "
    "so your answers are listed by question number."
)
SOURCE_WORDS = {
    Response.Source.FORM: _("You, in your client area"),
    Response.Source.LINK: _("You, from a link we sent you"),
    Response.Source.PAPER: _("Entered from a paper form by {who} (total only)"),
    Response.Source.FHIR: _("Imported from another system by {who}"),
}
FLAG_WORDS = {
    scoring.FLAG_PRORATED: _(
        "One answer was missing, so the total was worked out from the other answers."
    ),
    scoring.FLAG_INCOMPLETE: _("Too many answers were missing to work out a total."),
    scoring.FLAG_ITEM9_POSITIVE: _("Question 9 was answered above 0."),
    scoring.FLAG_ITEM9_MISSING: _("Question 9 was not answered."),
    scoring.FLAG_IDENTICAL: _("Every answer was the same."),
    scoring.FLAG_TOO_FAST: _("The questionnaire was answered very quickly."),
    "above_cutoff": _("The total is at or above the questionnaire's cut-off score."),
    "below_cutoff": _("The total is below the questionnaire's cut-off score."),
}
# The words for statuses whose model labels are not marked for translation (the labels are the
# same English words; the stored values are not shown).
SESSION_STATUS_WORDS = {
    TherapySession.Status.SCHEDULED: pgettext_lazy("session", "Scheduled"),
    TherapySession.Status.ATTENDED: pgettext_lazy("session", "Attended"),
    TherapySession.Status.MISSED: pgettext_lazy("session", "Missed"),
    TherapySession.Status.CANCELLED: pgettext_lazy("session", "Cancelled"),
}
CHECK_IN_STATUS_WORDS = {
    CheckIn.Status.DUE: pgettext_lazy("check-in", "Due"),
    CheckIn.Status.COMPLETED: pgettext_lazy("check-in", "Done"),
    CheckIn.Status.MISSED: pgettext_lazy("check-in", "Missed"),
}
CLIENT_STATUS_WORDS = {
    ClientRecord.Status.ACTIVE: _("In care"),
    ClientRecord.Status.DISCHARGED: _("Discharged"),
}
CHANGE_STATUS_WORDS = {
    GoalChange.Status.PENDING: _("Waiting for the other side"),
    GoalChange.Status.ACCEPTED: _("Accepted"),
    GoalChange.Status.DECLINED: _("Declined"),
    GoalChange.Status.APPLIED: _("Applied (the goal was not yet agreed)"),
    GoalChange.Status.SUPERSEDED: _("Replaced by a later change"),
}
CADENCE_WORDS = {
    CheckInSchedule.Cadence.DAILY: _("every day"),
    CheckInSchedule.Cadence.WEEKLY: _("every week"),
    CheckInSchedule.Cadence.FORTNIGHTLY: _("every 2 weeks"),
    CheckInSchedule.Cadence.MONTHLY: _("every 4 weeks"),
    CheckInSchedule.Cadence.AFTER_SESSION: _("after each session"),
}
# Who rated a goal or proposed it: stored as "client" / "therapist" (kept so in the JSON).
SIDE_WORDS = {"client": _("you"), "therapist": _("your therapist")}


def _words(words: dict[Any, Any], value: Any, fallback: Any) -> str:
    """The translated words for a stored value; the model's own label for one not listed."""
    return str(words.get(value) or fallback)


def _schedule_words(schedule: CheckInSchedule) -> str:
    """'Mood check-in, every week' in the reader's language (the instrument's name is data)."""
    what = (
        schedule.instrument.upper()
        if schedule.kind == CheckInSchedule.Kind.INSTRUMENT
        else gettext("Mood check-in")
    )
    cadence = _words(CADENCE_WORDS, schedule.cadence, schedule.get_cadence_display().lower())
    return f"{what}, {cadence}"


def _dt(value: Any) -> str | None:
    return value.isoformat() if value else None


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _answer_words(value: Any, option: Any) -> str:
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
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
                    "severity": r.severity_words,
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
        entered = _words(SOURCE_WORDS, r.source, r.get_source_display())
        row: dict[str, Any] = {
            "questionnaire": inst.short_name,
            "full_name": inst.name,
            "date": _dt(r.completed_at),
            "entered_by": entered.format(who=who or gettext("your care team")),
            "session": r.session_number,
            "total": _number(r.total),
            "score_range": gettext("%(min)s to %(max)s")
            % {"min": f"{inst.scoring.min:g}", "max": f"{inst.scoring.max:g}"},
            "severity": r.severity_words,
            "notes": [str(FLAG_WORDS[f]) for f in r.flags or [] if f in FLAG_WORDS],
            "answers": _item_answers(r, inst),
        }
        if not inst.validated and inst.note:
            row["about_this_questionnaire"] = inst.note
        if not inst.item_texts_licensed and row["answers"]:
            row["about_the_questions"] = str(LICENSED_TEXTS_NOTE)
        if r.item9_positive:
            row["support_now"] = {
                "message": str(CRISIS_LEAD),
                "crisis_resources": client.clinic.crisis_resources_for(),
                "note": str(CRISIS_NOTE),
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
                "status": str(g.get_status_display()),
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
                        "status": _words(CHANGE_STATUS_WORDS, c.status, c.get_status_display()),
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
            "status": str(t.get_status_display()),
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
            "what": _schedule_words(c.schedule),
            "status": _words(CHECK_IN_STATUS_WORDS, c.status, c.get_status_display()),
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
            "status": _words(CLIENT_STATUS_WORDS, client.status, client.get_status_display()),
            "clinic": client.clinic.name,
        },
        "crisis_line": client.clinic.crisis_line_for(),
        "care_team": [m.therapist.full_name for m in client.care_team.select_related("therapist")],
        "sessions": [
            {
                "number": s.number,
                "date": _dt(s.scheduled_at),
                "status": _words(SESSION_STATUS_WORDS, s.status, s.get_status_display()),
            }
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
            _schedule_words(s) for s in CheckInSchedule.objects.filter(client=client, active=True)
        ],
        "check_ins": check_ins,
        "about_scores": str(ABOUT_SCORES),
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
            {"when": _dt(e.at), "what": str(e.plain_words)}
            for e in AuditEvent.objects.filter(client=client).order_by("-at")[:1000]
        ],
    }


# Words for the "you" section (the JSON keeps its keys; people read these).
YOU_LABELS = {
    "name": _("Name"),
    "preferred_name": _("Preferred name"),
    "time_zone": _("Time zone"),
    "status": _("Status"),
    "clinic": _("Clinic"),
}


def you_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The "you" section as (label, value) pairs in reading order, for the page and the PDF."""
    return [
        (str(YOU_LABELS.get(key) or key.replace("_", " ").capitalize()), str(value or "—"))
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


def side_words(side: str) -> str:
    """'you' or 'your therapist' in the reader's language, for the readable copies."""
    return _words(SIDE_WORDS, side, side)


def for_people(data: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """The readable page's copy: times made readable, raters in words (the JSON keeps codes)."""
    out: dict[str, Any] = readable(data, tz)
    for goal in out["goals"]:
        for rating in goal["ratings"]:
            rating["by"] = side_words(rating["by"])
    for point in out["goal_attainment"]:
        point["rated_by"] = side_words(point["rated_by"])
    return out


def readable(data: Any, tz: tzinfo) -> Any:
    """A copy of the export with every ISO time made readable, for the HTML and PDF copies."""
    if isinstance(data, dict):
        return {k: readable(v, tz) for k, v in data.items()}
    if isinstance(data, list):
        return [readable(v, tz) for v in data]
    if isinstance(data, str) and _ISO_TIME.match(data):
        return readable_time(data, tz)
    return data
