"""The scheduler enqueues each periodic job once per slot, however many schedulers run."""

import pytest
from django_tasks_db.models import DBTaskResult

from alliance.core import periodic
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


def test_the_scheduler_runs_what_the_apps_registered(db, monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", dict(periodic._jobs))
    calls = []
    periodic.register("test job", lambda: calls.append(1), every=60)
    assert "test job" in run_due(1_800_000_000.0)
    assert calls == [1]
    assert run_due(1_800_000_030.0) == []  # same slot: not again
    assert calls == [1]


def test_a_job_needs_a_name_and_a_positive_interval(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", dict(periodic._jobs))
    with pytest.raises(ValueError, match="positive"):
        periodic.register("x", lambda: None, every=0)
    with pytest.raises(ValueError, match="name"):
        periodic.register(" ", lambda: None, every=5)
    assert "x" not in {job.name for job in periodic.registered()}
