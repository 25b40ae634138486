"""Writing and verifying the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop

from alliance.core.access import signed_in_user
from alliance.core.models import AuditAction, AuditEvent, clinic_model

if TYPE_CHECKING:
    from alliance.accounts.models import Clinic, User
    from alliance.clients.models import ClientRecord

# How each kind of record reads in plain words on the client's access page.
RECORD_WORDS: dict[str, str] = {
    "client_record": gettext_noop("your record"),
    "consent": gettext_noop("your consents"),
    "care_team": gettext_noop("your care team"),
    "audit_trail": gettext_noop("the list of who accessed your record"),
    "break_glass": gettext_noop("your record (emergency access)"),
    "export": gettext_noop("a copy of your data"),
    "page": gettext_noop("a page"),
    "security_log": gettext_noop("the clinic's security log"),
}


def register_record_type(name: str, words: str) -> None:
    """Later apps add their record types here ('phq9_response': 'your PHQ-9 answers')."""
    RECORD_WORDS[name] = words


def describe_record(record_type: str) -> str:
    """The record type in plain words, in the active language (the words are marked for
    translation with gettext_noop where they are registered)."""
    words = RECORD_WORDS.get(record_type)
    return gettext(words) if words else record_type.replace("_", " ")


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    clinic: Clinic,
    actor: User | None,
    action: str,
    record_type: str,
    client: ClientRecord | None = None,
    request: HttpRequest | None = None,
    note: str = "",
    actor_role: str | None = None,
) -> AuditEvent:
    """Append one entry to the clinic's hash chain.

    The clinic row is locked for the append so concurrent writers cannot fork the chain
    (PostgreSQL); SQLite serialises writers with BEGIN IMMEDIATE.
    """
    clinic_table = clinic_model()
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    with transaction.atomic():
        clinic_table._default_manager.select_for_update().filter(pk=clinic.pk).values_list(
            "pk"
        ).first()
        last = (
            AuditEvent.objects.filter(clinic=clinic).order_by("-seq").values("seq", "hash").first()
        )
        event = AuditEvent(
            clinic=clinic,
            seq=(last["seq"] + 1) if last else 1,
            actor=actor,
            actor_name=(actor.full_name or actor.email) if actor else "",
            actor_role=actor_role
            if actor_role is not None
            else (actor.role or "")
            if actor
            else "",
            client=client,
            record_type=record_type,
            action=action,
            ip_address=client_ip(request),
            note=note[:200],
            prev_hash=last["hash"] if last else AuditEvent.GENESIS,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def record_system(
    clinic_id: uuid.UUID | str, entries: list[tuple[uuid.UUID | str | None, str, str, str]]
) -> int:
    """Append entries by the system (no actor) to one clinic's hash chain, with one lock, one
    read of the chain's end and one INSERT: for background jobs that act on many records.

    Each entry is (client id or None, action, record type, note). Returns how many were written.
    """
    clinic_table = clinic_model()
    for _, action, _, _ in entries:
        if action not in AuditAction.values:
            raise ValueError(f"unknown audit action {action!r}")
    if not entries:
        return 0
    with transaction.atomic():
        clinic_table._default_manager.select_for_update().filter(pk=clinic_id).values_list(
            "pk"
        ).first()
        last = (
            AuditEvent.objects.filter(clinic_id=clinic_id)
            .order_by("-seq")
            .values("seq", "hash")
            .first()
        )
        seq, prev_hash = (last["seq"], last["hash"]) if last else (0, AuditEvent.GENESIS)
        events = []
        for client_id, action, record_type, note in entries:
            seq += 1
            event = AuditEvent(
                clinic_id=clinic_id,
                seq=seq,
                actor=None,
                actor_name="",
                actor_role="system",
                client_id=client_id,
                record_type=record_type,
                action=action,
                note=note[:200],
                prev_hash=prev_hash,
            )
            event.hash = prev_hash = event.compute_hash()
            events.append(event)
        AuditEvent.objects.bulk_create(events)
    return len(events)


def record_request(
    request: HttpRequest,
    action: str,
    record_type: str,
    client: ClientRecord | None = None,
    note: str = "",
) -> AuditEvent:
    user = signed_in_user(request)
    # Whoever is signed in belongs to a clinic: staff by their membership, a client by their record.
    clinic = client.clinic if client is not None else cast("Clinic", user.clinic)
    return record(
        clinic=clinic,
        actor=user,
        action=action,
        record_type=record_type,
        client=client,
        request=request,
        note=note,
    )


@dataclass
class ChainBreak:
    clinic_id: str
    entry_id: str | None
    seq: int
    reason: str


def verify_chain(
    clinic_id: uuid.UUID | str | None = None, using: str = "default"
) -> list[ChainBreak]:
    """Recompute every clinic's chain; return the first break of each broken chain.

    ``using`` names the database alias: a restore checks a backup before swapping it in.
    """
    events = AuditEvent.objects.using(using)
    clinic_ids = (
        [clinic_id]
        if clinic_id is not None
        else list(events.order_by().values_list("clinic_id", flat=True).distinct())
    )
    breaks: list[ChainBreak] = []
    for cid in clinic_ids:
        prev_hash = AuditEvent.GENESIS
        expected_seq = 1
        for event in events.filter(clinic_id=cid).order_by("seq").iterator():
            reason = None
            if event.seq != expected_seq:
                reason = f"entry #{expected_seq} is missing (deleted?)"
            elif event.prev_hash != prev_hash:
                reason = "its link to the previous entry does not match"
            elif event.compute_hash() != event.hash:
                reason = "its content does not match its hash (edited?)"
            if reason:
                breaks.append(ChainBreak(str(cid), str(event.id), event.seq, reason))
                break
            prev_hash = event.hash
            expected_seq += 1
    return breaks
