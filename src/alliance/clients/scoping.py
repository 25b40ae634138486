"""The one scoping helper every view of client data goes through."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest

from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.core.access import signed_in_user


def client_or_404(
    request: HttpRequest,
    client_id: object,
    *,
    record_type: str = "client_record",
    action: str = "view",
    note: str = "",
) -> ClientRecord:
    """The client record if the signed-in person may read it, else 404; the read is audited.

    A foreign, unknown or malformed id all look the same from outside: 404.
    """
    try:
        key = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except (ValueError, TypeError):
        raise Http404 from None
    record = (
        ClientRecord.objects.visible_to(signed_in_user(request))
        .select_related("clinic", "user")
        .filter(pk=key)
        .first()
    )
    if record is None:
        raise Http404
    if action:
        audit.record_request(request, action, record_type, client=record, note=note)
    return record
