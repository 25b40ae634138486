"""Tasks that only the resilience tests enqueue. Each run leaves a row the tests count.

The worker processes import them by path (``tests.foundation.resilience_tasks``): they run from
the repository root, where ``tests`` is a package.
"""

from __future__ import annotations

import time
import uuid

from django.db import OperationalError
from django_tasks import task

from alliance.core.models import IdempotencyKey


def runs(tag: str) -> int:
    """How many times a task tagged ``tag`` ran to its end."""
    return IdempotencyKey.objects.filter(key__startswith=f"test-run:{tag}:").count()


@task()
def record_run(tag: str) -> int:
    IdempotencyKey.objects.create(key=f"test-run:{tag}:{uuid.uuid4()}")
    return runs(tag)


@task()
def slow_record_run(tag: str, seconds: float) -> int:
    """Sleeps first, so a database outage can start while it runs."""
    time.sleep(seconds)
    IdempotencyKey.objects.create(key=f"test-run:{tag}:{uuid.uuid4()}")
    return runs(tag)


@task()
def lose_database_once(tag: str) -> int:
    """Fails the first time as a dropped connection does, then records its run."""
    if IdempotencyKey.claim(f"test-lost-db:{tag}"):
        raise OperationalError("server closed the connection unexpectedly")
    IdempotencyKey.objects.create(key=f"test-run:{tag}:{uuid.uuid4()}")
    return runs(tag)
