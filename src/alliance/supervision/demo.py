"""Demo clinic: supervision links, session alliance histories with dips, journal entries,
analysed-session skill metrics, and shared items with comments (one de-identified). Fictional."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from alliance.clients.models import ClientRecord, TherapySession
from alliance.core.seeding import DemoContext
from alliance.measures import scoring
from alliance.measures.models import Response
from alliance.measures.services import record_response
from alliance.nlp.metrics import THRESHOLDS
from alliance.supervision import alliance
from alliance.supervision.models import (
    Comment,
    JournalEntry,
    SharedItem,
    ShareKind,
    SupervisionLink,
)
from alliance.transcripts.models import Transcript

# Session alliance check means (0–6), oldest first.
STEADY = [5, 5, 6, 5, 5, 6]
REPAIRED = [5, 5, 5, 2, 5, 5]
UNREPAIRED = [5, 6, 5, 2, 2, 2, 3, 3]
TWO_DIPS = [5, 5, 6, 2, 5, 5, 6, 3, 5]


def _alliance_history(
    client: ClientRecord, values: list[int], now: dt.datetime
) -> list[TherapySession]:
    primary = client.care_team.filter(is_primary=True).first()
    assert primary is not None  # every demo client is seeded with a primary therapist
    therapist = primary.therapist
    sessions = []
    first_number = TherapySession.next_number(client)
    for i, v in enumerate(values):
        when = now - dt.timedelta(days=7 * (len(values) - i), hours=3)
        number = first_number + i
        sessions.append(
            TherapySession.objects.create(
                clinic=client.clinic,
                client=client,
                therapist=therapist,
                number=number,
                scheduled_at=when,
                status=TherapySession.Status.ATTENDED,
            )
        )
        answers = {"item1": v, "item2": v, "item3": v, "item4": v, "felt_off": 1 if v <= 2 else 0}
        recorded = record_response(
            client=client,
            instrument_id=alliance.ALLIANCE_INSTRUMENT,
            result=scoring.score("sac_client", answers),
            answers=answers,
            source="form",
            actor=client.user,
            completed_at=when + dt.timedelta(hours=1),
        )
        Response.objects.filter(pk=recorded.response.pk).update(session_number=number)
    return sessions


def _metrics(rq: float, cr: float, oq: float) -> dict[str, Any]:
    """A whole session summary as the analysis stores it once the text is deleted (numbers only),
    with the three MITI-style scores given and the counts made to agree with them."""
    out: dict[str, Any] = {}
    for key, value in (
        ("reflection_to_question", rq),
        ("percent_complex_reflections", cr),
        ("percent_open_questions", oq),
    ):
        th = THRESHOLDS[key]
        level = "good" if value >= th["good"] else "fair" if value >= th["fair"] else "below fair"
        out[key] = {
            "value": value,
            "fair": th["fair"],
            "good": th["good"],
            "level": level,
            "source": th["source"],
        }
    questions = 20
    reflections = round(rq * questions)
    complex_ = round(reflections * cr / 100)
    open_ = round(questions * oq / 100)
    out["talk_share"] = {
        "by_words": {"therapist": round(62 - 8 * rq, 1), "client": round(38 + 8 * rq, 1)},
        "by_time": None,
    }
    out["counts"] = {
        "reflections": reflections,
        "simple_reflections": reflections - complex_,
        "complex_reflections": complex_,
        "questions": questions,
        "open_questions": open_,
        "closed_questions": questions - open_,
        "therapist_input": 6,
        "other": 9,
        "change_talk": 5 + reflections // 4,
        "neutral_talk": 30,
        "sustain_talk": 4,
        "summaries": 1 + reflections // 10,
        "validations": 2,
        "normalising": 1,
        "affirmations": 2,
        "judgmental": 0,
        "directive": 1,
        "repair": 0,
    }
    change, sustain = out["counts"]["change_talk"], out["counts"]["sustain_talk"]
    out["change_sustain"] = {
        "ratio": round(change / sustain, 2),
        "change_talk_share": round(100 * change / (change + sustain), 2),
    }
    out["rupture_moments"] = []
    out["turns"] = {"therapist": 60, "client": 58}
    return out


def _entry(
    client: ClientRecord, session: TherapySession | None, tags: dict[str, int], **texts: str
) -> JournalEntry:
    primary = client.care_team.filter(is_primary=True).first()
    assert primary is not None  # every demo client is seeded with a primary therapist
    therapist = primary.therapist
    e = JournalEntry(
        clinic=client.clinic,
        therapist=therapist,
        client=client,
        session=session,
        written_at=(session.scheduled_at + dt.timedelta(hours=4)) if session else timezone.now(),
        **texts,
    )
    e.set_structured(tags, ["supervision"] if tags.get("irritation", 0) >= 6 else [])
    e.save()
    return e


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    for therapist in ctx.therapists:
        SupervisionLink.objects.create(
            clinic=ctx.clinic, supervisor=ctx.supervisor, supervisee=therapist, created_by=ctx.admin
        )
    active = [c for c in ctx.clients if c.status == ClientRecord.Status.ACTIVE]
    patterns = [TWO_DIPS, STEADY, REPAIRED, STEADY, UNREPAIRED, REPAIRED, STEADY, REPAIRED]
    histories: dict[int, list[TherapySession]] = {}
    for i, client in enumerate(active[:18]):
        values = patterns[i % len(patterns)]
        histories[i] = _alliance_history(
            client,
            [max(0, min(6, v + ctx.rng.choice([0, 0, 0, 1, -1]) if v >= 4 else v)) for v in values],
            now,
        )

    # The first client (therapist 1, supervision consent on file): irritation before both dips.
    star = active[0]
    s = histories[0]
    _entry(
        star,
        s[2],
        {"irritation": 7},
        felt="Irritated when the homework came back undone again.",
        echoes="Expecting me to be disappointed, as her father was?",
        stirred="My own wish to be a 'good' helper.",
        effect="I pushed the plan harder than she was ready for.",
        plan="Name the pattern gently; take it to supervision.",
    )
    _entry(
        star,
        s[3],
        {"hopelessness": 4, "anxiety": 3},
        felt="Worried I had lost her.",
        effect="Quieter session, more cautious.",
    )
    second = _entry(
        star,
        s[6],
        {"irritation": 6, "boredom": 3},
        felt="Restless while she retold the same story.",
        stirred="Impatience I recognise from long family dinners.",
        plan="Slow down; reflect before asking.",
    )
    _entry(
        active[1],
        histories[1][1],
        {"protectiveness": 8},
        felt="A strong urge to rescue.",
        plan="Check whether I am doing the work for him.",
    )
    therapist = ctx.therapists[0]

    # Analysed sessions (numbers only, no text) for listening-skill trends over months.
    for k, session in enumerate(s):
        Transcript.objects.create(
            clinic=star.clinic,
            client=star,
            session=session,
            uploaded_by=therapist,
            filename=f"session-{session.number}.vtt",
            file_format="vtt",
            status=Transcript.Status.DONE,
            analysed_at=session.scheduled_at + dt.timedelta(hours=2),
            text_deleted_at=session.scheduled_at + dt.timedelta(hours=2),  # numbers only
            metrics=_metrics(round(0.6 + 0.15 * k, 2), 30.0 + 3 * k, 45.0 + 2.5 * k),
            model_version="demo",
        )
    feedback = Transcript.objects.filter(client=star, session=s[3]).first()

    # Shared with the supervisor, with comments.
    shared_entry = SharedItem.objects.create(
        clinic=star.clinic,
        therapist=therapist,
        supervisor=ctx.supervisor,
        client=star,
        kind=ShareKind.JOURNAL_ENTRY,
        object_id=second.pk,
        question="Why does my patience run out with her in particular?",
        shared_at=now - dt.timedelta(days=3),
    )
    c1 = Comment.objects.create(
        clinic=star.clinic,
        item=shared_entry,
        author=ctx.supervisor,
        written_identifiable=True,
        body="Worth noticing that the restlessness comes right before the dips. What happens if you say aloud that the story sounds important to her?",
        written_at=now - dt.timedelta(days=2),
    )
    Comment.objects.create(
        clinic=star.clinic,
        item=shared_entry,
        author=therapist,
        parent=c1,
        written_identifiable=True,
        body="I'll try that next session and bring back what happened.",
        written_at=now - dt.timedelta(days=1),
    )
    if feedback is not None:
        fb = SharedItem.objects.create(
            clinic=star.clinic,
            therapist=therapist,
            supervisor=ctx.supervisor,
            client=star,
            kind=ShareKind.TRANSCRIPT_FEEDBACK,
            object_id=feedback.pk,
            question="Few reflections in the session where the alliance dipped.",
            shared_at=now - dt.timedelta(days=5),
        )
        Comment.objects.create(
            clinic=star.clinic,
            item=fb,
            author=ctx.supervisor,
            written_identifiable=True,
            body="Two reflections before each question is a good target here.",
            written_at=now - dt.timedelta(days=4),
        )
    episodes = alliance.ruptures(alliance.alliance_series(star), star.clinic)
    if episodes:
        SharedItem.objects.create(
            clinic=star.clinic,
            therapist=therapist,
            supervisor=ctx.supervisor,
            client=star,
            kind=ShareKind.RUPTURE_EPISODE,
            params={"start_session": episodes[0]["start_session"]},
        )
    # A client without supervision consent: the supervisor sees the de-identified version.
    unconsented = next(
        (c for i, c in enumerate(active[:18]) if not c.has_consent("supervision")), None
    )
    if unconsented is not None:
        owner = unconsented.care_team.filter(is_primary=True).first().therapist
        SharedItem.objects.create(
            clinic=star.clinic,
            therapist=owner,
            supervisor=ctx.supervisor,
            client=unconsented,
            kind=ShareKind.ALLIANCE_TIMELINE,
            question="Flat and high: is it telling me anything?",
        )
    ctx.notes.append(
        f"Supervision: {ctx.supervisor.full_name} supervises every therapist; {therapist.full_name} has journal entries, "
        f"skill metrics and shared items with comments about {star.full_name}; one item is shared de-identified."
    )
