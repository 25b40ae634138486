"""Per-clinic report settings."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from alliance.accounts.models import Clinic


class ReportSettings(models.Model):
    """Who sees per-therapist figures. A therapist always sees their own; supervisors see their
    supervisees' only when the clinic allows it; nobody sees them as a ranking."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="report_settings")
    supervisors_see_therapist_figures = models.BooleanField(
        default=False,
        help_text="Show supervisors each supervisee's own outcome figures (never as a ranking).",
    )

    @classmethod
    def for_clinic(cls, clinic: Any) -> ReportSettings:
        return cls.objects.filter(clinic=clinic).first() or cls(clinic=clinic)
