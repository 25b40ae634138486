"""Alerts for the care team: safety, not on track, ruptures, disengagement, disagreement.

One model for every kind so the care team has one list ordered by severity. At most one open
alert per client and kind: new evidence attaches to the open alert instead of adding noise.
The software never rates or clears risk: an alert is closed by a clinician who records what
was done, never by a later score.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import IntegrityError, models, transaction
from django.db.models.query import ModelIterable
from django.utils import timezone

from alliance.core.fields import EncryptedTextField

if TYPE_CHECKING:
    from alliance.accounts.models import User
    from alliance.clients.models import ClientRecord


class AlertKind(models.TextChoices):
    SAFETY = "safety", "Safety: PHQ-9 item 9 answered above 0"
    NOT_ON_TRACK = "not_on_track", "Not on track"
    RUPTURE = "rupture", "Possible alliance rupture"
    UNREPAIRED_RUPTURE = "unrepaired_rupture", "Unrepaired rupture"
    DISENGAGEMENT = "disengagement", "Disengagement"
    DISAGREEMENT = "disagreement", "Client and therapist disagree"


# Lower sorts first: the care team's list always starts with safety alerts.
SEVERITY = {
    AlertKind.SAFETY: 0,
    AlertKind.NOT_ON_TRACK: 20,
    AlertKind.UNREPAIRED_RUPTURE: 30,
    AlertKind.RUPTURE: 40,
    AlertKind.DISAGREEMENT: 50,
    AlertKind.DISENGAGEMENT: 60,
}

# Statuses in which an alert still asks for attention (and is the one a new signal attaches to).
OPEN_STATUSES = ("open", "snoozed")


class _SnoozeOverReadsOpen(ModelIterable):
    """Yields alerts with a snooze whose time has passed read as open.

    Reading a list must not write: the stored status is set back to open by the periodic
    monitoring pass (``Alert.wake_expired``), and until then every list that shows alerts needing
    attention reads such an alert as open, here, at the moment it is fetched.
    """

    def __iter__(self) -> Iterator[Any]:
        now = timezone.now()
        for alert in super().__iter__():
            if alert.snooze_is_over(now):
                alert.status = Alert.Status.OPEN
            yield alert


class AlertQuerySet(models.QuerySet["Alert"]):
    def visible_to(self, user: User) -> AlertQuerySet:
        """Alerts about clients whose record this user may read (the care team)."""
        from alliance.clients.models import ClientRecord

        return self.filter(client__in=ClientRecord.objects.visible_to(user))

    def needing_attention(self) -> AlertQuerySet:
        """Open and snoozed alerts; a snooze whose time has passed reads as open."""
        return self.filter(status__in=OPEN_STATUSES).snoozes_over_read_open()

    def snoozes_over_read_open(self) -> AlertQuerySet:
        qs = self.all()
        qs._iterable_class = _SnoozeOverReadsOpen
        return qs

    def by_urgency(self) -> AlertQuerySet:
        return self.order_by("severity", "created_at")


class Alert(models.Model):
    """Something the care team should look at, with the reason in words and the evidence."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SNOOZED = "snoozed", "Snoozed"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=30, choices=AlertKind)
    severity = models.PositiveSmallIntegerField(default=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(max_length=300, help_text="Why, in words; no client free text.")
    evidence = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = EncryptedTextField(blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=300, blank=True)
    snoozed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.CharField(
        max_length=20, blank=True, help_text='"supervisor" or "therapist" (unrepaired ruptures).'
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)
    rules = models.JSONField(
        default=list, blank=True, help_text="Detection rules that raised or fed this alert."
    )
    useful = models.BooleanField(null=True, blank=True, help_text='"Was this useful?" (clinician).')
    useful_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    useful_marked_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["severity", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="one_open_alert_per_client_and_kind",
            )
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "severity"]),
            # Waking snoozed alerts reads only the few snoozed rows, never the whole table.
            models.Index(
                fields=["snoozed_until"],
                condition=models.Q(status="snoozed"),
                name="alert_snoozed_until",
            ),
            # The overdue-escalation check: open safety alerts not escalated yet.
            models.Index(
                fields=["created_at"],
                condition=models.Q(
                    kind="safety", escalated_at__isnull=True, status__in=OPEN_STATUSES
                ),
                name="alert_safety_unescalated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def needs_attention(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def raise_for(
        cls,
        client: ClientRecord,
        kind: str,
        reason: str,
        evidence: dict[str, Any],
        rules: list[str] | None = None,
    ) -> tuple[Alert, bool]:
        """Open an alert for ``client`` or attach ``evidence`` to the open one.

        ``rules`` names the detection rules behind the signal (for the usefulness report);
        without it the kind is the rule. Returns (alert, created). A concurrent second writer
        hits the unique constraint and attaches instead.
        """
        with transaction.atomic():
            return cls._raise_for(client, kind, reason, evidence, rules or [kind])

    @classmethod
    def _raise_for(
        cls,
        client: ClientRecord,
        kind: str,
        reason: str,
        evidence: dict[str, Any],
        rules: list[str],
    ) -> tuple[Alert, bool]:
        now = timezone.now()
        entry = {"at": now.isoformat(), **evidence}
        for _attempt in range(2):
            existing = (
                cls.objects.select_for_update()
                .filter(client=client, kind=kind, status__in=OPEN_STATUSES)
                .first()
            )
            if existing is not None:
                existing.evidence = [*existing.evidence, entry]
                existing.reason = reason[:300]
                existing.updated_at = now
                existing.rules = [*existing.rules, *(r for r in rules if r not in existing.rules)]
                existing.save(update_fields=["evidence", "reason", "updated_at", "rules"])
                return existing, False
            try:
                with transaction.atomic():
                    alert = cls.objects.create(
                        clinic=client.clinic,
                        client=client,
                        kind=kind,
                        severity=SEVERITY.get(kind, 100),  # type: ignore[call-overload]
                        reason=reason[:300],
                        evidence=[entry],
                        rules=list(dict.fromkeys(rules)),
                        created_at=now,
                        updated_at=now,
                    )
                return alert, True
            except IntegrityError:
                continue
        raise RuntimeError("could not open or attach to an alert")

    def acknowledge(self, user: User, action_taken: str) -> None:
        """A clinician saw the alert and recorded what was done; it leaves the top of the list."""
        if not action_taken.strip():
            raise ValueError("Record what was done before acknowledging.")
        self.status = self.Status.ACKNOWLEDGED
        self.acknowledged_by = user
        self.acknowledged_at = timezone.now()
        self.action_taken = action_taken.strip()
        self.updated_at = self.acknowledged_at
        self.save(
            update_fields=[
                "status",
                "acknowledged_by",
                "acknowledged_at",
                "action_taken",
                "updated_at",
            ]
        )

    def snooze(self, user: User, until: dt.datetime, reason: str) -> None:
        """Hide the alert from the top of the lists until ``until``; a reason is required.

        Safety alerts cannot be snoozed: they stay until someone records what was done.
        """
        if self.kind == AlertKind.SAFETY:
            raise ValueError("Safety alerts cannot be snoozed.")
        if not reason.strip():
            raise ValueError("Say why you are snoozing this alert.")
        if until <= timezone.now():
            raise ValueError("Choose a time in the future.")
        if not self.needs_attention:
            raise ValueError("Only an open alert can be snoozed.")
        self.status = self.Status.SNOOZED
        self.snoozed_until = until
        self.snooze_reason = reason.strip()[:300]
        self.snoozed_by = user
        self.updated_at = timezone.now()
        self.save(
            update_fields=["status", "snoozed_until", "snooze_reason", "snoozed_by", "updated_at"]
        )

    def snooze_is_over(self, now: dt.datetime | None = None) -> bool:
        """Snoozed, and the time it was snoozed until has come."""
        return (
            self.status == self.Status.SNOOZED
            and self.snoozed_until is not None
            and self.snoozed_until <= (now or timezone.now())
        )

    @classmethod
    def wake_expired(cls, now: dt.datetime | None = None) -> int:
        """Snoozed alerts whose time has come are open again (one UPDATE).

        Run by the periodic monitoring pass only; pages read such alerts as open without
        writing (``AlertQuerySet.needing_attention``).
        """
        now = now or timezone.now()
        return cls.objects.filter(status=cls.Status.SNOOZED, snoozed_until__lte=now).update(
            status=cls.Status.OPEN, updated_at=now
        )

    def close(self, reason: str) -> None:
        """Closed by the system because the signal went away (a repaired rupture), never for safety."""
        if self.kind == AlertKind.SAFETY:
            raise ValueError("The software never closes a safety alert.")
        now = timezone.now()
        self.status = self.Status.CLOSED
        self.closed_at = now
        self.close_reason = reason[:300]
        self.updated_at = now
        self.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])

    def mark_useful(self, user: User, useful: bool) -> None:
        self.useful = useful
        self.useful_marked_by = user
        self.useful_marked_at = timezone.now()
        self.save(update_fields=["useful", "useful_marked_by", "useful_marked_at"])

    @property
    def rule_labels(self) -> list[str]:
        return [RULE_LABELS.get(r, r) for r in self.rules]


