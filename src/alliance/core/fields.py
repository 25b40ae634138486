"""A reusable encrypted text field for free-text clinical content."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from alliance.core import crypto


class EncryptedTextField(models.TextField):
    """Text encrypted at rest. Not searchable or orderable in the database, by design.

    The database only ever sees ``fernet:<token>``; Python code sees the plain string.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Only null checks make sense on ciphertext; anything else would silently match nothing.
        if lookup_name not in {"isnull", "exact"}:
            return None
        return super().get_lookup(lookup_name)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted fields, with those fields' names."""

    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found
