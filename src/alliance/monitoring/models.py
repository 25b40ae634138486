"""Alerts for the care team: safety, not on track, ruptures, disengagement, disagreement.

One model for every kind so the care team has one list ordered by severity. At most one open
alert per client and kind: new evidence attaches to the open alert instead of adding noise.
The software never rates or clears risk: an alert is closed by a clinician who records what
was done, never by a later score.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
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


class AlertQuerySet(models.QuerySet["Alert"]):
    def visible_to(self, user: User) -> AlertQuerySet:
        """Alerts about clients whose record this user may read (the care team)."""
        from alliance.clients.models import ClientRecord

        return self.filter(client__in=ClientRecord.objects.visible_to(user))

    def needing_attention(self) -> AlertQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

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
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
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
    escalated_at = models.DateTimeField(null=True, blank=True)

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
        indexes = [models.Index(fields=["clinic", "status", "severity"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def needs_attention(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def raise_for(
        cls, client: ClientRecord, kind: str, reason: str, evidence: dict[str, Any]
    ) -> tuple[Alert, bool]:
        """Open an alert for ``client`` or attach ``evidence`` to the open one.

        Returns (alert, created). A concurrent second writer hits the unique constraint and
        attaches instead.
        """
        with transaction.atomic():
            return cls._raise_for(client, kind, reason, evidence)

    @classmethod
    def _raise_for(
        cls, client: ClientRecord, kind: str, reason: str, evidence: dict[str, Any]
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
                existing.save(update_fields=["evidence", "reason", "updated_at"])
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
            update_fields=["status", "acknowledged_by", "acknowledged_at", "action_taken", "updated_at"]
        )
