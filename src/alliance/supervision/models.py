"""The therapist's private reflection journal, supervision links, shared items and comments.

The journal is treated like psychotherapy notes (HIPAA 45 CFR 164.501): only its author reads it.
It is not part of the client's record export, and supervisors and clinic admins never see it
unless the therapist shares one specific entry. Under break-glass a clinic admin learns only
that entries exist.

Sharing with a supervisor respects the client's supervision consent *at read time*: an item is
shown with the client's identity and free text only while that consent is on file; otherwise (or
the moment it is withdrawn) the supervisor sees a de-identified version (pseudonym, numbers and
tags, no free text). Nothing about consent is stored on the shared item, so a withdrawal cannot
be missed by a stale flag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.accounts.models import Clinic, Role, User
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from alliance.accounts.models import User


class Reaction(models.TextChoices):
    """A short list of countertransference reactions (our own wording, not an instrument)."""

    IRRITATION = "irritation", "Irritation"
    PROTECTIVENESS = "protectiveness", "Protectiveness"
    BOREDOM = "boredom", "Boredom"
    ANXIETY = "anxiety", "Anxiety"
    OVER_INVOLVEMENT = "over_involvement", "Over-involvement"
    HOPELESSNESS = "hopelessness", "Hopelessness"


class PlannedStep(models.TextChoices):
    SUPERVISION = "supervision", "Bring it to supervision"
    CONSULT = "consult", "Consult a colleague"
    ADJUST = "adjust", "Adjust my approach"
    SELF_CARE = "self_care", "Self-care"


# The structured prompts, written by this project (field name, question).
PROMPTS: list[tuple[str, StrPromise]] = [
    ("felt", _("What did I feel toward the client today?")),
    ("echoes", _("What might the client's reactions toward me echo from other relationships?")),
    ("stirred", _("What does this stir in me, and where might it come from?")),
    ("effect", _("How might it be affecting our work?")),
    ("plan", _("What will I do?")),
]


class JournalEntryQuerySet(models.QuerySet["JournalEntry"]):
    def written_by(self, user: User) -> JournalEntryQuerySet:
        """The only way to read entries: the author's own. Nobody else, whatever their role."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(therapist=user)


