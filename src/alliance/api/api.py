"""The JSON API under /api/v1/ (OpenAPI schema at /api/v1/openapi.json).

Session authentication with CSRF for the browser. Every endpoint carries the same access
decorators as the HTML views (``@endpoint(...)``, checked when the URLs are built: an endpoint
without one fails to load) and scopes through ``alliance.clients.access``, so outsiders get 404.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from datetime import date, datetime

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.urls import path as url_path
from ninja import Field, NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.operation import PathView
from ninja.security import SessionAuth

from alliance.accounts.models import STAFF_ROLES, Role
from alliance.clients.access import CLINICAL_ROLES, client_or_404
from alliance.clients.models import ClientRecord, ConsentKind
from alliance.core.access import (
    AccessRule,
    View,
    authenticated,
    public,
    rule_for,
    signed_in_user,
    staff,
)
from alliance.goals.models import CLIENT, THERAPIST, GasRating, Goal
from alliance.measures.models import OutcomeResult, Response
from alliance.monitoring.detection import alliance_by_session
from alliance.monitoring.models import RuptureEpisode
from alliance.monitoring.views import alerts_needing_attention
from alliance.transcripts.corrections import NOT_CORRECTABLE, save_correction
from alliance.transcripts.models import Transcript


class StaffOrClientSession(SessionAuth):
    """Signed-in users only; MFA for staff is enforced by the middleware before this runs."""


_ERROR_BODY = {
    "description": "An error, with its reason in `detail`",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


class AllianceAPI(NinjaAPI):
    """The published schema names every answer an endpoint gives, errors included: 401 when
    not signed in, 404 for an id that names no record you may read (tests/api/test_api_fuzz.py
    checks every answer against it)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict | None = None
    ):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
            "title": "Error",
            "type": "object",
            "properties": {"detail": {"title": "Detail"}},
            "required": ["detail"],
        }
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                responses = operation["responses"]
                responses.setdefault(401, _ERROR_BODY)
                if "{" in path:
                    responses.setdefault(404, _ERROR_BODY)
        return schema

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        """Ninja serves all operations of one path through one view; that view carries the
        access rule of its operations, so the deny-by-default middleware checks the API like
        any page. An operation without a rule stops the URLs from loading."""
        patterns = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern) and rule_for(pattern.callback) is None:
                if pattern.name == "api-root":
                    pattern = url_path("", public(_api_root), name="api-root")
                else:
                    pattern.callback.access_rule = _path_rule(pattern)  # type: ignore[attr-defined]
            patterns.append(pattern)
        return patterns


def _api_root(request: HttpRequest) -> HttpResponse:
    """/api/v1/ itself names nothing (ninja needs the URL to find its own prefix)."""
    raise Http404


def _path_rule(pattern: URLPattern) -> AccessRule:
    """The rule of a ninja path view, from the rules of its operations. Ninja offers no public
    way back from the URL's view to its operations, so read them from the view's closure; if a
    ninja upgrade changes that, this fails loudly at start-up rather than letting a path by."""
    cells = getattr(pattern.callback, "__closure__", None) or ()
    views = [c.cell_contents for c in cells if isinstance(c.cell_contents, PathView)]
    if len(views) != 1:
        raise ImproperlyConfigured(f"API path {pattern.pattern} is not a ninja path view")
    rules = {rule_for(op.view_func) for op in views[0].operations}
    if None in rules or not all(isinstance(r, AccessRule) for r in rules):
        raise ImproperlyConfigured(f"API path {pattern.pattern} has an endpoint without @endpoint")
    if len(rules) == 1:
        return rules.pop()  # type: ignore[return-value]
    return AccessRule("api", frozenset(str(r) for r in rules))


def endpoint(rule: Callable[[View], View]) -> Callable[[View], View]:
    """Give a JSON endpoint one of the access decorators the pages use (``authenticated``,
    ``staff(...)``). Ninja runs its session auth first (401 when not signed in); the decorator
    then refuses the wrong people with the pages' status (404, or 403 where ``forbidden``)."""

    def decorator(view: View) -> View:
        marked = rule(view)
        # Ninja reads the parameters from the signature; resolve them in the endpoint's module.
        marked.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
        return marked

    return decorator


api = AllianceAPI(
    title="Alliance API",
    version="1",
    urls_namespace="api-v1",
    auth=StaffOrClientSession(),
    # No docs page: the schema alone, and only for signed-in staff (anonymous visitors see
    # sign-in pages only; clients get 404 like any staff page).
    docs_url=None,
    docs_decorator=staff(*STAFF_ROLES),
)


