"""Demo: two analysed sessions from transcripts written by the project (fictional people).

The analysis is the real one (the shipped model), run at seed time instead of in the worker.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

from alliance.accounts.models import User
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core.seeding import DemoContext
from alliance.nlp import analyze_text
from alliance.transcripts.models import Transcript, metrics_without_text

HERE = Path(__file__).resolve().parent / "demo_transcripts"
DEMO = [("session-a.vtt", "Dr. Theo Therapos"), ("session-b.txt", "Dr. Rhea Listenwell")]
# The transcripts belong to sessions of the histories the supervision demo builds.
SEED_AFTER = ("alliance.supervision",)


def _session_for_transcript(client: ClientRecord, therapist: User, now: datetime) -> TherapySession:
    """The client's latest held session without a transcript; otherwise a new session after the
    last one, so the history stays numbered in date order."""
    held = (
        TherapySession.objects.filter(client=client, scheduled_at__lte=now - timedelta(hours=2))
        .exclude(status__in=("missed", "cancelled", "scheduled"))
        .order_by("-number")
    )
    latest = held.first()
    if latest is not None and not latest.transcripts.exists():
        return latest
    last = TherapySession.objects.filter(client=client).order_by("-number").first()
    when = now - timedelta(days=3)
    if last is not None and last.scheduled_at >= when:
        raise RuntimeError("demo: no room for a transcript session after the client's last session")
    return TherapySession.objects.create(
        clinic=client.clinic,
        client=client,
        therapist=therapist,
        number=TherapySession.next_number(client),
        scheduled_at=when,
        status=TherapySession.Status.ATTENDED,
    )


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    for filename, therapist_speaker in DEMO:
        therapist = next(t for t in ctx.therapists if t.full_name == therapist_speaker)
        client = next(
            c
            for c in ctx.clients
            if c.status == "active"
            and c.has_consent("recording")
            and c.care_team.filter(therapist=therapist).exists()
        )
        text = (HERE / filename).read_text()
        session = _session_for_transcript(client, therapist, now)
        result = analyze_text(text, filename, therapist=therapist_speaker)
        Transcript.objects.create(
            clinic=client.clinic,
            client=client,
            session=session,
            uploaded_by=therapist,
            filename=filename,
            file_format=result["format"],
            text=text,
            speakers=json.dumps(result["summary"]["speakers"]),
            therapist_speaker=therapist_speaker,
            status=Transcript.Status.DONE,
            analysis=json.dumps(result),
            metrics=metrics_without_text(result["summary"]),
            model_version=str(result["model_version"]),
            analysed_at=session.scheduled_at + timedelta(hours=1),
        )
