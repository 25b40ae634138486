"""Background work of the core app: the probe that ``alliance worker_check`` sends."""

from __future__ import annotations

from django_tasks import TaskContext, task


@task(takes_context=True)
def probe(context: TaskContext) -> str:
    """Do nothing; return the id of the worker that ran it (a re-run is as harmless)."""
    worker_ids = context.task_result.worker_ids
    return worker_ids[-1] if worker_ids else ""
