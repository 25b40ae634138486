"""Every table of the app carries its clinic (the tenant key; docs/architecture.md), so PostgreSQL
can later partition or distribute by clinic. A new model without it fails here."""

from __future__ import annotations

from django.apps import apps

# Tables that are not per clinic, and why.
NOT_PER_CLINIC = {
    "accounts.Clinic": "the tenant itself",
    "accounts.User": "a person's sign-in; their clinic comes from their membership",
    "clients.ConsentText": "versioned consent wording shared by every clinic",
    "core.WorkerHeartbeat": "infrastructure: a background process's last sign of life, no clinic data",
    "core.IdempotencyKey": "infrastructure: which task side effect already happened, named by ids only",
}


def alliance_models():
    return [m for m in apps.get_models() if m.__module__.startswith("alliance.")]


def test_every_table_carries_its_clinic():
    missing = []
    for model in alliance_models():
        label = model._meta.label
        if label in NOT_PER_CLINIC:
            continue
        field = next((f for f in model._meta.concrete_fields if f.name == "clinic"), None)
        if (
            field is None
            or field.related_model is None
            or field.related_model._meta.label != "accounts.Clinic"
        ):
            missing.append(label)
    assert missing == [], f"tables without a clinic foreign key: {missing}"


def test_the_exceptions_still_exist():
    labels = {m._meta.label for m in alliance_models()}
    assert set(NOT_PER_CLINIC) <= labels
