"""Client records, care teams, consents and break-glass emergency access."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import CLINICAL_ROLES, Clinic, Role
from alliance.clients.consent_texts import TEXTS
from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord

if TYPE_CHECKING:
    from alliance.accounts.models import User


class ClientRecordQuerySet(models.QuerySet["ClientRecord"]):
    def on_care_team_of(self, user: User) -> ClientRecordQuerySet:
        """The care-team rule, held here once: the clients a clinician treats.

        A therapist or supervisor (``CLINICAL_ROLES``) sees the clients whose care team lists
        them, in the clinic of their active membership; nobody else is on a care team. Every
        page, panel and API endpoint that asks "is this person on the care team?" comes here
        (through ``visible_to`` and ``alliance.clients.access``).
        """
        membership = user.membership if user.is_authenticated and user.is_active else None
        if membership is None or membership.role not in CLINICAL_ROLES:
            return self.none()
        return self.filter(clinic_id=membership.clinic_id, care_team__therapist=user).distinct()

    def visible_to(self, user: User, *, write: bool = False) -> ClientRecordQuerySet:
        """Records whose clinical content this user may read, or change with ``write`` (deny
        by default).

        - a therapist or supervisor: clients on their care team (``on_care_team_of``);
        - a client: their own record;
        - a clinic admin: only records under an active break-glass access they opened, and
          to read only;
        - anybody else: nothing.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        membership = user.membership
        if membership is None:
            return self.filter(user=user)
        if membership.role in CLINICAL_ROLES:
            return self.on_care_team_of(user)
        if membership.role == Role.ADMIN and not write:
            return self.filter(
                clinic_id=membership.clinic_id,
                break_glass__user=user,
                break_glass__expires_at__gt=timezone.now(),
                break_glass__ended_at__isnull=True,
            ).distinct()
        return self.none()

    def in_clinic_directory(self, user: User) -> ClientRecordQuerySet:
        """Records a clinic admin may manage (names, care team, status; no clinical content)."""
        membership = user.membership if user.is_authenticated else None
        if membership is None or membership.role != Role.ADMIN:
            return self.none()
        return self.filter(clinic_id=membership.clinic_id)


class ClientRecord(models.Model):
    """A person in care. Addressed by an opaque UUID everywhere."""

    class Status(models.TextChoices):
        ACTIVE = "active", "In care"
        DISCHARGED = "discharged", "Discharged"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="clients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="client_record",
        null=True,
        blank=True,
    )
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=100, blank=True)
    pseudonym = models.CharField(
        max_length=40, help_text="Used wherever the client must not be identifiable."
    )
    time_zone = models.CharField(max_length=64, default="America/New_York")
    # The language the client reads their pages, emails, reminders and exports in.
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientRecordQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name.split(" ")[0]

    def save(self, *args, **kwargs) -> None:
        if not self.pseudonym:
            self.pseudonym = f"Client {uuid.uuid4().hex[:6].upper()}"
        super().save(*args, **kwargs)

    def current_consent(self, kind: str) -> Consent | None:
        return (
            self.consents.filter(kind=kind).order_by("-recorded_at").select_related("text").first()
        )

    def has_consent(self, kind: str) -> bool:
        """Later features call this before using data for `kind` (treatment, recording, ...)."""
        consent = self.current_consent(kind)
        return consent is not None and consent.is_active

    def active_break_glass(self) -> models.QuerySet[BreakGlassAccess]:
        return self.break_glass.filter(expires_at__gt=timezone.now(), ended_at__isnull=True)


class CareTeamMember(ClinicRecord):
    """A therapist (or supervisor acting as therapist) treating this client."""

    client = models.ForeignKey(ClientRecord, on_delete=models.CASCADE, related_name="care_team")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams"
    )
    is_primary = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "therapist"], name="care_team_unique")
        ]
        ordering = ["-is_primary", "added_at"]


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    RECORDING = "recording", _("Recording of sessions for analysis")
    SUPERVISION = "supervision", _("Sharing with a supervisor")
    RESEARCH = "research", _("Research use of de-identified data")


