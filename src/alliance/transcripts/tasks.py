"""Transcript analysis runs in the background worker."""

from __future__ import annotations

import json
import logging

from django.utils import timezone
from django_tasks import task

from alliance.nlp import analyze_text
from alliance.transcripts.models import Transcript, TranscriptSettings, metrics_without_text

logger = logging.getLogger(__name__)


@task()
def analyse_transcript(transcript_id: str) -> str:
    """Analyse one queued transcript and store its metrics (and, unless the clinic deletes text,
    the full analysis).

    Safe to run twice: a transcript no longer QUEUED is left alone, and the result is written
    only while it is still QUEUED, so when a lease ran out on a worker that was only slow, the
    two runs store one analysis between them.
    """

    transcript = Transcript.objects.get(pk=transcript_id)
    if transcript.status != Transcript.Status.QUEUED:
        return transcript.status  # a repeated task must not analyse twice
    still_queued = Transcript.objects.filter(pk=transcript.pk, status=Transcript.Status.QUEUED)
    try:
        result = analyze_text(
            transcript.text, transcript.filename, therapist=transcript.therapist_speaker
        )
    except ValueError as exc:  # TranscriptError is a ValueError; its message names a line, no text
        still_queued.update(status=Transcript.Status.FAILED, error=str(exc)[:300])
        logger.warning("Transcript analysis failed (%s)", type(exc).__name__)
        return Transcript.Status.FAILED
    now = timezone.now()
    fields: dict[str, object] = {
        "metrics": metrics_without_text(result["summary"]),
        "model_version": str(result["model_version"]),
        "analysed_at": now,
        "status": Transcript.Status.DONE,
    }
    if TranscriptSettings.for_clinic(transcript.clinic).delete_text_after_analysis:
        fields.update(text="", analysis="", text_deleted_at=now)
    else:
        fields["analysis"] = json.dumps(result)
    if not still_queued.update(**fields):
        return Transcript.objects.values_list("status", flat=True).get(pk=transcript.pk)
    return Transcript.Status.DONE
