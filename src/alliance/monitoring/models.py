"""Monitoring: per-clinic rule settings, rupture episodes and immediate safety notices.

The alerts themselves, and their lifecycle, live in the lower ``alliance.alerts`` app.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext

from alliance.alerts.models import RULE_LABELS, Alert
from alliance.clients.models import ClientRecord
from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord
from alliance.monitoring import ruptures

if TYPE_CHECKING:
    from alliance.accounts.models import User


class MonitoringSettings(models.Model):
    """Per-clinic parameters of every monitoring rule: rupture detection (the ``RuptureSettings``
    of ``alliance.monitoring.ruptures``), client–therapist disagreement and disengagement.

    All rules here are design choices (docs/clinical-reference.md, "Alliance ruptures"), so
    every parameter is a setting and each finding stores the values it was computed with.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.OneToOneField(
        "accounts.Clinic", on_delete=models.CASCADE, related_name="monitoring_settings"
    )
    # Rupture detection on the client's Session Alliance Check (0–6).
    k = models.FloatField(
        default=2.0,
        help_text="A session at or below the client's own mean − k·SD is a rupture: 2 strict, "
        "1 lenient (Gumz et al. 2012 recommend showing both).",
    )
    min_baseline = models.PositiveSmallIntegerField(
        default=3,
        help_text="Previous rated sessions needed before the k·SD rule runs (at least 2).",
    )
    baseline_window = models.PositiveSmallIntegerField(
        default=5, help_text="Most recent sessions outside any rupture that form the baseline."
    )
    sd_floor_fraction = models.FloatField(
        default=0.10,
        help_text="The SD is floored at this share of the scale range (0.10 = 0.6 on 0–6).",
    )
    cutoff = models.FloatField(
        null=True,
        blank=True,
        default=4.0,
        help_text="A rating below this is a rupture signal (the check's own cut-off, 4 of 6). Empty: off.",
    )
    drop_from_previous = models.FloatField(
        null=True,
        blank=True,
        default=2.0,
        help_text="A fall of at least this much from the previous rating is a rupture signal. Empty: off.",
    )
    repair_window = models.PositiveSmallIntegerField(
        default=3,
        help_text="Sessions after the start within which a return to the earlier level counts as repair.",
    )
    # Triangulation.
    disagreement_gap = models.FloatField(
        default=1.5,
        help_text="Flag a session when the therapist's rating is at least this much above the "
        "client's (0–6 scale); therapists tend to rate the alliance higher than clients do.",
    )
    # Disengagement.
    missed_window = models.PositiveSmallIntegerField(
        default=4, help_text="Look at this many of the most recent past sessions..."
    )
    missed_threshold = models.PositiveSmallIntegerField(
        default=2, help_text="...and flag when at least this many were missed or cancelled."
    )
    long_gap_days = models.PositiveSmallIntegerField(
        default=21,
        help_text="Flag when the last attended session is this many days ago and none is booked.",
    )
    check_in_drop_points = models.PositiveSmallIntegerField(
        default=30,
        help_text="Flag when check-in completion in the last 4 weeks fell by at least this many "
        "percentage points from the 4 weeks before (at least 3 check-ins due in each).",
    )
    early_sessions = models.PositiveSmallIntegerField(
        default=3,
        help_text="A client rating below the cut-off in these first sessions is a disengagement signal.",
    )

    # Escalation of unacknowledged safety alerts (alliance.monitoring.tasks).
    escalation_hours = models.PositiveSmallIntegerField(
        default=4,
        help_text="A safety alert nobody acknowledged after this many hours is emailed to the "
        "supervisors and clinic admins.",
    )

    # Immediate safety notices (alliance.monitoring.notices).
    on_call_email = models.EmailField(
        blank=True,
        help_text="Also told at once about every safety alert and concern (a duty clinician's "
        "shared address). Empty: only the treating therapist.",
    )
    sms_enabled = models.BooleanField(
        default=False,
        help_text="Also send the notice by SMS to the on-call number (the deployment's SMS "
        "provider, SMS_BACKEND).",
    )
    on_call_sms = models.CharField(
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(
                r"^\+[1-9][0-9]{6,14}$",
                "Enter the number in international form, e.g. +12065550100.",
            )
        ],
        help_text="On-call mobile number in international form (+ and country code).",
    )

    class Meta:
        verbose_name_plural = "monitoring settings"

    @classmethod
    def for_clinic(cls, clinic: Any) -> MonitoringSettings:
        """The clinic's settings, or the defaults, unsaved: reading them must not write (a page
        view would otherwise insert the row); the settings page saves it."""
        return cls.objects.filter(clinic=clinic).first() or cls(clinic=clinic)

    def rupture_settings(self) -> ruptures.RuptureSettings:
        """The pure detector's settings (0–6 Session Alliance Check scale)."""
        return ruptures.RuptureSettings(
            k=self.k,
            min_baseline=max(2, self.min_baseline),
            baseline_window=max(self.baseline_window, self.min_baseline, 2),
            sd_floor_fraction=self.sd_floor_fraction,
            cutoff=self.cutoff,
            drop_from_previous=self.drop_from_previous or None,
            repair_window=max(1, self.repair_window),
            scale_min=0.0,
            scale_max=6.0,
        )

    def disagreement_settings(self) -> dict[str, Any]:
        return {"disagreement_gap": self.disagreement_gap, "scale": "0-6"}

    def disengagement_settings(self) -> dict[str, Any]:
        return {
            "missed_window": self.missed_window,
            "missed_threshold": self.missed_threshold,
            "long_gap_days": self.long_gap_days,
            "check_in_drop_points": self.check_in_drop_points,
            "early_sessions": self.early_sessions,
            "cutoff": self.cutoff,
        }


