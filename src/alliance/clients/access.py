"""Per-object access to client data: the one vocabulary every page, panel and API endpoint uses.

Who may use a view at all is said by the decorators of ``alliance.core.access`` (deny by
default); which client records they may then touch is said here, on top of one queryset
method that holds the care-team rule (``ClientRecord.objects.on_care_team_of``):

- ``clinical_staff``: the view decorator for pages of the clinical roles (``CLINICAL_ROLES``);
- ``client_or_404(request, id, write=...)``: a client record the signed-in person may read
  (or change), else 404;
- ``own_client(request)``: the signed-in client's own record;
- ``owned_or_404(request, queryset, id, write=...)``: an object that carries a client, for
  staff through the care-team rule, for a client on their own record only;
- ``on_care_team(user, client)``: the same rule as a yes/no, for panels that show more to the
  care team.

Outsiders get 404 for a foreign, unknown or malformed id alike; a reader who may not change a
record (a clinic admin under break-glass access) gets 404 on a change as well.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.http import Http404, HttpRequest

from alliance.accounts.models import CLINICAL_ROLES
from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.core.access import signed_in_user, staff

if TYPE_CHECKING:
    from alliance.accounts.models import User

__all__ = [
    "CLINICAL_ROLES",
    "client_or_404",
    "clinical_staff",
    "on_care_team",
    "own_client",
    "owned_or_404",
]

M = TypeVar("M", bound=models.Model)

# Pages for the clinical roles only (a therapist or a supervisor); anyone else gets 404.
clinical_staff = staff(*CLINICAL_ROLES)


def _uuid_or_404(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise Http404 from None


def on_care_team(user: User, client: ClientRecord) -> bool:
    """Whether ``user`` is on ``client``'s care team (the rule of ``on_care_team_of``)."""
    return ClientRecord.objects.on_care_team_of(user).filter(pk=client.pk).exists()


def client_or_404(
    request: HttpRequest,
    client_id: object,
    *,
    write: bool = False,
    record_type: str = "client_record",
    action: str = "view",
    note: str = "",
) -> ClientRecord:
    """The client record if the signed-in person may read it (or, with ``write``, change it),
    else 404. ``action`` (when not empty) is written to the audit trail once access is granted.

    A foreign, unknown or malformed id all look the same from outside: 404.
    """
    key = _uuid_or_404(client_id)
    record = (
        ClientRecord.objects.visible_to(signed_in_user(request), write=write)
        .select_related("clinic", "user")
        .filter(pk=key)
        .first()
    )
    if record is None:
        raise Http404
    if action:
        audit.record_request(request, action, record_type, client=record, note=note)
    return record


def own_client(
    request: HttpRequest, *, record_type: str = "client_record", action: str = "view"
) -> ClientRecord:
    """The signed-in client's own record (a view behind ``@client_only``); 404 for anyone
    without one."""
    record = getattr(signed_in_user(request), "client_record", None)
    if record is None:
        raise Http404
    return client_or_404(request, record.pk, record_type=record_type, action=action)


def owned_or_404(
    request: HttpRequest,
    objects: type[M] | models.QuerySet[M],
    object_id: object,
    *,
    client: ClientRecord | None = None,
    write: bool = False,
    record_type: str | Callable[[M], str] = "client_record",
    action: str = "view",
) -> tuple[M, ClientRecord]:
    """An object that carries a ``client`` foreign key, with its client, else 404.

    The object's client must pass ``client_or_404`` (the care-team rule for staff, the own
    record for a client). Where the view has already loaded the client (``client``), the
    object must belong to that client and nothing is read or audited again. ``objects`` may be
    a narrowed queryset (``Transcript.objects.filter(uploaded_by=user)``) for rules that are
    stricter than the care team's.
    """
    queryset: models.QuerySet[Any] = (
        objects._default_manager.all() if isinstance(objects, type) else objects
    )
    key = _uuid_or_404(object_id)
    if client is not None:
        obj = queryset.filter(pk=key, client=client).first()
        if obj is None:
            raise Http404
        return obj, client
    obj = queryset.filter(pk=key).first()
    if obj is None:
        raise Http404
    kind = record_type(obj) if callable(record_type) else record_type
    record = client_or_404(request, obj.client_id, write=write, record_type=kind, action=action)
    return obj, record
