"""Demo: two analysed sessions from transcripts written by the project (fictional people).

The analysis is the real one (the shipped model), run at seed time instead of in the worker.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from alliance.clients.models import TherapySession
from alliance.core.seeding import DemoContext

HERE = Path(__file__).resolve().parent / "demo_transcripts"
DEMO = [("session-a.vtt", "Dr. Theo Therapos"), ("session-b.txt", "Dr. Rhea Listenwell")]


def seed(ctx: DemoContext) -> None:
    from alliance.nlp import analyze_text
    from alliance.transcripts.models import Transcript, metrics_without_text

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
        when = timezone.now() - timedelta(days=3)
        session = TherapySession.objects.create(
            clinic=client.clinic,
            client=client,
            therapist=therapist,
            number=TherapySession.next_number(client),
            scheduled_at=when,
            status=TherapySession.Status.ATTENDED,
        )
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
            analysed_at=when + timedelta(hours=1),
        )
