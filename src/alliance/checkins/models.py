"""Between-session check-ins, their reminders and links, and the client's concern channel.

Regular contact between sessions keeps trust alive and catches trouble early. The
scheduling rules live in ``alliance.checkins.schedule``; this module holds the records.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord, SingleUseLink


class CheckInPlan(ClinicRecord):
    """Per-client reminder rules: quiet hours, how many reminders, when to tell the therapist."""

    client = models.OneToOneField(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="check_in_plan"
    )
    quiet_start = models.TimeField(
        default=time(21, 0), help_text="No reminders from this local time..."
    )
    quiet_end = models.TimeField(default=time(8, 0), help_text="...until this local time.")
    max_reminders = models.PositiveSmallIntegerField(default=3)
    reminder_gap_hours = models.PositiveSmallIntegerField(default=24)
    window_hours = models.PositiveSmallIntegerField(
        default=72, help_text="A check-in not done this long after it was due is missed."
    )
    notify_after_misses = models.PositiveSmallIntegerField(default=2)

    @classmethod
    def for_client(cls, client: object) -> CheckInPlan:
        """The client's reminder plan, or the defaults, unsaved: reading it must not write (a page
        view would otherwise insert the row); the plan form saves it."""
        found = cls.objects.filter(client=client).first()
        if found is not None:
            return found
        return CheckInPlan(client=client, clinic=client.clinic)  # type: ignore[attr-defined, misc]


class CheckInSchedule(ClinicRecord):
    """What to ask and how often: mood + free text, or an instrument id owned by measures."""

    class Kind(models.TextChoices):
        MOOD = "mood", "Mood (0-10) and anything you want your therapist to know"
        INSTRUMENT = "instrument", "Questionnaire"

    class Cadence(models.TextChoices):
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every 2 weeks"
        MONTHLY = "monthly", "Every 4 weeks"
        AFTER_SESSION = "after_session", "After each session"

    CADENCE_DAYS = {"daily": 1, "weekly": 7, "fortnightly": 14, "monthly": 28}

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="check_in_schedules"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MOOD)
    instrument = models.CharField(
        max_length=40, blank=True, help_text='Instrument id, e.g. "phq9".'
    )
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.WEEKLY)
    start_date = models.DateField(help_text="The first due day, in the client's time zone.")
    due_time = models.TimeField(default=time(18, 0), help_text="Local time of day it falls due.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        what = (
            self.instrument.upper()
            if self.kind == self.Kind.INSTRUMENT
            else gettext("Mood check-in")
        )
        return f"{what}, {self.get_cadence_display().lower()}"


class CheckIn(ClinicRecord):
    """One due check-in. Unique per schedule and due time, so re-running the scheduler is safe."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        COMPLETED = "completed", "Done"
        MISSED = "missed", "Missed"

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="check_ins"
    )
    schedule = models.ForeignKey(
        CheckInSchedule, on_delete=models.CASCADE, related_name="check_ins"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)
    therapist_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "due_at"], name="check_in_once_per_due_time"
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            # The cycle and the clinic's reports read one clinic's due (or missed) check-ins.
            models.Index(fields=["clinic", "status", "due_at"], name="checkin_clinic_status_due"),
        ]

    @property
    def is_instrument(self) -> bool:
        return self.schedule.kind == CheckInSchedule.Kind.INSTRUMENT


class CheckInResponse(ClinicRecord):
    """The client's answer. One per check-in (database constraint) and per idempotency key,
    so a double press, a retry or two open tabs store one answer."""

    check_in = models.OneToOneField(CheckIn, on_delete=models.CASCADE, related_name="response")
    mood = models.PositiveSmallIntegerField(null=True, blank=True)
    note = EncryptedTextField(blank=True, help_text="Anything you want your therapist to know?")
    idempotency_key = models.UUIDField(unique=True)
    via = models.CharField(max_length=10, default="home")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mood__isnull=True) | models.Q(mood__gte=0, mood__lte=10),
                name="mood_0_to_10",
            )
        ]


def hash_token(token: str) -> str:
    return SingleUseLink.hash_token(token)


class CheckInLink(SingleUseLink):
    """An emailed single-use link to one check-in. Only the token's hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="links")

    LIFETIME = timedelta(hours=48)

    @classmethod
    def issue(cls, check_in: CheckIn, now: datetime) -> tuple[CheckInLink, str]:
        token, token_hash = cls.new_token()
        link = cls.objects.create(
            clinic_id=check_in.clinic_id,
            check_in=check_in,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + cls.LIFETIME,
        )
        return link, token

    @classmethod
    def find(cls, token: str) -> CheckInLink | None:
        return cls.matching(token).select_related("check_in__client", "check_in__schedule").first()


class Concern(ClinicRecord):
    """A concern about therapy raised by the client; the therapist must acknowledge it.

    A concern is a rupture signal: ``on_concern_raised`` hands it to the monitoring
    app, which opens or joins the client's rupture episode (``rupture_episode``) and its alert.
    """

    class Topic(models.TextChoices):
        NOT_WORKING = "not_working", _("Something about our sessions isn't working")
        NOT_HEARD = "not_heard", _("I don't feel heard or understood")
        GOALS = "goals", _("We're not working on what matters to me")
        TASKS = "tasks", _("The tasks between sessions don't suit me")
        OTHER = "other", _("Something else")

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="concerns"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    topic = models.CharField(max_length=20, choices=Topic.choices)
    detail = EncryptedTextField(blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rupture_episode = models.ForeignKey(
        "monitoring.RuptureEpisode",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="concerns",
    )
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["client", "acknowledged_at"])]
