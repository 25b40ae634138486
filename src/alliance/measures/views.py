"""Measures: assigning instruments, the client's answer form (client area or single-use
link), paper entry, episodes of care, FHIR export/import and the clinic's settings.

Every read of client data goes through ``client_or_404``; htmx fragment views end in ``_hx``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, cast

from django.contrib import messages
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from alliance.accounts.models import CLINICAL_ROLES, Role
from alliance.clients.models import ClientRecord
from alliance.clients.scoping import client_or_404
from alliance.core import audit
from alliance.core.access import client_only, public, signed_in_user, staff, staff_membership
from alliance.measures import registry, scoring
from alliance.measures.fhir import FhirImportError, fhir_to_response, response_to_fhir
from alliance.measures.models import (
    ASSIGNABLE,
    AccessLink,
    Administration,
    Assignment,
    ClinicInstrumentTexts,
    EpisodeOfCare,
    MeasureSettings,
    Response,
    instrument_choices,
)
from alliance.measures.services import record_response, record_type_for

CLINICAL_STAFF = tuple(CLINICAL_ROLES)
SETTINGS_FIELDS = (
    "reliable_change_phq9",
    "reliable_change_gad7",
    "response_fraction",
    "remission_below_phq9",
    "no_improvement_by_session",
    "link_valid_hours",
)


def _care_team_client(request: HttpRequest, client_id: Any, **kwargs: Any) -> ClientRecord:
    """The client when the signed-in clinician is on the care team (writes need that)."""
    client = client_or_404(request, client_id, **kwargs)
    if not client.care_team.filter(therapist=signed_in_user(request)).exists():
        raise Http404
    return client


def _care_team_administration(
    request: HttpRequest, administration_id: Any
) -> tuple[Administration, ClientRecord]:
    """An administration of this clinic whose client the signed-in clinician treats, else 404."""
    adm = Administration.objects.filter(
        pk=administration_id, clinic=staff_membership(request).clinic
    ).first()
    if adm is None:
        raise Http404
    return adm, _care_team_client(
        request, adm.client_id, record_type="measure_assignment", action=""
    )


# --- Clinician: assign, paper entry, episodes, links -----------------------------------------


@staff(*CLINICAL_STAFF)
@require_POST
def assign(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = _care_team_client(request, client_id, record_type="measure_assignment", action="")
    instrument_id = request.POST.get("instrument", "")
    if instrument_id not in ASSIGNABLE:
        messages.error(request, "Choose an instrument from the list; nothing was assigned.")
        return redirect("client_detail", client_id=client.pk)
    inst = registry.load(instrument_id)
    from alliance.measures.models import instrument_for_clinic

    if not instrument_for_clinic(client.clinic, instrument_id).has_item_texts:
        messages.error(
            request,
            f"{inst.short_name} has no item texts in this clinic yet; a clinic admin can import the licensed "
            "texts, or enter totals from paper. Nothing was assigned.",
        )
        return redirect("client_detail", client_id=client.pk)
    every = request.POST.get("every_days", "").strip()
    every_days: int | None = None
    if every:
        if not every.isdigit() or not 1 <= int(every) <= 365:
            messages.error(
                request,
                "Repeat every 1 to 365 days, or leave it empty for once; nothing was assigned.",
            )
            return redirect("client_detail", client_id=client.pk)
        every_days = int(every)
    with transaction.atomic():
        assignment = Assignment.objects.create(
            clinic=client.clinic,
            client=client,
            instrument_id=instrument_id,
            every_days=every_days,
            assigned_by=signed_in_user(request),
            next_due_at=timezone.now(),
        )
        assignment.create_due_administration()
        audit.record_request(
            request, "create", "measure_assignment", client=client, note=instrument_id
        )
    how = f"every {every_days} days" if every_days else "once"
    messages.success(
        request,
        f"{inst.short_name} assigned ({how}). {client.display_name} will see it in their area.",
    )
    return redirect("client_detail", client_id=client.pk)


@staff(*CLINICAL_STAFF)
@require_POST
def issue_link(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """A single-use link the clinician can send to the client; shown once, stored hashed."""
    adm, client = _care_team_administration(request, administration_id)
    if not adm.is_open:
        messages.error(
            request, "That questionnaire is already completed or cancelled; no link was made."
        )
        return redirect("client_detail", client_id=client.pk)
    hours = MeasureSettings.for_clinic(client.clinic).link_valid_hours
    link, token = AccessLink.issue(adm, request.user, hours)
    audit.record_request(request, "create", "measure_link", client=client, note=adm.instrument_id)
    url = request.build_absolute_uri(reverse("measures_link", args=[token]))
    return render(
        request,
        "measures/link_issued.html",
        {"client": client, "administration": adm, "url": url, "link": link, "hours": hours},
    )


EMAIL_LINK_GAP_SECONDS = 300


@staff(*CLINICAL_STAFF)
@require_POST
def email_link(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """Email the client a single-use link to an open questionnaire, through the worker.

    A second press within five minutes (double submit, impatient retry) sends nothing more.
    """
    from django.core.cache import cache

    from alliance.measures import tasks

    adm, client = _care_team_administration(request, administration_id)
    if not adm.is_open:
        messages.error(
            request, "That questionnaire is already completed or cancelled; no link was made."
        )
        return redirect("client_detail", client_id=client.pk)
    user = client.user
    if user is None or not user.email or not user.is_active:
        messages.error(
            request,
            f"{client.display_name} has no active email address on file; make a single-use link and send it "
            "another way. Nothing was sent.",
        )
        return redirect("client_detail", client_id=client.pk)
    if not cache.add(f"measures:email-link:{adm.pk}", "sent", timeout=EMAIL_LINK_GAP_SECONDS):
        messages.info(
            request, "A link to this questionnaire was emailed a moment ago; nothing more was sent."
        )
        return redirect("client_detail", client_id=client.pk)
    audit.record_request(
        request, "create", "measure_link", client=client, note=f"{adm.instrument_id} by email"
    )
    transaction.on_commit(
        lambda: tasks.email_questionnaire_link.enqueue(str(adm.pk), str(request.user.pk))
    )
    messages.success(
        request,
        f"A single-use link to the {adm.instrument.short_name} will be emailed to {client.display_name} shortly.",
    )
    return redirect("client_detail", client_id=client.pk)


@staff(*CLINICAL_STAFF)
def paper_entry(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Score-only entry of a total given on paper, for any instrument."""
    client = _care_team_client(request, client_id, record_type="measure_response", action="")
    choices = instrument_choices(tuple(i.id for i in registry.all_instruments()))
    error = ""
    if request.method == "POST":
        instrument_id = request.POST.get("instrument", "")
        raw_total = request.POST.get("total", "").strip()
        raw_date = request.POST.get("date", "").strip()
        try:
            if instrument_id not in dict(choices):
                raise scoring.ScoringError("Instrument: choose one from the list")
            try:
                total = float(raw_total)
            except ValueError:
                raise scoring.ScoringError(f"Total: {raw_total!r} is not a number") from None
            try:
                day = dt.date.fromisoformat(raw_date) if raw_date else timezone.localdate()
            except ValueError:
                raise scoring.ScoringError("Date: use the form YYYY-MM-DD") from None
            if day > timezone.localdate():
                raise scoring.ScoringError("Date: cannot be in the future")
            result = scoring.score_total_only(instrument_id, total)
        except scoring.ScoringError as exc:
            error = str(exc)
        else:
            when = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
            record_response(
                client=client,
                instrument_id=instrument_id,
                result=result,
                answers={},
                source=Response.Source.PAPER,
                actor=request.user,
                request=request,
                completed_at=when,
            )
            messages.success(
                request, f"{registry.load(instrument_id).short_name} total {total:g} recorded."
            )
            return redirect("client_detail", client_id=client.pk)
    return render(
        request,
        "measures/paper_entry.html",
        {
            "client": client,
            "choices": choices,
            "error": error,
            "post": request.POST,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


@staff(*CLINICAL_STAFF)
@require_POST
def episode_change(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """End the current episode of care, or start a new one (which ends the current one)."""
    client = _care_team_client(request, client_id, record_type="episode_of_care", action="")
    today = timezone.localdate()
    current = client.episodes.filter(ended__isnull=True).first()
    with transaction.atomic():
        if request.POST.get("action") == "end":
            if current is None:
                messages.error(request, "There is no ongoing episode of care to end.")
                return redirect("client_detail", client_id=client.pk)
            current.ended = today
            current.save(update_fields=["ended"])
            messages.success(request, "Episode of care ended.")
        else:
            if current is not None:
                current.ended = today - dt.timedelta(days=1) if current.started < today else today
                current.save(update_fields=["ended"])
            EpisodeOfCare.objects.create(clinic=client.clinic, client=client, started=today)
            messages.success(
                request, "A new episode of care starts today; outcomes count from its first score."
            )
        audit.record_request(request, "update", "episode_of_care", client=client)
    return redirect("client_detail", client_id=client.pk)


# --- Clinician: one response, FHIR export and import ------------------------------------------


def _response_or_404(
    request: HttpRequest, response_id: uuid.UUID, action: str
) -> tuple[Response, ClientRecord]:
    response = Response.objects.filter(
        pk=response_id, clinic=staff_membership(request).clinic
    ).first()
    if response is None:
        raise Http404
    client = client_or_404(
        request,
        response.client_id,
        record_type=record_type_for(response.instrument_id),
        action=action,
    )
    return response, client


@staff(*CLINICAL_STAFF)
def response_detail(request: HttpRequest, response_id: uuid.UUID) -> HttpResponse:
    response, client = _response_or_404(request, response_id, "view")
    inst = registry.load(response.instrument_id)
    rows = []
    for item in inst.items:
        if item.id not in response.answers and item.type != "text":
            continue
        value = response.do_differently if item.type == "text" else response.answers.get(item.id)
        if value in (None, ""):
            continue
        option = (
            item.option_for_value(value) if item.answer_options and isinstance(value, int) else None
        )
        rows.append({"item": item, "value": value, "option": option})
    return render(
        request,
        "measures/response_detail.html",
        {"response": response, "client": client, "instrument": inst, "rows": rows},
    )


@staff(*CLINICAL_STAFF)
def fhir_export(request: HttpRequest, response_id: uuid.UUID) -> HttpResponse:
    """Download one response as a FHIR R4B Bundle (QuestionnaireResponse + Observations)."""
    response, client = _response_or_404(request, response_id, "export")
    if not response.answers:
        messages.error(request, "Totals entered from paper have no item answers to export.")
        return redirect("client_detail", client_id=client.pk)
    answers = dict(response.answers)
    if response.do_differently:
        answers["do_differently"] = response.do_differently
    bundle = response_to_fhir(
        response.instrument_id,
        answers,
        None,
        patient_ref=f"Patient/{client.pk}",
        authored=response.completed_at,
        response_id=str(response.pk),
    )
    out = JsonResponse(bundle, json_dumps_params={"indent": 2})
    out["Content-Type"] = "application/fhir+json"
    out["Content-Disposition"] = (
        f'attachment; filename="{response.instrument_id}-{response.pk}.fhir.json"'
    )
    return out


MAX_IMPORT_BYTES = 512 * 1024


@staff(*CLINICAL_STAFF)
def fhir_import(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Upload a QuestionnaireResponse or Bundle; an invalid resource names the field, stores nothing."""
    client = _care_team_client(request, client_id, record_type="measure_response", action="")
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise FhirImportError("file: choose a JSON file to upload")
            assert upload.size is not None  # Django's upload handlers always set it
            if upload.size > MAX_IMPORT_BYTES:
                raise FhirImportError("file: larger than 512 KB")
            try:
                data = json.loads(upload.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FhirImportError(f"file: not valid JSON ({exc.__class__.__name__})") from None
            instrument_id, answers = fhir_to_response(data)
            result = scoring.score(instrument_id, answers)
        except (FhirImportError, scoring.ScoringError, registry.UnknownInstrumentError) as exc:
            error = str(exc)
        else:
            text = str(answers.pop("do_differently", "") or "")
            authored = _authored(data)
            record_response(
                client=client,
                instrument_id=instrument_id,
                result=result,
                answers={k: v for k, v in answers.items()},
                source=Response.Source.FHIR,
                actor=request.user,
                request=request,
                completed_at=authored,
                do_differently=text,
            )
            messages.success(request, f"{registry.load(instrument_id).short_name} imported.")
            return redirect("client_detail", client_id=client.pk)
    return render(
        request,
        "measures/fhir_import.html",
        {"client": client, "error": error},
        status=400 if error else 200,
    )


def _authored(data: dict[str, Any]) -> dt.datetime | None:
    qr = data
    if data.get("resourceType") == "Bundle":
        qr = next(
            (
                e["resource"]
                for e in data.get("entry", [])
                if e.get("resource", {}).get("resourceType") == "QuestionnaireResponse"
            ),
            {},
        )
    raw = qr.get("authored")
    if not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return min(when, timezone.now())


# --- Clinic admin: settings and licensed item texts ---------------------------------------


@staff(Role.ADMIN)
def clinic_measure_settings(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    obj = MeasureSettings.for_clinic(clinic)
    errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "settings":
        values: dict[str, Any] = {}
        for name in SETTINGS_FIELDS:
            # SETTINGS_FIELDS name plain model fields (no relation, no generic foreign key).
            field = cast("models.Field[Any, Any]", MeasureSettings._meta.get_field(name))
            raw = request.POST.get(name, "").strip()
            try:
                value = float(raw) if field.get_internal_type() == "FloatField" else int(raw)
                if value < 0:
                    raise ValueError
                if name == "response_fraction" and not 0 < value <= 1:
                    raise ValueError
            except ValueError:
                errors.append(f"{field.verbose_name.capitalize()}: {raw!r} is not allowed.")
                continue
            values[name] = value
        obj.use_schueller_checkpoints = request.POST.get("use_schueller_checkpoints") == "on"
        if not errors:
            for name, value in values.items():
                setattr(obj, name, value)
            obj.save()
            audit.record_request(request, "update", "clinic_settings", note="measures")
            messages.success(
                request, "Measure settings saved. New results use them; each result keeps its own."
            )
            return redirect("measures_clinic_settings")
    elif request.method == "POST" and request.POST.get("form") == "texts":
        instrument_id = request.POST.get("instrument", "")
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise registry.ItemTextImportError("Choose a CSV or JSON file.")
            inst = registry.import_item_texts(instrument_id, upload.read().decode("utf-8"))
        except (
            registry.ItemTextImportError,
            registry.UnknownInstrumentError,
            UnicodeDecodeError,
        ) as exc:
            errors.append(str(exc))
        else:
            ClinicInstrumentTexts.objects.update_or_create(
                clinic=clinic,
                instrument_id=instrument_id,
                defaults={
                    "definition": inst.to_dict(),
                    "imported_by": request.user,
                    "imported_at": timezone.now(),
                },
            )
            audit.record_request(
                request, "update", "clinic_settings", note=f"item texts {instrument_id}"
            )
            messages.success(request, f"Item texts for {inst.short_name} imported for this clinic.")
            return redirect("measures_clinic_settings")
    unlicensed = [i for i in registry.all_instruments() if not i.item_texts_licensed]
    imported = set(
        ClinicInstrumentTexts.objects.filter(clinic=clinic).values_list("instrument_id", flat=True)
    )
    return render(
        request,
        "measures/clinic_settings.html",
        {
            "settings": obj,
            "errors": errors,
            "unlicensed": unlicensed,
            "imported": imported,
            "fields": SETTINGS_FIELDS,
        },
        status=400 if errors else 200,
    )


# --- The client's answer form ----------------------------------------------------------------


def _form_items(inst: Any, answers: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    shown = [i for i in inst.items]
    for n, item in enumerate(shown, start=1):
        rows.append(
            {
                "item": item,
                "n": n,
                "value": answers.get(item.id),
                "str_value": "" if answers.get(item.id) is None else str(answers.get(item.id)),
            }
        )
    return rows


def _collect(inst: Any, post: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in inst.items:
        raw = post.get(item.id)
        if raw is not None and str(raw).strip() != "":
            out[item.id] = str(raw).strip()[:2000]
    return out


def _progress(inst: Any, answers: dict[str, Any]) -> dict[str, int]:
    scored = [i.id for i in inst.scored_items]
    return {
        "answered": sum(1 for i in scored if answers.get(i) not in (None, "")),
        "total": len(scored),
    }


def _below_scoring_minimum(inst: Any, result: scoring.ScoreResult) -> str:
    """Why these answers cannot be sent, when too few scored items are answered for a total.

    The minimum is the instrument's proration rule (docs/measures.md): a PHQ-9 or GAD-7 with more
    than one item missing has no total, so it is never stored as if the client had finished it.
    """
    if scoring.FLAG_INCOMPLETE not in result.flags:
        return ""
    needed = result.n_items - inst.scoring.prorate_max_missing
    some = "all" if needed == result.n_items else f"at least {needed} of the"
    return (
        f"Please answer {some} {result.n_items} questions before sending; you have answered "
        f"{result.n_answered}. Nothing was sent yet. You can also press “Save and finish later”."
    )


def _missing_key(result: scoring.ScoreResult) -> str:
    return ",".join(result.missing_items)


def _missing_confirmed(request: HttpRequest, result: scoring.ScoreResult) -> bool:
    # The confirmation names the exact unanswered items, so a changed set of answers asks again.
    return request.POST.get("action") == "send_anyway" and request.POST.get(
        "missing_seen"
    ) == _missing_key(result)


def _missing_confirmation(inst: Any, result: scoring.ScoreResult) -> dict[str, Any]:
    numbers = [inst.item(item_id).number for item_id in result.missing_items]
    safety_missing = bool(inst.safety and inst.safety.item in result.missing_items)
    return {
        "numbers": numbers,
        "count": len(numbers),
        "key": _missing_key(result),
        "first": result.missing_items[0],
        "safety_number": inst.item(inst.safety.item).number if safety_missing else None,
    }


def _answer_form(
    request: HttpRequest, adm: Administration, *, save_url: str, via_link: AccessLink | None
) -> HttpResponse:
    inst = adm.instrument
    client = adm.client
    if adm.started_at is None:
        adm.started_at = timezone.now()
        adm.status = Administration.Status.IN_PROGRESS
        adm.save(update_fields=["started_at", "status"])
    answers = dict(adm.partial_answers or {})
    error = ""
    confirm: dict[str, Any] | None = None
    if request.method == "POST":
        posted = _collect(inst, request.POST)
        if request.POST.get("idempotency_key") != str(adm.idempotency_key):
            error = "This form is out of date. Please check your answers and send them again."
            answers = posted
        elif request.POST.get("action") == "save":
            adm.partial_answers = posted
            adm.save(update_fields=["partial_answers"])
            messages.info(request, "Your answers are saved. You can come back and finish later.")
            return redirect(request.path)
        else:
            duration = (timezone.now() - adm.started_at).total_seconds() if adm.started_at else None
            try:
                result = scoring.score(inst, posted, duration_seconds=duration)
            except scoring.ScoringError as exc:
                error = f"{exc} Nothing was saved; please check that answer."
                answers = posted
            else:
                refusal = _below_scoring_minimum(inst, result)
                if refusal:
                    error = refusal
                    answers = posted
                elif result.missing_items and not _missing_confirmed(request, result):
                    confirm = _missing_confirmation(inst, result)
                    answers = posted
            if not error and confirm is None:
                with transaction.atomic():
                    if via_link is not None:
                        link = AccessLink.objects.select_for_update().get(pk=via_link.pk)
                        if link.used_at is None:
                            link.used_at = timezone.now()
                            link.save(update_fields=["used_at"])
                    text = str(posted.pop("do_differently", "") or "")
                    recorded = record_response(
                        client=client,
                        instrument_id=adm.instrument_id,
                        result=result,
                        answers=posted,
                        source=Response.Source.LINK if via_link else Response.Source.FORM,
                        actor=request.user if request.user.is_authenticated else None,
                        request=request,
                        administration=adm,
                        do_differently=text,
                    )
                if via_link is not None:
                    request.session[f"measures_done_{adm.pk}"] = True
                    return redirect("measures_link_done", administration_id=adm.pk)
                del recorded
                return redirect("measures_done", administration_id=adm.pk)
    return render(
        request,
        "measures/answer_form.html",
        {
            "administration": adm,
            "instrument": inst,
            "rows": _form_items(inst, answers),
            "progress": _progress(inst, answers),
            "error": error,
            "errors": [error] if error else [],
            "confirm": confirm,
            "save_url": save_url,
            "client": client,
        },
        status=400 if error else 200,
    )


def _save_partial_hx(request: HttpRequest, adm: Administration) -> HttpResponse:
    inst = adm.instrument
    posted = _collect(inst, request.POST)
    # Partial answers are checked too, so a resumed form never holds an impossible value.
    clean: dict[str, Any] = {}
    for item in inst.items:
        if item.id in posted:
            try:
                scoring.parse_answer(inst, item, posted[item.id])
            except scoring.ScoringError:
                continue
            clean[item.id] = posted[item.id]
    adm.partial_answers = clean
    adm.save(update_fields=["partial_answers"])
    return render(
        request,
        "measures/_progress_partial.html",
        {"progress": _progress(inst, clean), "saved": True},
    )


def _own_administration(request: HttpRequest, administration_id: uuid.UUID) -> Administration:
    client = client_or_404(
        request, signed_in_user(request).client_record.pk, record_type="measure_response", action=""
    )
    adm = (
        Administration.objects.select_related("client", "clinic")
        .filter(pk=administration_id, client=client)
        .first()
    )
    if adm is None:
        raise Http404
    return adm


@client_only
def answer(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    adm = _own_administration(request, administration_id)
    if adm.status == Administration.Status.COMPLETED:
        return redirect("measures_done", administration_id=adm.pk)
    if adm.status == Administration.Status.CANCELLED:
        return render(
            request,
            "measures/link_invalid.html",
            {"why": "cancelled", "crisis_line": adm.clinic.crisis_line},
            status=410,
        )
    return _answer_form(
        request, adm, save_url=reverse("measures_answer_save_hx", args=[adm.pk]), via_link=None
    )


@client_only
@require_POST
def answer_save_hx(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    adm = _own_administration(request, administration_id)
    if not adm.is_open:
        return HttpResponse(status=204)
    return _save_partial_hx(request, adm)


def _done_context(adm: Administration) -> dict[str, Any]:
    response = Response.objects.filter(administration=adm).first()
    if response is None:
        raise Http404
    return {
        "response": response,
        "instrument": registry.load(adm.instrument_id),
        "crisis_resources": adm.clinic.crisis_resources,
        "crisis_line": adm.clinic.crisis_line,
        "safety": response.item9_positive,
    }


@client_only
def done(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    adm = _own_administration(request, administration_id)
    return render(request, "measures/done.html", _done_context(adm))


def _link_or_page(request: HttpRequest, token: str) -> AccessLink | HttpResponse:
    link = AccessLink.lookup(token)
    if link is None:
        return render(request, "measures/link_invalid.html", {"why": "unknown"}, status=404)
    crisis_line = link.administration.clinic.crisis_line  # the clinic's own numbers
    if link.used_at is not None or link.administration.status == Administration.Status.COMPLETED:
        why = "used"
    elif link.expires_at <= timezone.now():
        why = "expired"
    elif link.administration.status == Administration.Status.CANCELLED:
        why = "cancelled"
    else:
        return link
    return render(
        request, "measures/link_invalid.html", {"why": why, "crisis_line": crisis_line}, status=410
    )


@public
def link_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The answer form through a single-use link; nothing else of the record is shown."""
    link = AccessLink.lookup(token)
    if (
        link is not None
        and request.method == "POST"
        and link.administration.status == Administration.Status.COMPLETED
        and request.POST.get("idempotency_key") == str(link.administration.idempotency_key)
    ):
        # A double submit or a reload of the form just sent: show the same result page (with
        # the crisis resources when they apply), never "link used".
        request.session[f"measures_done_{link.administration_id}"] = True
        return redirect("measures_link_done", administration_id=link.administration_id)
    found = _link_or_page(request, token)
    if isinstance(found, HttpResponse):
        return found
    if request.method == "GET" and not request.session.get(f"measures_link_seen_{found.pk}"):
        request.session[f"measures_link_seen_{found.pk}"] = True
        audit.record(
            clinic=found.clinic,
            actor=None,
            actor_role="client (by link)",
            action="view",
            record_type="measure_link",
            client=found.administration.client,
            request=request,
        )
    return _answer_form(
        request,
        found.administration,
        save_url=reverse("measures_link_save_hx", args=[token]),
        via_link=found,
    )


@public
@require_POST
def link_save_hx(request: HttpRequest, token: str) -> HttpResponse:
    found = _link_or_page(request, token)
    if isinstance(found, HttpResponse):
        return HttpResponse(status=204)
    return _save_partial_hx(request, found.administration)


@public
def link_done(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """After a link submission; only the browser that submitted sees it (session flag)."""
    if not request.session.get(f"measures_done_{administration_id}"):
        return render(request, "measures/link_invalid.html", {"why": "used"}, status=410)
    adm = Administration.objects.select_related("clinic").filter(pk=administration_id).first()
    if adm is None:
        raise Http404
    return render(request, "measures/done.html", _done_context(adm) | {"via_link": True})