class ConsentText(models.Model):
    """A versioned consent text. A consent records exactly which version was agreed to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=ConsentKind)
    version = models.PositiveIntegerField()
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consent_text_version_unique")
        ]
        ordering = ["kind", "-version"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def body_for_reader(self) -> str:
        """The text in the reader's language when it is the one Alliance ships (its catalogue
        holds a faithful translation of that version); a clinic's own text exactly as written."""
        if self.body == TEXTS.get(self.kind):
            return gettext(self.body)
        return self.body

    @classmethod
    def current(cls, kind: str) -> ConsentText:
        text = cls.objects.filter(kind=kind).order_by("-version").first()
        if text is None:
            # Version 1 is published by a data migration; a database emptied since (a test
            # flush, a restore) gets it back rather than losing the ability to record consent.
            if kind not in TEXTS:
                raise cls.DoesNotExist(f"No consent text is published for {kind!r}.")
            text, _ = cls.objects.get_or_create(
                kind=kind, version=1, defaults={"body": TEXTS[kind]}
            )
        return text


class Consent(ClinicRecord):
    """One decision about one kind of consent. History is kept: a change adds a row."""

    client = models.ForeignKey(ClientRecord, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    granted = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["client", "kind", "-recorded_at"])]

    @property
    def is_active(self) -> bool:
        return self.granted and self.withdrawn_at is None


class BreakGlassAccess(ClinicRecord):
    """Emergency access by a clinic admin to one client's clinical content.

    Requires a reason, expires by itself, is audited and shown to the care team and the
    client. HIPAA 45 CFR 164.312(a)(2)(ii), emergency access procedure.
    """

    client = models.ForeignKey(ClientRecord, on_delete=models.PROTECT, related_name="break_glass")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass"
    )
    reason = EncryptedTextField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def save(self, *args, **kwargs) -> None:
        if not self.expires_at:
            self.expires_at = self.started_at + timedelta(minutes=settings.BREAK_GLASS_MINUTES)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.ended_at is None and self.expires_at > timezone.now()


class TherapySessionQuerySet(models.QuerySet["TherapySession"]):
    def upcoming(self, now: dt.datetime | None = None) -> TherapySessionQuerySet:
        """Booked sessions from ``now`` on, soonest first: the one source of "next session"
        for the caseload, the client's home and the check-in settings."""
        return self.filter(status="scheduled", scheduled_at__gte=now or timezone.now()).order_by(
            "scheduled_at"
        )


class TherapySession(ClinicRecord):
    """One scheduled therapy session (not Django's ``sessions``)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ATTENDED = "attended", "Attended"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(
        ClientRecord, on_delete=models.CASCADE, related_name="therapy_sessions"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="therapy_sessions"
    )
    number = models.PositiveIntegerField(help_text="1 for the first session of this client.")
    scheduled_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TherapySessionQuerySet.as_manager()

    class Meta:
        ordering = ["client", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "number"], name="therapy_session_number_unique"
            )
        ]
        # A client's sessions by status and time: disengagement, the caseload, next session.
        indexes = [
            models.Index(
                fields=["client", "status", "scheduled_at"], name="session_client_status_time"
            )
        ]

    def __str__(self) -> str:
        return f"Session {self.number} ({self.scheduled_at:%Y-%m-%d})"

    @classmethod
    def next_number(cls, client: ClientRecord) -> int:
        last = cls.objects.filter(client=client).aggregate(models.Max("number"))["number__max"]
        return (last or 0) + 1

    @classmethod
    def next_for(
        cls, client: ClientRecord, now: dt.datetime | None = None
    ) -> TherapySession | None:
        return cls.objects.filter(client=client).upcoming(now).first()

    @classmethod
    def book_next(cls, client: ClientRecord, when: dt.datetime, therapist: User) -> TherapySession:
        """Book the client's next session at ``when``, or move the one already booked there.

        Sessions stay numbered in date order, so the time must come after every earlier session
        and before a second booked one. Raises ValueError with the reason in words.
        """
        now = timezone.now()
        if when <= now:
            raise ValueError(gettext("Choose a time in the future for the next session."))
        upcoming = list(cls.objects.filter(client=client).upcoming(now)[:2])
        if upcoming:
            session = upcoming[0]
            if len(upcoming) > 1 and when >= upcoming[1].scheduled_at:
                raise ValueError(
                    gettext(
                        "Session %(number)s is already booked before that time: "
                        "move the next session to an earlier time."
                    )
                    % {"number": upcoming[1].number}
                )
            session.scheduled_at = when
            session.save(update_fields=["scheduled_at"])
            return session
        last = cls.objects.filter(client=client).order_by("-number").first()
        if last is not None and when <= last.scheduled_at:
            raise ValueError(
                gettext("Choose a time after session %(number)s.") % {"number": last.number}
            )
        return cls.objects.create(
            clinic=client.clinic,
            client=client,
            therapist=therapist,
            number=(last.number + 1) if last else 1,
            scheduled_at=when,
        )
