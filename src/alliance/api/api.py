"""The JSON API under /api/v1/ (OpenAPI schema at /api/v1/openapi.json).

Session authentication with CSRF for the browser; every endpoint scopes through the same
helpers as the HTML views, so outsiders get 404.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from ninja import NinjaAPI, Schema
from ninja.security import SessionAuth

from alliance.clients.models import ClientRecord, ConsentKind
from alliance.clients.scoping import client_or_404


class StaffOrClientSession(SessionAuth):
    """Signed-in users only; MFA for staff is enforced by the middleware before this runs."""


api = NinjaAPI(
    title="Alliance API",
    version="1",
    urls_namespace="api-v1",
    auth=StaffOrClientSession(),
    docs_url=None,  # the bundled Swagger UI loads from a CDN; the schema is at openapi.json
)


class MeOut(Schema):
    id: uuid.UUID
    full_name: str
    role: str | None
    clinic: str | None


class ClientOut(Schema):
    id: uuid.UUID
    full_name: str
    preferred_name: str
    status: str


class ConsentOut(Schema):
    kind: str
    granted: bool
    text_version: int | None
    recorded_at: datetime | None
    withdrawn_at: datetime | None


class ClientDetailOut(ClientOut):
    consents: list[ConsentOut]


@api.get("/me", response=MeOut, summary="The signed-in person")
def me(request):  # type: ignore[no-untyped-def]
    user = request.user
    return {
        "id": user.pk,
        "full_name": user.full_name,
        "role": user.role,
        "clinic": user.clinic.name if user.clinic else None,
    }


@api.get("/clients", response=list[ClientOut], summary="Clients whose record you may read")
def list_clients(request):  # type: ignore[no-untyped-def]
    return list(ClientRecord.objects.visible_to(request.user).order_by("full_name"))


@api.get("/clients/{client_id}", response=ClientDetailOut, summary="One client record")
def get_client(request, client_id: uuid.UUID):  # type: ignore[no-untyped-def]
    client = client_or_404(request, client_id)
    consents = []
    for kind in ConsentKind.values:
        consent = client.current_consent(kind)
        consents.append(
            {
                "kind": kind,
                "granted": bool(consent and consent.is_active),
                "text_version": consent.text.version if consent else None,
                "recorded_at": consent.recorded_at if consent else None,
                "withdrawn_at": consent.withdrawn_at if consent else None,
            }
        )
    return {
        "id": client.pk,
        "full_name": client.full_name,
        "preferred_name": client.preferred_name,
        "status": client.status,
        "consents": consents,
    }


# --- Measures (issue 3) ----------------------------------------------------------------------


class MeasureResponseOut(Schema):
    id: uuid.UUID
    instrument: str
    completed_at: datetime
    total: float | None
    severity: str
    flags: list[str]
    item9_positive: bool
    source: str


class OutcomeOut(Schema):
    instrument: str
    episode_started: str
    episode_ended: str | None
    statuses: list[str]
    reason: str
    not_on_track: bool
    settings: dict


class MeasuresOut(Schema):
    responses: list[MeasureResponseOut]
    outcomes: list[OutcomeOut]


@api.get("/clients/{client_id}/measures", response=MeasuresOut, summary="Scores and outcomes of one client")
def client_measures(request, client_id: uuid.UUID):  # type: ignore[no-untyped-def]
    from alliance.measures.models import OutcomeResult, Response

    client = client_or_404(request, client_id, record_type="measures")
    responses = [
        {
            "id": r.pk,
            "instrument": r.instrument_id,
            "completed_at": r.completed_at,
            "total": r.total,
            "severity": r.severity,
            "flags": r.flags,
            "item9_positive": r.item9_positive,
            "source": r.source,
        }
        for r in Response.objects.filter(client=client).order_by("completed_at")
    ]
    outcomes = [
        {
            "instrument": o.instrument_id,
            "episode_started": o.episode.started.isoformat(),
            "episode_ended": o.episode.ended.isoformat() if o.episode.ended else None,
            "statuses": o.statuses,
            "reason": o.reason,
            "not_on_track": o.not_on_track,
            "settings": o.settings,
        }
        for o in OutcomeResult.objects.filter(client=client).select_related("episode").order_by("episode__started")
    ]
    return {"responses": responses, "outcomes": outcomes}
