"""Measures in the database: clinic settings, episodes of care, assignments, administrations,
single-use links, responses and outcome classifications.

Scoring, outcome rules and FHIR live in the Django-free modules next to this one
(``scoring``, ``outcomes``, ``fhir``); these models store what they compute, with the
settings used.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from alliance.core.fields import EncryptedTextField
from alliance.core.languages import DEFAULT_LANGUAGE, base_code, language_name
from alliance.core.models import ClinicRecord, SingleUseLink
from alliance.measures import registry
from alliance.measures.outcomes import OutcomeSettings

if TYPE_CHECKING:
    from alliance.accounts.models import Clinic
    from alliance.measures.registry import Instrument

# Instruments a clinician can assign for the client to answer on a form.
ASSIGNABLE = ("phq9", "gad7", "sac_client", "wai_sr", "srs", "sai")
# Instruments with a severity chart and outcome classification.
OUTCOME_INSTRUMENTS = ("phq9", "gad7")


def instrument_choices(ids: tuple[str, ...] = ASSIGNABLE) -> list[tuple[str, str]]:
    out = []
    for iid in ids:
        inst = registry.load(iid)
        label = f"{inst.short_name} — {inst.name}"
        if not inst.validated:
            label += " (not a validated instrument)"
        out.append((iid, label))
    return out


class MeasureSettings(models.Model):
    """Clinic-level settings for measures and outcomes (the safety alert's escalation time is
    ``MonitoringSettings.escalation_hours``).

    Every outcome result stores the settings it was computed with (``OutcomeResult.settings``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.OneToOneField(
        "accounts.Clinic", on_delete=models.CASCADE, related_name="measure_settings"
    )
    reliable_change_phq9 = models.FloatField(default=6, help_text="Jacobson & Truax 1991.")
    reliable_change_gad7 = models.FloatField(default=4, help_text="Jacobson & Truax 1991.")
    response_fraction = models.FloatField(
        default=0.5, help_text="Response: at least this reduction."
    )
    remission_below_phq9 = models.FloatField(default=5, help_text="Kroenke et al. 2001.")
    no_improvement_by_session = models.PositiveSmallIntegerField(
        default=6,
        help_text="Not on track without reliable improvement by this session (design choice).",
    )
    use_schueller_checkpoints = models.BooleanField(
        default=True,
        help_text="PHQ-9 ≥ 17 at week 4, ≥ 13 at week 9, ≥ 9 at week 14 (Schueller et al. 2015).",
    )
    link_valid_hours = models.PositiveSmallIntegerField(
        default=72, help_text="How long a single-use questionnaire link stays valid."
    )

    @classmethod
    def for_clinic(cls, clinic: Clinic) -> MeasureSettings:
        """The clinic's settings, or the defaults, unsaved: reading them must not write (a page
        view would otherwise insert the row); the settings page saves it."""
        return cls.objects.filter(clinic=clinic).first() or cls(clinic=clinic)

    def outcome_settings(self, instrument_id: str) -> OutcomeSettings:
        if instrument_id == "phq9":
            return OutcomeSettings(
                instrument="phq9",
                reliable_change=self.reliable_change_phq9,
                response_fraction=self.response_fraction,
                remission_below=self.remission_below_phq9,
                no_improvement_by_session=self.no_improvement_by_session or None,
                schueller_checkpoints=None if self.use_schueller_checkpoints else (),
            )
        return OutcomeSettings(
            instrument=instrument_id,
            reliable_change=self.reliable_change_gad7 if instrument_id == "gad7" else None,
            response_fraction=self.response_fraction,
            no_improvement_by_session=self.no_improvement_by_session or None,
        )


class ClinicInstrumentTexts(models.Model):
    """Item texts a licensed clinic imported for an instrument we may not ship (WAI-SR, SRS, SAI)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    instrument_id = models.CharField(max_length=30)
    definition = models.JSONField(help_text="Instrument.to_dict() with the imported texts.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "instrument_id"], name="one_text_set_per_instrument"
            )
        ]


def instrument_for_clinic(clinic: Clinic, instrument_id: str) -> Instrument:
    """The shipped instrument, with the clinic's licensed item texts where it imported them."""
    inst = registry.load(instrument_id)
    if inst.has_item_texts:
        return inst
    row = ClinicInstrumentTexts.objects.filter(clinic=clinic, instrument_id=instrument_id).first()
    if row is None:
        return inst
    texts = {i["id"]: i.get("text") for i in row.definition.get("items", []) if i.get("text")}
    return registry.import_item_texts(instrument_id, json.dumps(texts))


class EpisodeOfCare(ClinicRecord):
    """One course of treatment; outcomes are classified from the first score of the episode."""

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="episodes"
    )
    started = models.DateField()
    ended = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started"]

    def __str__(self) -> str:
        end = self.ended.isoformat() if self.ended else "ongoing"
        return f"Episode {self.started.isoformat()} – {end}"

    def contains(self, day: dt.date) -> bool:
        return self.started <= day and (self.ended is None or day <= self.ended)

    @classmethod
    def for_day(cls, client: Any, day: dt.date) -> EpisodeOfCare:
        """The client's episode covering ``day``; an ongoing one is started when there is none."""
        for episode in cls.objects.filter(client=client, started__lte=day).order_by("-started"):
            if episode.contains(day):
                return episode
        return cls.objects.create(clinic=client.clinic, client=client, started=day)


