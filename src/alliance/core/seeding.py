"""The demo-clinic seeding mechanism.

Each installed app may have a ``demo`` module with ``seed(ctx: DemoContext) -> None``.
``alliance seed_demo`` calls them in INSTALLED_APPS order inside one transaction, so later
apps build on what earlier ones made (the clinic, staff, clients). A module that attaches to
what a later app makes names it in ``SEED_AFTER`` (app names) and runs after it. Seeding runs
once per database: re-running keeps existing data.

Every client gets one coherent history: sessions numbered in date order, and nothing that
belongs to a session (a rating, a transcript, a journal entry) dated before it. A seeder
adds to a client's sessions after the ones already there, or attaches to them.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction

from alliance.core.models import clinic_model

DEMO_CLINIC_NAME = "Riverbend Counselling (demo)"
DEMO_PASSWORD = "demo-alliance-2026"


@dataclass
class DemoContext:
    rng: random.Random
    clinic: Any = None
    admin: Any = None
    supervisor: Any = None
    therapists: list[Any] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)
    # Printed after seeding: (role, name, email, how to sign in)
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Run after every app has seeded, e.g. booking future sessions once all past ones exist,
    # so sessions stay numbered in date order.
    after_all: list[Any] = field(default_factory=list)


def seeders() -> list[tuple[str, Any]]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("alliance."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        found.append((config.name, module))
    return [(name, module.seed) for name, module in _after_their_dependencies(found)]


def _after_their_dependencies(found: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """INSTALLED_APPS order, except that a module runs after every app in its ``SEED_AFTER``."""
    names = {name for name, _module in found}
    done: list[tuple[str, Any]] = []
    waiting = list(found)
    while waiting:
        for i, (_name, module) in enumerate(waiting):
            needs = [n for n in getattr(module, "SEED_AFTER", ()) if n in names]
            if all(any(n == d for d, _m in done) for n in needs):
                done.append(waiting.pop(i))
                break
        else:
            raise RuntimeError(
                "Demo seeders wait on each other: " + ", ".join(n for n, _m in waiting)
            )
    return done


def demo_exists() -> bool:
    clinic_table = clinic_model()
    return clinic_table._default_manager.filter(name=DEMO_CLINIC_NAME).exists()


def seed_demo(seed: int = 7) -> DemoContext | None:
    """Seed the demo clinic; returns None when it already exists (nothing is changed)."""
    if demo_exists():
        return None
    ctx = DemoContext(rng=random.Random(seed))
    with transaction.atomic():
        for _name, seeder in seeders():
            seeder(ctx)
        for finish in ctx.after_all:
            finish()
    return ctx