@api.exception_handler(ValidationError)
def _invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A malformed id in the path names no record: 404, as for any unknown or foreign id.
    Other invalid input keeps its 422 with the reasons."""
    if exc.errors and all(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        return api.create_response(request, {"detail": "Not Found"}, status=404)
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


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
@endpoint(authenticated)
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "full_name": user.full_name,
        "role": user.role,
        "clinic": user.clinic.name if user.clinic else None,
    }


@api.get("/clients", response=list[ClientOut], summary="Clients whose record you may read")
@endpoint(authenticated)
def list_clients(request):
    return list(ClientRecord.objects.visible_to(request.user).order_by("full_name"))


@api.get("/clients/{client_id}", response=ClientDetailOut, summary="One client record")
@endpoint(authenticated)
def get_client(request, client_id: uuid.UUID):
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


# --- Measures --------------------------------------------------------------------------------


class MeasureResponseOut(Schema):
    id: uuid.UUID
    instrument: str
    completed_at: datetime
    total: float | None
    severity: str
    flags: list[str]
    item9_positive: bool | None = Field(
        description="PHQ-9 item 9 above 0; null when item 9 has no answer (left empty, a total from paper, "
        "another instrument)"
    )
    source: str
    language: str = Field(
        description="BCP-47 code of the language the questionnaire was shown in (en when a form "
        "fell back to the English original)"
    )


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


@api.get(
    "/clients/{client_id}/measures",
    response=MeasuresOut,
    summary="Scores and outcomes of one client",
)
@endpoint(authenticated)
def client_measures(request, client_id: uuid.UUID):
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
            "language": r.language,
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
        for o in OutcomeResult.objects.filter(client=client)
        .select_related("episode")
        .order_by("episode__started")
    ]
    return {"responses": responses, "outcomes": outcomes}


# --- Alliance, alerts and goals (read-only) ---------------------------------------------------

DISCLAIMER = (
    "Scores, rupture episodes and alerts support conversation; they are not a diagnosis or a "
    "risk assessment. The Session Alliance Check is not a validated instrument, and ruptures "
    "are found by rules the clinic sets (stored with each episode)."
)


class ErrorOut(Schema):
    detail: str


class SessionAllianceOut(Schema):
    session: int
    date: datetime | None
    status: str
    client: float | None
    therapist: float | None
    gap: float | None
    felt_off: bool
    therapist_felt_off: bool
    concern: bool
    task_not_working: bool
    transcript_markers: int | None
    phq9: float | None


class RuptureEpisodeOut(Schema):
    id: uuid.UUID
    instrument: str
    start_session: int
    lowest_session: int
    end_session: int | None
    recovered_session: int | None
    status: str
    rules: list[str]
    evidence: dict
    rule_settings: dict
    opened_at: datetime
    closed_at: datetime | None
    escalated_to: str
    acknowledged_at: datetime | None
    repair_approaches: list[str]


class AllianceOut(Schema):
    disclaimer: str
    sessions: list[SessionAllianceOut]
    episodes: list[RuptureEpisodeOut]


@api.get(
    "/clients/{client_id}/alliance",
    response=AllianceOut,
    summary="Alliance per session and rupture episodes of one client (care team)",
)
@endpoint(staff(*CLINICAL_ROLES))
def client_alliance(request, client_id: uuid.UUID):
    """Like the alliance timeline page: the care team only (clients and admins get 404).

    Structured fields only: concern topics, transcript marker words and repair notes are left out.
    """

    client = client_or_404(request, client_id, record_type="alliance_timeline")
    rows = alliance_by_session(client, with_phq9=True)
    sessions = [
        {
            "session": r.session,
            "date": r.date,
            "status": r.status,
            "client": r.client,
            "therapist": r.therapist,
            "gap": r.gap,
            "felt_off": r.felt_off,
            "therapist_felt_off": r.therapist_felt_off,
            "concern": r.concern,
            "task_not_working": r.task_not_working,
            "transcript_markers": r.transcript_markers,
            "phq9": r.phq9,
        }
        for r in rows.values()
    ]
    episodes = [
        {
            "id": e.pk,
            "instrument": e.instrument_id,
            "start_session": e.start_session,
            "lowest_session": e.lowest_session,
            "end_session": e.end_session,
            "recovered_session": e.recovered_session,
            "status": e.status,
            "rules": e.rules,
            "evidence": e.evidence,
            "rule_settings": e.rule_settings,
            "opened_at": e.opened_at,
            "closed_at": e.closed_at,
            "escalated_to": e.escalated_to,
            "acknowledged_at": e.acknowledged_at,
            "repair_approaches": e.repair_approaches,
        }
        for e in RuptureEpisode.objects.filter(client=client).order_by("start_session")
    ]
    return {"disclaimer": DISCLAIMER, "sessions": sessions, "episodes": episodes}


class AlertOut(Schema):
    id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    severity: int
    status: str
    reason: str
    rules: list[str]
    created_at: datetime
    snoozed_until: datetime | None
    escalated_at: datetime | None


class EscalatedAlertOut(Schema):
    pseudonym: str
    kind: str
    created_at: datetime
    escalated_at: datetime | None


class AlertsOut(Schema):
    disclaimer: str
    alerts: list[AlertOut]
    escalated: list[EscalatedAlertOut]


@api.get(
    "/alerts",
    response={200: AlertsOut, 403: ErrorOut},
    summary="Open and snoozed alerts you may see (staff)",
)
@endpoint(staff(*CLINICAL_ROLES, Role.ADMIN, forbidden="Alerts are for clinic staff."))
def list_alerts(request):
    """The set the alert list page shows: open and snoozed alerts about clients whose record you
    may read, most urgent first; for supervisors and admins also the alerts escalated to them,
    by pseudonym only (no client id, no reason)."""

    needing, escalated = alerts_needing_attention(request.user)
    return {
        "disclaimer": DISCLAIMER,
        "alerts": [
            {
                "id": a.pk,
                "client_id": a.client_id,
                "kind": a.kind,
                "severity": a.severity,
                "status": a.status,
                "reason": a.reason,
                "rules": a.rules,
                "created_at": a.created_at,
                "snoozed_until": a.snoozed_until,
                "escalated_at": a.escalated_at,
            }
            for a in needing
        ],
        "escalated": [
            {
                "pseudonym": a.client.pseudonym,
                "kind": a.kind,
                "created_at": a.created_at,
                "escalated_at": a.escalated_at,
            }
            for a in escalated
        ],
    }


class GasRatingOut(Schema):
    level: int
    rated_on: date


class LatestGasOut(Schema):
    client: GasRatingOut | None
    therapist: GasRatingOut | None


class TaskOut(Schema):
    id: uuid.UUID
    description: str
    rationale: str
    progress: int
    status: str
    created_at: datetime


class GoalOut(Schema):
    id: uuid.UUID
    wording: str
    status: str
    importance: int
    difficulty: int
    weight: float
    created_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    latest_gas: LatestGasOut
    tasks: list[TaskOut]


@api.get(
    "/clients/{client_id}/goals",
    response=list[GoalOut],
    summary="Shared goals, latest GAS ratings and tasks of one client",
)
@endpoint(staff(*CLINICAL_ROLES, clients=True))
def client_goals(request, client_id: uuid.UUID):
    """Like the goals pages: the care team's clinicians, and the client for their own record
    (admins get 404 even under emergency access). Status reasons, level words, goal-change
    notes and the client's task notes are left out."""

    client = client_or_404(request, client_id, record_type="goal")
    goals = list(Goal.objects.for_client(client).prefetch_related("tasks"))
    latest: dict[tuple[uuid.UUID, str], GasRating] = {}
    for rating in GasRating.objects.filter(goal__in=goals).order_by("rated_on", "created_at"):
        latest[(rating.goal_id, rating.rater)] = rating

    def gas(goal: Goal, side: str) -> dict | None:
        rating = latest.get((goal.pk, side))
        return None if rating is None else {"level": rating.level, "rated_on": rating.rated_on}

    return [
        {
            "id": g.pk,
            "wording": g.wording,
            "status": g.status,
            "importance": g.importance,
            "difficulty": g.difficulty,
            "weight": g.weight,
            "created_at": g.created_at,
            "activated_at": g.activated_at,
            "closed_at": g.closed_at,
            "latest_gas": {"client": gas(g, CLIENT), "therapist": gas(g, THERAPIST)},
            "tasks": [
                {
                    "id": t.pk,
                    "description": t.description,
                    "rationale": t.rationale,
                    "progress": t.progress,
                    "status": t.status,
                    "created_at": t.created_at,
                }
                for t in g.tasks.all()
            ],
        }
        for g in goals
    ]