class RepairApproach(models.TextChoices):
    """Resolution moves, described in our own words (after the Rupture Resolution Rating
    System, Eubanks, Muran & Safran; docs/clinical-reference.md)."""

    CLARIFY = "clarify", "Cleared up a misunderstanding"
    CHANGE_TASKS = "change_tasks", "Changed the tasks or the goals we work on"
    RATIONALE = "rationale", "Explained why we work the way we do"
    INVITE = "invite", "Invited the client to talk about the therapy or about me"
    OWN_PART = "own_part", "Acknowledged my own part in what went wrong"
    VALIDATE = "validate", "Validated the client's reasons for pulling back or pushing back"


class RuptureEpisodeQuerySet(models.QuerySet["RuptureEpisode"]):
    def visible_to(self, user: User) -> RuptureEpisodeQuerySet:
        return self.filter(client__in=ClientRecord.objects.visible_to(user))


class RuptureEpisode(ClinicRecord):
    """One rupture in a client's alliance, from the signal that opened it to repair or not.

    Opened by a signal (``rules`` and ``evidence``: which rule, which scores, the settings);
    the therapist acknowledges it and records the repair approach; closed as ``repaired`` when
    the client's rating returns to the pre-rupture level within the repair window, otherwise
    ``unrepaired`` and escalated (Eubanks, Muran & Safran 2018: repaired ruptures go with better
    outcome, unrepaired ones with worse).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open: watching for repair"
        REPAIRED = "repaired", "Repaired"
        UNREPAIRED = "unrepaired", "Unrepaired"

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="rupture_episodes"
    )
    instrument_id = models.CharField(max_length=30, default="sac_client")
    start_session = models.PositiveIntegerField()
    lowest_session = models.PositiveIntegerField()
    end_session = models.PositiveIntegerField(null=True, blank=True)
    recovered_session = models.PositiveIntegerField(
        null=True, blank=True, help_text="Back to the earlier level after the repair window closed."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    rules = models.JSONField(default=list)
    evidence = models.JSONField(
        default=dict, help_text="Scores, baseline, threshold; no client text."
    )
    rule_settings = models.JSONField(default=dict, help_text="The rule parameters used.")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="rupture_episodes"
    )
    unrepaired_alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_to = models.CharField(
        max_length=20, blank=True, help_text='"supervisor" (client consented) or "therapist".'
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    repair_approaches = models.JSONField(default=list, blank=True)
    repair_note = EncryptedTextField(blank=True)

    objects = RuptureEpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["client", "start_session"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "instrument_id", "start_session"], name="one_episode_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"Rupture from session {self.start_session} ({self.get_status_display()})"

    @property
    def rule_labels(self) -> list[str]:
        return [RULE_LABELS.get(r, r) for r in self.rules]

    @property
    def approach_labels(self) -> list[str]:
        labels = dict(RepairApproach.choices)
        return [labels.get(a, a) for a in self.repair_approaches]

    @property
    def explanation(self) -> str:
        return str((self.evidence or {}).get("explanation", ""))

    @property
    def last_session(self) -> int:
        return self.end_session or self.recovered_session or self.lowest_session

    def record_repair(self, user: User, approaches: list[str], note: str) -> None:
        """The therapist acknowledges the rupture and records what they did to repair it."""
        valid = set(RepairApproach.values)
        chosen = [a for a in approaches if a in valid]
        if not chosen and not note.strip():
            raise ValueError(
                gettext("Choose at least one repair approach or describe what you did.")
            )
        now = timezone.now()
        self.acknowledged_by = user
        self.acknowledged_at = now
        self.repair_approaches = chosen
        self.repair_note = note.strip()[:4000]
        self.save(
            update_fields=["acknowledged_by", "acknowledged_at", "repair_approaches", "repair_note"]
        )
        alert = self.unrepaired_alert if self.status == self.Status.UNREPAIRED else self.alert
        if alert is not None and alert.needs_attention:
            labels = dict(RepairApproach.choices)
            words = "; ".join(labels[a] for a in chosen) or "Repair recorded"
            alert.acknowledge(user, words + (f". {note.strip()}" if note.strip() else ""))


class SafetyNotice(ClinicRecord):
    """One immediate notice of a safety alert or a client's concern to one recipient on one
    channel, with its delivery status.

    Unique per source (the alert, or the concern), channel and address, so a repeated signal or
    a task that runs twice never sends a second copy. The notice carries no clinical content:
    the recipient signs in to read the alert (docs/monitoring.md, "Immediate safety notice").
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        RETRYING = "retrying", "Failed, will try again"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, gave up"

    class Source(models.TextChoices):
        SAFETY = "safety", "Safety alert (PHQ-9 item 9)"
        CONCERN = "concern", "Concern raised by the client"

    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    source_id = models.UUIDField(help_text="The alert (safety) or the concern that caused it.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=254, help_text="Email address or phone number.")
    role = models.CharField(max_length=20, help_text='"therapist" or "on-call".')
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, help_text="Never client content.")
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id", "channel", "address"],
                name="one_notice_per_source_and_recipient",
            )
        ]
        indexes = [models.Index(fields=["clinic", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_source_display()} → {self.role} by {self.get_channel_display()} ({self.get_status_display()})"
