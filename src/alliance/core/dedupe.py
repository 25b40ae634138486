"""Double submits of create forms: the same thing sent again within a short window is one thing.

A double click, an impatient retry or a second tab must not store two goals, two concerns or
two journal entries. Many of these fields are encrypted (no SQL equality), so the few rows
created by the same person in the window are compared in Python.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)


def recent_duplicate(
    queryset: QuerySet[Any],
    values: dict[str, Any],
    *,
    time_field: str = "created_at",
    window: timedelta = DOUBLE_SUBMIT_WINDOW,
) -> Model | None:
    """The latest row of ``queryset`` created within ``window`` whose fields equal ``values``.

    ``queryset`` should already be narrowed to the same author and parent (client, goal).
    """
    since = timezone.now() - window
    recent = queryset.filter(**{f"{time_field}__gte": since}).order_by(f"-{time_field}")[:20]
    for obj in recent:
        if all(getattr(obj, name) == value for name, value in values.items()):
            return obj
    return None