class CorrectionIn(Schema):
    index: int = Field(description="The turn's index in the analysis (0 is the first turn)")
    code: str = Field(
        description="therapist: reflection/simple, reflection/complex, question/open, "
        "question/closed, therapist_input or other; client: change, neutral or sustain"
    )


class CorrectionOut(Schema):
    index: int
    code: str
    corrected_utterances: int
    summary: dict = Field(
        description="The session summary recomputed from every correction, numbers only "
        "(values, intervals, levels and counts; no transcript text)"
    )


class InvalidOut(Schema):
    detail: str | list


@api.post(
    "/clients/{client_id}/transcripts/{transcript_id}/corrections",
    response={200: CorrectionOut, 403: ErrorOut, 409: ErrorOut, 422: InvalidOut},
    summary="Correct one turn's code in your own transcript feedback",
)
@endpoint(staff(*CLINICAL_ROLES))
def correct_transcript_code(
    request, client_id: uuid.UUID, transcript_id: uuid.UUID, payload: CorrectionIn
):
    """The feedback page's correction: only the therapist who uploaded the transcript (404 for
    everyone else), only while the analysis and its text are kept (409), each correction
    audited as an update of the transcript feedback. A code that does not fit the turn is
    refused with the reason (422) and changes nothing. Session-authenticated, with CSRF."""

    client = client_or_404(request, client_id, record_type="transcript_feedback")
    transcript = Transcript.objects.filter(
        pk=transcript_id, client=client, uploaded_by=signed_in_user(request)
    ).first()
    if transcript is None:
        raise Http404
    index, error = save_correction(request, client, transcript, payload.index, payload.code)
    if error:
        raise HttpError(409 if error == str(NOT_CORRECTABLE) else 422, error)
    return {
        "index": index,
        "code": payload.code,
        "corrected_utterances": len(transcript.correction_data()),
        "summary": transcript.metrics or {},
    }