class Assignment(ClinicRecord):
    """A clinician asked the client to answer an instrument, once or every N days."""

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="measure_assignments"
    )
    instrument_id = models.CharField(max_length=30)
    every_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: once.")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)
    next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def instrument(self) -> Instrument:
        return registry.load(self.instrument_id)

    def create_due_administration(self, now: dt.datetime | None = None) -> Administration | None:
        """The next administration when one is due (recurring schedules), else None."""
        now = now or timezone.now()
        if not self.active or self.next_due_at is None or self.next_due_at > now:
            return None
        if self.administrations.filter(status__in=Administration.OPEN).exists():
            return None
        adm = Administration.objects.create(
            clinic=self.clinic,
            client=self.client,
            assignment=self,
            instrument_id=self.instrument_id,
            due_at=self.next_due_at,
        )
        if self.every_days:
            self.next_due_at = self.next_due_at + dt.timedelta(days=self.every_days)
        else:
            self.next_due_at = None
            self.active = False
        self.save(update_fields=["next_due_at", "active"])
        return adm


class Administration(ClinicRecord):
    """One time the client is asked to answer one instrument.

    ``idempotency_key`` travels with the form; the response has a one-to-one link to its
    administration, so double submits and reloads cannot create a second response.
    """

    OPEN = ("pending", "in_progress")

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the client"
        IN_PROGRESS = "in_progress", "Started"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="administrations"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="administrations"
    )
    instrument_id = models.CharField(max_length=30)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    partial_answers = models.JSONField(
        default=dict, blank=True, help_text="Saved while the client answers."
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["due_at"]

    @property
    def instrument(self) -> Instrument:
        return instrument_for_clinic(self.clinic, self.instrument_id)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class AccessLink(SingleUseLink):
    """An expiring, single-use link to one administration. Only the token's hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    @classmethod
    def issue(cls, administration: Administration, by: Any, hours: int) -> tuple[AccessLink, str]:
        token, token_hash = cls.new_token()
        link = cls.objects.create(
            clinic=administration.clinic,
            administration=administration,
            token_hash=token_hash,
            created_by=by,
            expires_at=timezone.now() + dt.timedelta(hours=hours),
        )
        return link, token

    @classmethod
    def lookup(cls, token: str) -> AccessLink | None:
        return cls.matching(token).select_related("administration", "clinic").first()


# The severity bands' words (instruments/*.json "bands") as a client reads them. They are the
# scoring manuals' band names, not item texts of a licensed instrument, so they are translated
# like the rest of the interface; the stored value stays the English key.
SEVERITY_WORDS = {
    "minimal": pgettext_lazy("severity band", "minimal"),
    "mild": pgettext_lazy("severity band", "mild"),
    "moderate": pgettext_lazy("severity band", "moderate"),
    "moderately severe": pgettext_lazy("severity band", "moderately severe"),
    "severe": pgettext_lazy("severity band", "severe"),
}


class Response(ClinicRecord):
    """A scored response: answered on a form, entered from paper (total only) or imported."""

    class Source(models.TextChoices):
        FORM = "form", "Client area"
        LINK = "link", "Single-use link"
        PAPER = "paper", "Entered from paper (total only)"
        FHIR = "fhir", "Imported (FHIR)"

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="measure_responses"
    )
    administration = models.OneToOneField(
        Administration, null=True, blank=True, on_delete=models.PROTECT, related_name="response"
    )
    episode = models.ForeignKey(
        EpisodeOfCare, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    instrument_id = models.CharField(max_length=30)
    source = models.CharField(max_length=10, choices=Source.choices)
    answers = models.JSONField(default=dict, blank=True)
    total = models.FloatField(null=True, blank=True)
    severity = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, help_text="ScoreResult.to_dict()")
    # None when no item 9 answer exists (left empty, a total from paper, another instrument):
    # an empty item 9 is never read as "no", it is asked about in person.
    item9_positive = models.BooleanField(null=True, blank=True, default=None)
    do_differently = EncryptedTextField(blank=True)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # BCP-47 code of the language the questionnaire was shown in (English when a form fell back
    # to the original), the paper form's language, or an imported QuestionnaireResponse.language.
    language = models.CharField(max_length=35, default="en")
    completed_at = models.DateTimeField(default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["completed_at"]
        indexes = [models.Index(fields=["client", "instrument_id", "completed_at"])]

    @property
    def severity_words(self) -> str:
        """The severity band in the reader's language ("moderada"); the stored key otherwise."""
        return str(SEVERITY_WORDS.get(self.severity, self.severity))

    @property
    def instrument(self) -> Instrument:
        return registry.load(self.instrument_id)

    @property
    def language_name(self) -> str:
        """'Spanish' for 'es'; staff pages say "answered in Spanish" when it is not English."""

        return language_name(self.language)

    @property
    def answered_in_other_language(self) -> bool:
        return base_code(self.language) != DEFAULT_LANGUAGE

    @property
    def total_display(self) -> str:
        if self.total is None:
            return "no total"
        return f"{self.total:g}"


class OutcomeResult(ClinicRecord):
    """The outcome classification of one instrument over one episode, with its settings."""

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.PROTECT, related_name="outcomes"
    )
    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.CASCADE, related_name="outcomes")
    instrument_id = models.CharField(max_length=30)
    computed_at = models.DateTimeField(default=timezone.now)
    n_scores = models.PositiveSmallIntegerField(default=0)
    statuses = models.JSONField(default=list)
    reason = models.CharField(max_length=500, blank=True)
    not_on_track = models.BooleanField(default=False)
    not_on_track_reasons = models.JSONField(default=list)
    next_step = models.CharField(max_length=300, blank=True)
    settings = models.JSONField(default=dict, help_text="The thresholds used for this result.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "instrument_id"], name="one_outcome_per_episode_instrument"
            )
        ]
