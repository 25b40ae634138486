"""The periodic jobs the scheduler enqueues, registered by the app that owns each one.

Each app calls ``register`` from its ``AppConfig.ready()``, so ``core`` (and its ``scheduler``
command) imports no app above it. A job is a name, an interval in seconds and a callable that
enqueues the work for the worker; the scheduler claims one slot per interval (see
``core/management/commands/scheduler.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: int  # seconds between slots
    enqueue: Callable[[], object]


_jobs: dict[str, PeriodicJob] = {}


def register(name: str, enqueue: Callable[[], object], *, every: int) -> None:
    """Add (or, under the same name, replace) a periodic job; ``every`` is in seconds."""
    if not name.strip():
        raise ValueError("A periodic job needs a name.")
    if every <= 0:
        raise ValueError(
            f"Periodic job {name!r}: the interval must be a positive number of seconds."
        )
    _jobs[name] = PeriodicJob(name, every, enqueue)


def registered() -> list[PeriodicJob]:
    """Every registered job, in the order the apps registered them."""
    return list(_jobs.values())
