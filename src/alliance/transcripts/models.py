"""Session transcripts and the therapist's private feedback on them."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models

from alliance.accounts.models import Clinic
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord
from alliance.nlp.analyze import apply_corrections, widening_for_version


class TranscriptSettings(models.Model):
    """Per-clinic transcript policy."""

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    delete_text_after_analysis = models.BooleanField(
        default=False,
        help_text="Delete the transcript text once it is analysed, keeping only the metrics.",
    )
    export_text_with_corrections = models.BooleanField(
        default=False,
        help_text="Include the words of corrected utterances in the corrections export.",
    )

    @classmethod
    def for_clinic(cls, clinic: Clinic) -> TranscriptSettings:
        """The clinic's settings, or the defaults, unsaved: reading them must not write (a page
        view would otherwise insert the row); the settings page saves it."""
        return cls.objects.filter(clinic=clinic).first() or cls(clinic=clinic)


class Transcript(ClinicRecord):
    """One uploaded transcript of a therapy session. Text and analysis are encrypted."""

    class Status(models.TextChoices):
        NEEDS_ROLES = "needs_roles", "Waiting for you to confirm who is who"
        QUEUED = "queued", "Waiting for analysis"
        DONE = "done", "Analysed"
        FAILED = "failed", "Analysis failed"

    client = models.ForeignKey(ClientRecord, on_delete=models.CASCADE, related_name="transcripts")
    session = models.ForeignKey(
        TherapySession, on_delete=models.CASCADE, related_name="transcripts"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(max_length=200)
    file_format = models.CharField(max_length=20)
    text = EncryptedTextField(blank=True)
    speakers = EncryptedTextField(blank=True, help_text="JSON: speaker name -> guessed role.")
    therapist_speaker = EncryptedTextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEEDS_ROLES)
    error = models.CharField(max_length=300, blank=True)
    analysis = EncryptedTextField(blank=True, help_text="JSON of the full analysis (with text).")
    metrics = models.JSONField(default=dict, blank=True, help_text="Numbers only; no text.")
    corrections = EncryptedTextField(
        blank=True, help_text="JSON: utterance index -> the code the therapist corrected it to."
    )
    model_version = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    text_deleted_at = models.DateTimeField(null=True, blank=True)
    # The background task analysing it, so the page can say whether it waits, runs or is retried.
    analysis_task_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def speaker_roles(self) -> dict[str, str]:
        return json.loads(self.speakers) if self.speakers else {}

    def analysis_data(self) -> dict[str, Any] | None:
        """The analysis as the therapist sees it: the model's codes with their corrections."""
        if not self.analysis:
            return None
        data = json.loads(self.analysis)
        corrections = self.correction_data()
        if corrections:
            data = apply_corrections(data, corrections, widening_for_version(self.model_version))
        return data

    def model_analysis(self) -> dict[str, Any] | None:
        """The analysis as the model made it, before any correction."""
        return json.loads(self.analysis) if self.analysis else None

    def correction_data(self) -> dict[str, str]:
        return json.loads(self.corrections) if self.corrections else {}


def metrics_without_text(summary: dict[str, Any]) -> dict[str, Any]:
    """The session summary minus anything that could carry names or words."""
    clean = {k: v for k, v in summary.items() if k not in {"speakers", "rupture_moments"}}
    clean["rupture_moments"] = [
        {"index": m.get("index"), "type": m.get("type"), "start": m.get("start")}
        for m in summary.get("rupture_moments", [])
    ]
    return clean
