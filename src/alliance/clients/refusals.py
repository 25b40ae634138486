"""Auditing refused access: who was refused what kind of record, when and from where.

Every 403/404 answered to a signed-in person arrives here (``core.access.access_refused``).
It is written to the audit trail when it concerns an existing record of someone else's care,
or when it refused a POST. Nothing typed by anyone is stored: the record kind, the URL name
and the method only. One entry per person, record, page and method every ``REPEAT_MINUTES``, so a
crawler cannot flood the trail. The clinic admin and supervisor read them in the security
log; the client's own access list leaves them out.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest

from alliance.accounts.models import Clinic
from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.core.models import AuditAction

REPEAT_MINUTES = 10

# The URL argument that addresses a record, the model behind it (by label, so no import
# reaches up to the apps that own them) and the kind of record it is. Most specific first:
# a goal's page also names its client, and the goal is what was refused.
URL_RECORDS: dict[str, tuple[str, str]] = {
    "administration_id": ("measures.Administration", "questionnaire"),
    "response_id": ("measures.Response", "questionnaire_answers"),
    "alert_id": ("alerts.Alert", "alert"),
    "episode_id": ("monitoring.RuptureEpisode", "rupture_episode"),
    "goal_id": ("goals.Goal", "goal"),
    "change_id": ("goals.GoalChange", "goal_change"),
    "task_id": ("goals.Task", "task"),
    "check_in_id": ("checkins.CheckIn", "check_in"),
    "concern_id": ("checkins.Concern", "concern"),
    "transcript_id": ("transcripts.Transcript", "transcript"),
    "entry_id": ("supervision.JournalEntry", "journal_entry"),
    "item_id": ("supervision.SharedItem", "shared_item"),
    "client_id": ("clients.ClientRecord", "client_record"),
}


def _has_field(model: Any, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def refused_record(kwargs: dict[str, Any]) -> tuple[str, str, uuid.UUID, str | None] | None:
    """(record kind, object id, clinic id, client id) of the first existing record the URL
    names, or None when it names none."""
    for name, (label, record_type) in URL_RECORDS.items():
        if name not in kwargs:
            continue
        try:
            pk = uuid.UUID(str(kwargs[name]))
        except (ValueError, TypeError):
            continue
        model = apps.get_model(label)
        if model is ClientRecord:
            row = ClientRecord.objects.filter(pk=pk).values("clinic_id", "id").first()
            if row is not None:
                return record_type, str(pk), row["clinic_id"], str(row["id"])
            continue
        fields = ["clinic_id"] + (["client_id"] if _has_field(model, "client") else [])
        row = model._default_manager.filter(pk=pk).values(*fields).first()
        if row is not None:
            client_id = row.get("client_id")
            return record_type, str(pk), row["clinic_id"], str(client_id) if client_id else None
    return None


def audit_refusal(sender: object, request: HttpRequest, **kwargs: Any) -> None:
    user = request.user
    match = request.resolver_match
    if match is None or not user.is_authenticated:
        return
    is_post = request.method == "POST"
    found = refused_record(match.kwargs)
    if found is None:
        if not is_post:
            return  # an unknown id: nothing of anyone's was refused
        record_type, object_id, clinic_id, client_id = "page", match.view_name, None, None
    else:
        record_type, object_id, clinic_id, client_id = found
        if (
            not is_post
            and client_id is not None
            and ClientRecord.objects.visible_to(user).filter(pk=client_id).exists()
        ):
            return  # refused for another reason than whose care it is (a role's page)
    clinic = Clinic.objects.filter(pk=clinic_id).first() if clinic_id else user.clinic
    if clinic is None:
        return
    key = f"alliance.refused.{user.pk}.{record_type}.{object_id}.{request.method}.{match.view_name}"
    if not cache.add(key, 1, REPEAT_MINUTES * 60):
        return
    audit.record(
        clinic=clinic,
        actor=user,
        action=AuditAction.DENIED,
        record_type=record_type,
        client=ClientRecord.objects.filter(pk=client_id).first() if client_id else None,
        request=request,
        note=f"{request.method} {match.url_name or ''}"[:200],
    )