class JournalEntry(ClinicRecord):
    """One reflection after (or about) a session. Every free-text field and the tags are
    encrypted at rest."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="journal_entries"
    )
    client = models.ForeignKey(
        ClientRecord, on_delete=models.CASCADE, related_name="journal_entries"
    )
    session = models.ForeignKey(
        TherapySession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    felt = EncryptedTextField(blank=True)
    echoes = EncryptedTextField(blank=True)
    stirred = EncryptedTextField(blank=True)
    effect = EncryptedTextField(blank=True)
    plan = EncryptedTextField(blank=True)
    # JSON, encrypted: {"steps": [...], "tags": {"irritation": 7, ...}}
    structured = EncryptedTextField(blank=True)
    written_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-written_at"]
        indexes = [models.Index(fields=["therapist", "client", "-written_at"])]

    def __str__(self) -> str:
        return f"Journal entry {self.written_at:%Y-%m-%d}"

    def _data(self) -> dict[str, Any]:
        return json.loads(self.structured) if self.structured else {}

    @property
    def tags(self) -> dict[str, int]:
        """Reaction -> intensity 0–10."""
        return {k: int(v) for k, v in self._data().get("tags", {}).items()}

    @property
    def steps(self) -> list[str]:
        return list(self._data().get("steps", []))

    def set_structured(self, tags: dict[str, int], steps: list[str]) -> None:
        clean_tags = {k: max(0, min(10, int(v))) for k, v in tags.items() if k in Reaction.values}
        clean_steps = [s for s in steps if s in PlannedStep.values]
        self.structured = json.dumps({"tags": clean_tags, "steps": clean_steps}, sort_keys=True)

    def tag_rows(self) -> list[tuple[str, int]]:
        labels = dict(Reaction.choices)
        return [(labels.get(k, k), v) for k, v in sorted(self.tags.items())]

    def step_labels(self) -> list[str]:
        labels = dict(PlannedStep.choices)
        return [labels[s] for s in self.steps if s in labels]

    def answers(self) -> list[tuple[str, str]]:
        return [
            (str(question), getattr(self, name))
            for name, question in PROMPTS
            if getattr(self, name)
        ]

    @property
    def session_number(self) -> int | None:
        return self.session.number if self.session_id and self.session else None


class SupervisionLinkQuerySet(models.QuerySet["SupervisionLink"]):
    def active(self) -> SupervisionLinkQuerySet:
        return self.filter(ended_at__isnull=True)


class SupervisionLink(ClinicRecord):
    """A supervisor supervises a therapist. Set by the clinic admin."""

    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisee_links"
    )
    supervisee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisor_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = SupervisionLinkQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["supervisor", "supervisee"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_supervision_link",
            )
        ]

    def __str__(self) -> str:
        return f"{self.supervisor} supervises {self.supervisee}"

    @staticmethod
    def supervisors_of(user: User) -> models.QuerySet[Any]:
        return User.objects.filter(
            supervisee_links__supervisee=user,
            supervisee_links__ended_at__isnull=True,
            memberships__is_active=True,
            memberships__role=Role.SUPERVISOR,
        ).distinct()

    @staticmethod
    def supervisees_of(user: User) -> models.QuerySet[Any]:
        return User.objects.filter(
            supervisor_links__supervisor=user, supervisor_links__ended_at__isnull=True
        ).distinct()


class ShareKind(models.TextChoices):
    TRANSCRIPT_FEEDBACK = "transcript_feedback", "A session's transcript feedback"
    SKILL_METRICS = "skill_metrics", "Skill metrics with this client"
    ALLIANCE_TIMELINE = "alliance_timeline", "The alliance timeline"
    RUPTURE_EPISODE = "rupture_episode", "A rupture episode"
    JOURNAL_ENTRY = "journal_entry", "A journal entry"


class SharedItemQuerySet(models.QuerySet["SharedItem"]):
    def visible_to(self, user: User) -> SharedItemQuerySet:
        """Items the user shared, or items shared with them while the supervision link is
        active. Unshared (withdrawn) items are visible to nobody but their author."""
        if not user.is_authenticated or user.membership is None:
            return self.none()
        clinic_id = user.membership.clinic_id
        own = models.Q(therapist=user)
        received = models.Q(
            supervisor=user,
            unshared_at__isnull=True,
            therapist__supervisor_links__supervisor=user,
            therapist__supervisor_links__ended_at__isnull=True,
        )
        if user.membership.role != Role.SUPERVISOR:
            received = models.Q(pk__in=[])
        return self.filter(clinic_id=clinic_id).filter(own | received).distinct()

    def unresolved(self) -> SharedItemQuerySet:
        return self.filter(resolved_at__isnull=True, unshared_at__isnull=True)


class SharedItem(ClinicRecord):
    """Something a therapist chose to bring to their supervisor.

    What it points to is read at display time (``object_id`` / ``params``), and whether it is
    identifiable is decided at display time from the client's current supervision consent.
    """

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shared_items"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="received_items"
    )
    client = models.ForeignKey(ClientRecord, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=ShareKind)
    object_id = models.UUIDField(null=True, blank=True, help_text="Transcript or journal entry.")
    params = models.JSONField(
        default=dict, blank=True, help_text="Numbers only (e.g. a rupture's start session)."
    )
    question = EncryptedTextField(blank=True, help_text="What the therapist wants to talk about.")
    shared_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unshared_at = models.DateTimeField(null=True, blank=True)

    objects = SharedItemQuerySet.as_manager()

    class Meta:
        ordering = ["-shared_at"]
        indexes = [models.Index(fields=["supervisor", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} shared {self.shared_at:%Y-%m-%d}"

    def identifiable(self) -> bool:
        """Decided now, from the client's current supervision consent."""
        return self.client.has_consent("supervision")

    def client_label(self, viewer: User, identifiable: bool | None = None) -> str:
        """``identifiable``: already decided for many items at once (saves a query each)."""
        if identifiable is None:
            identifiable = viewer.pk != self.therapist_id and self.identifiable()
        if viewer.pk == self.therapist_id or identifiable:
            return self.client.full_name
        return self.client.pseudonym

    def comments_for(self, viewer: User) -> list[Comment]:
        """Comments written while the item was identifiable may carry identifying detail:
        the supervisor sees them only while consent is on file. The therapist sees all."""
        qs = self.comments.select_related("author").order_by("written_at")
        if viewer.pk != self.therapist_id and not self.identifiable():
            qs = qs.filter(written_identifiable=False)
        return list(qs)


class Comment(ClinicRecord):
    """A comment in a shared item's thread (threaded through ``parent``)."""

    item = models.ForeignKey(SharedItem, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField()
    written_identifiable = models.BooleanField(
        default=False, help_text="Written while the client's supervision consent was on file."
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["written_at"]


def supervisors_of(
    sender: Any, clinic: Clinic, therapist_ids: Iterable[Any], **kwargs: Any
) -> set[str]:
    """Email addresses of the active supervisors linked to these therapists (the receiver of
    ``monitoring.signals.supervisors_wanted``)."""
    return set(
        SupervisionLink.objects.active()
        .filter(clinic=clinic, supervisee_id__in=list(therapist_ids), supervisor__is_active=True)
        .values_list("supervisor__email", flat=True)
    )
