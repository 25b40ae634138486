"""Alerts for the care team: safety, not on track, ruptures, disengagement, disagreement.

One model for every kind so the care team has one list ordered by severity. At most one open
alert per client and kind: new evidence attaches to the open alert instead of adding noise.
The software never rates or clears risk: an alert is closed by a clinician who records what
was done, never by a later score.

A low app: measures, goals, checkins and transcripts raise alerts here directly; monitoring
(rupture episodes, detection, notices) builds on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.translation import gettext

from alliance.clients.models import ClientRecord
from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord

if TYPE_CHECKING:
    from alliance.accounts.models import User


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


class Alert(ClinicRecord):
    """Something the care team should look at, with the reason in words and the evidence."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SNOOZED = "snoozed", "Snoozed"
        CLOSED = "closed", "Closed"

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
        # The table keeps the name it had when the model lived in monitoring: the move to this
        # app changed only where the code lives (alerts/migrations/0001_initial.py).
        db_table = "monitoring_alert"
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
            raise ValueError(gettext("Record what was done before acknowledging."))
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
            raise ValueError(gettext("Safety alerts cannot be snoozed."))
        if not reason.strip():
            raise ValueError(gettext("Say why you are snoozing this alert."))
        if until <= timezone.now():
            raise ValueError(gettext("Choose a time in the future."))
        if not self.needs_attention:
            raise ValueError(gettext("Only an open alert can be snoozed."))
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
            raise ValueError(gettext("The software never closes a safety alert."))
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
