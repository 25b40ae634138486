"""Audit trail integrity, the client's view of it, encryption at rest and key rotation."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from alliance.clients.models import BreakGlassAccess
from alliance.core import audit, crypto
from alliance.core.models import AppendOnlyError, AuditEvent
from tests.conftest import sign_in


def _entries(personas, n=4):
    for _ in range(n):
        audit.record(
            clinic=personas.clinic,
            actor=personas.therapist,
            action="view",
            record_type="client_record",
            client=personas.client,
        )
    return list(AuditEvent.objects.filter(clinic=personas.clinic).order_by("seq"))


def test_chain_links_each_entry_to_the_previous(personas):
    entries = _entries(personas)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == AuditEvent.GENESIS
    for prev, cur in zip(entries, entries[1:], strict=False):
        assert cur.prev_hash == prev.hash
    assert audit.verify_chain() == []


def test_entries_cannot_be_changed_or_deleted_through_the_orm(personas):
    entry = _entries(personas, 1)[0]
    entry.note = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_verify_command_names_the_first_edited_entry(personas, capsys):
    entries = _entries(personas, 5)
    call_command("audit_verify")
    assert "Audit trail intact" in capsys.readouterr().out
    # Someone with database access edits a row behind the application's back.
    AuditEvent.objects.filter(pk=entries[2].pk).update(actor_name="Somebody Else")
    with pytest.raises(CommandError):
        call_command("audit_verify")
    err = capsys.readouterr().err
    assert str(entries[2].pk) in err and "#3" in err and "edited" in err


def test_verify_detects_a_deleted_entry(personas):
    entries = _entries(personas, 4)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s",
            [entries[1].pk.hex if connection.vendor == "sqlite" else entries[1].pk],
        )
    broken = audit.verify_chain()
    assert len(broken) == 1 and broken[0].seq == 3 and "missing" in broken[0].reason


def test_client_sees_who_accessed_their_record_in_plain_words(client, personas):
    sign_in(client, personas.therapist)
    client.get(reverse("client_detail", args=[personas.client.pk]))
    sign_in(client, personas.client_user)
    html = client.get(reverse("client_access_log")).content.decode()
    assert "Tess Therapist (therapist) viewed your record" in html
    # The other client's page shows nothing of Cleo's.
    sign_in(client, personas.other_client_user)
    assert "Tess Therapist" not in client.get(reverse("client_access_log")).content.decode()


def test_admin_can_search_the_audit_trail(client, personas):
    _entries(personas, 2)
    sign_in(client, personas.admin)
    html = client.get(reverse("audit_search"), {"actor": "tess", "action": "view"}).content.decode()
    assert "Tess Therapist" in html and "Cleo Client" in html
    bad = client.get(reverse("audit_search"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert b"The start date is after the end date" in bad.content


def _raw(table: str, column: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s",
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        return cursor.fetchone()[0]


def test_encrypted_field_stores_ciphertext(personas):
    access = BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="Client in crisis; therapist on leave",
    )
    raw = _raw(BreakGlassAccess._meta.db_table, "reason", access.pk)
    assert raw.startswith("fernet:") and "crisis" not in raw
    assert (
        BreakGlassAccess.objects.get(pk=access.pk).reason == "Client in crisis; therapist on leave"
    )


def test_key_rotation_reencrypts_everything(personas, settings, capsys):
    access = BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="Emergency contact called",
    )
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")
    assert "Re-encrypted" in capsys.readouterr().out
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert BreakGlassAccess.objects.get(pk=access.pk).reason == "Emergency contact called"

    for auth in Authenticator.objects.filter(type="totp"):
        assert crypto.decrypt(auth.data["secret"])  # TOTP secrets were rotated too
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(crypto.DecryptionError):
        BreakGlassAccess.objects.get(pk=access.pk)


def test_rotation_with_a_missing_key_changes_nothing(personas, settings):
    access = BreakGlassAccess.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        user=personas.admin,
        reason="Emergency contact called",
    )
    before = _raw(BreakGlassAccess._meta.db_table, "reason", access.pk)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("rotate_encryption_keys")
    assert _raw(BreakGlassAccess._meta.db_table, "reason", access.pk) == before
