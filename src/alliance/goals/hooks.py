"""Hand-over to the monitoring app: goal disagreements, repeated "this isn't working" and
client concerns become alerts there (issue 4 owns alerts and rupture episodes).

The monitoring app is built alongside this one, so its Alert model is looked up when an alert
is raised, not at import time. Where it is missing (or has no ``raise_for``) the call returns
None and nothing else changes: the goal and concern records keep their own open/acknowledged
state, and their ``alert_id`` columns stay empty.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.apps import apps
from django.db import transaction

logger = logging.getLogger(__name__)


def raise_alert(
    client: Any, *, kind: str, reason: str, evidence: dict[str, Any], rules: list[str] | None = None
) -> uuid.UUID | None:
    """Open a monitoring alert of ``kind`` for ``client``, or attach to the open one.

    ``Alert.raise_for`` sets the severity from the kind ("disagreement" sorts low, after safety,
    not-on-track and rupture). ``reason`` and ``evidence`` must hold no client free text.
    ``rules`` names the rule behind it when that is not the kind itself (the alert list and the
    usefulness report name the rule).
    """
    try:
        Alert = apps.get_model("monitoring", "Alert")
    except LookupError:
        return None
    raise_for = getattr(Alert, "raise_for", None)
    if raise_for is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: a refusal must not break the caller's transaction
            alert, _created = raise_for(client, kind, reason, evidence, rules=rules)
    except Exception:  # the caller's own record still stands; the panel shows it either way
        logger.warning("Could not raise a %s alert in the monitoring app.", kind)
        return None
    return alert.pk


def task_not_working(task: Any, count: int) -> uuid.UUID | None:
    """A repeated "this isn't working for me" is a rupture signal: the monitoring app opens or
    joins the client's rupture episode and its alert, as it does for a concern. Without the
    monitoring app, a plain rupture alert. Returns the alert's id, or None."""
    try:
        from alliance.monitoring.detection import on_task_not_working
    except ImportError:
        return raise_alert(
            task.client,
            kind="rupture",
            reason="The client said a task isn't working for them, more than once",
            evidence={"source": "task_not_working", "task": str(task.pk), "count": count},
        )
    with transaction.atomic():
        episode = on_task_not_working(task)
    return None if episode is None else episode.alert_id
