"""The scheduler enqueues each periodic job once per slot, however many schedulers run."""

import pytest
from django_tasks_db.models import DBTaskResult

from alliance.core.management.commands.scheduler import run_due


# The slot claims live in the shared production cache, where other schedulers see them.
@pytest.mark.real_settings
def test_each_job_is_enqueued_once_per_slot(db):
    now = 1_800_000_000.0
    first = run_due(now)
    assert sorted(first) == [
        "check-in cycle and reminders",
        "daily monitoring pass",
        "overdue safety alerts",
        "undelivered safety notices",
    ]
    assert run_due(now + 30) == []  # a second scheduler in the same slot does nothing
    assert DBTaskResult.objects.count() == 4
    assert run_due(now + 5 * 60) == ["undelivered safety notices"]
    later = run_due(now + 15 * 60)
    assert sorted(later) == [
        "check-in cycle and reminders",
        "overdue safety alerts",
        "undelivered safety notices",
    ]
