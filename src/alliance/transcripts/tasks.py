"""Transcript analysis runs in the background worker."""

from __future__ import annotations

import json
import logging

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def analyse_transcript(transcript_id: str) -> str:
    from alliance.nlp import analyze_text
    from alliance.transcripts.models import Transcript, TranscriptSettings, metrics_without_text

    transcript = Transcript.objects.get(pk=transcript_id)
    if transcript.status != Transcript.Status.QUEUED:
        return transcript.status  # a repeated task must not analyse twice
    try:
        result = analyze_text(transcript.text, transcript.filename, therapist=transcript.therapist_speaker)
    except ValueError as exc:  # TranscriptError is a ValueError; its message names a line, no text
        transcript.status = Transcript.Status.FAILED
        transcript.error = str(exc)[:300]
        transcript.save(update_fields=["status", "error"])
        logger.warning("Transcript analysis failed (%s)", type(exc).__name__)
        return transcript.status
    transcript.metrics = metrics_without_text(result["summary"])
    transcript.model_version = str(result["model_version"])
    transcript.analysed_at = timezone.now()
    transcript.status = Transcript.Status.DONE
    if TranscriptSettings.for_clinic(transcript.clinic).delete_text_after_analysis:
        transcript.text = ""
        transcript.analysis = ""
        transcript.text_deleted_at = timezone.now()
    else:
        transcript.analysis = json.dumps(result)
    transcript.save()
    return transcript.status
