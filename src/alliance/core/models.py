"""Shared models: the append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# The roles an audit entry names, as a client reads them on their access page (translated
# when shown; these marks put them in the catalogue).
ROLE_WORDS = (
    gettext_noop("therapist"),
    gettext_noop("supervisor"),
    gettext_noop("admin"),
    gettext_noop("clinic admin"),
    gettext_noop("client"),
    gettext_noop("client (by link)"),
    gettext_noop("system"),
)


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    EXPORT = "export", _("exported")
    BREAK_GLASS = "break_glass", _("opened emergency access to")
    ACKNOWLEDGE = "acknowledge", _("acknowledged")
    SEND = "send", _("sent")
    # Access-control failures (ASVS V7, HIPAA 164.312(b)): shown in the clinic's security
    # log, never on the client's own access list.
    DENIED = "denied", _("was refused access to")


class AppendOnlyError(Exception):
    """Audit entries are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def delete(self):
        raise AppendOnlyError("Audit entries cannot be deleted.")


class AuditEvent(models.Model):
    """One view or change of client data: who, in what role, which client, what kind of
    record, what action, when and from where. Never clinical text.

    Entries of a clinic form a hash chain (``hash = sha256(prev_hash + content)``), so an
    edited or deleted row is found by ``alliance audit_verify``. HIPAA 45 CFR 164.312(b).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    client = models.ForeignKey(
        "clients.ClientRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record_type = models.CharField(max_length=50)
    action = models.CharField(max_length=20, choices=AuditAction)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    note = models.CharField(
        max_length=200, blank=True, help_text="Structured, non-clinical detail only."
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "seq"], name="audit_seq_unique_per_clinic")
        ]
        indexes = [models.Index(fields=["clinic", "client", "-at"])]

    GENESIS = "0" * 64

    def content(self) -> str:
        return json.dumps(
            {
                "id": str(self.id),
                "clinic": str(self.clinic_id),
                "seq": self.seq,
                "at": self.at.isoformat(),
                "actor": str(self.actor_id) if self.actor_id else None,
                "actor_name": self.actor_name,
                "actor_role": self.actor_role,
                "client": str(self.client_id) if self.client_id else None,
                "record_type": self.record_type,
                "action": self.action,
                "ip": self.ip_address,
                "note": self.note,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.content()).encode("utf-8")).hexdigest()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_name} {self.action} {self.record_type}"

    @property
    def plain_words(self) -> str:
        """The entry as a client reads it: 'Dr. Ann Lee (therapist) viewed your PHQ-9 answers'."""
        # Circular at import time: core.audit imports this module's models.
        from alliance.core.audit import describe_record  # noqa: PLC0415

        who = self.actor_name or gettext("The system")
        role = f" ({gettext(self.actor_role.replace('_', ' '))})" if self.actor_role else ""
        verb = AuditAction(self.action).label if self.action in AuditAction.values else self.action
        return f"{who}{role} {verb} {describe_record(self.record_type)}"


class ClinicRecord(models.Model):
    """The header every clinic-owned record shares: a UUID key (never an integer id in a URL)
    and the clinic it belongs to (every query of clinic data filters on it).

    Abstract, so each model keeps its own table; the fields are exactly those the models
    declared before, so using it changes no column."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class SingleUseLink(models.Model):
    """Base for expiring, single-use links sent to clients (questionnaires, check-ins).

    Only a SHA-256 hash of the token is stored, so a database reader cannot use a link.
    Subclasses add what the link opens and decide when it is used up (``used_at``).
    """

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    @classmethod
    def new_token(cls) -> tuple[str, str]:
        """A fresh token and the hash to store."""

        token = secrets.token_urlsafe(32)
        return token, cls.hash_token(token)

    @classmethod
    def matching(cls, token: str) -> models.QuerySet:
        """The (at most one) link with this token; nothing for an empty or oversized token."""
        if not token or len(token) > 100:
            return cls.objects.none()  # type: ignore[attr-defined]
        return cls.objects.filter(token_hash=cls.hash_token(token))  # type: ignore[attr-defined]

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class WorkerHeartbeat(models.Model):
    """A background process's sign of life: each worker and scheduler updates its row every few
    seconds. `/ready/` reads them, and a worker puts back to the queue any task whose worker
    stopped beating for longer than the lease (``TASK_LEASE_SECONDS``).

    Infrastructure, not clinical data: no clinic, no client.
    """

    class Kind(models.TextChoices):
        WORKER = "worker", "Task worker"
        SCHEDULER = "scheduler", "Scheduler"

    worker_id = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.worker_id} on {self.host} (pid {self.pid})"


class IdempotencyKey(models.Model):
    """One row per side effect a background task has already performed (an email sent).

    A task writes its key in the same transaction as its own state, before it sends: a re-run
    after a crash or an expired lease finds the key and sends nothing (at most once). The key
    names a purpose and object ids only, never client text.
    """

    key = models.CharField(max_length=200, primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key

    @classmethod
    def claim(cls, key: str) -> bool:
        """Record ``key``; True for the first caller only, also across concurrent workers.

        Call it inside the transaction that records the task's own state, and send only after
        that transaction commits.
        """
        return cls.objects.get_or_create(key=key)[1]


def clinic_model() -> type[models.Model]:
    """The clinic model, reached through the foreign key core already declares.

    ``core`` sits below ``accounts`` (which defines ``Clinic``), so it does not import it; the
    audit trail only locks and counts clinic rows.
    """
    return AuditEvent._meta.get_field("clinic").related_model  # type: ignore[return-value]