# Words for every rule an alert can come from (alerts list, usefulness report).
RULE_LABELS: dict[str, str] = {
    "safety": "PHQ-9 item 9 above 0",
    "not_on_track": "Not on track (outcome rules)",
    "rupture": "Rupture (other signal)",
    "k_sd": "Rupture: below the client's own level (k·SD)",
    "cutoff": "Rupture: below the cut-off",
    "drop": "Rupture: drop from the previous session",
    "reported": "Rupture: the client said something felt off",
    "concern": "Rupture: the client raised a concern",
    "task_not_working": "Rupture: a task isn't working for the client",
    "unrepaired": "Unrepaired rupture",
    "unrepaired_rupture": "Unrepaired rupture",
    "disagreement": "Therapist rated the session clearly higher than the client",
    "goal_ranking": "Client and therapist rank the goals differently",
    "missed_sessions": "Disengagement: missed or cancelled sessions",
    "long_gap": "Disengagement: a long gap since the last session",
    "check_ins_falling": "Disengagement: falling check-in completion",
    "low_early_alliance": "Disengagement: low alliance in the first sessions",
    "disengagement": "Disengagement",
}


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

    def rupture_settings(self) -> Any:
        """The pure detector's settings (0–6 Session Alliance Check scale)."""
        from alliance.monitoring import ruptures

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
        from alliance.clients.models import ClientRecord

        return self.filter(client__in=ClientRecord.objects.visible_to(user))


class RuptureEpisode(models.Model):
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
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
            raise ValueError("Choose at least one repair approach or describe what you did.")
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


class SafetyNotice(models.Model):
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
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
