"""Measures pages for the client's clinicians: assigning instruments, single-use links, paper
entry, episodes of care, one response, and FHIR export and import.

Every read of client data goes through ``alliance.clients.access``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from alliance.clients.access import client_or_404, clinical_staff, owned_or_404
from alliance.core import audit
from alliance.core.access import signed_in_user
from alliance.core.languages import DEFAULT_LANGUAGE, configured_languages
from alliance.measures import registry, scoring, tasks
from alliance.measures.fhir import (
    FhirImportError,
    fhir_response_language,
    fhir_to_response,
    response_to_fhir,
)
from alliance.measures.models import (
    ASSIGNABLE,
    AccessLink,
    Administration,
    Assignment,
    EpisodeOfCare,
    MeasureSettings,
    Response,
    instrument_choices,
    instrument_for_clinic,
)
from alliance.measures.services import record_response, record_type_for

# --- Clinician: assign, paper entry, episodes, links -----------------------------------------


@clinical_staff
@require_POST
def assign(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = client_or_404(
        request, client_id, write=True, record_type="measure_assignment", action=""
    )
    instrument_id = request.POST.get("instrument", "")
    if instrument_id not in ASSIGNABLE:
        messages.error(request, _("Choose an instrument from the list; nothing was assigned."))
        return redirect("client_detail", client_id=client.pk)
    inst = registry.load(instrument_id)

    if not instrument_for_clinic(client.clinic, instrument_id).has_item_texts:
        messages.error(
            request,
            _(
                "%(instrument)s has no item texts in this clinic yet; a clinic admin can import "
                "the licensed texts, or enter totals from paper. Nothing was assigned."
            )
            % {"instrument": inst.short_name},
        )
        return redirect("client_detail", client_id=client.pk)
    every = request.POST.get("every_days", "").strip()
    every_days: int | None = None
    if every:
        if not every.isdigit() or not 1 <= int(every) <= 365:
            messages.error(
                request,
                _("Repeat every 1 to 365 days, or leave it empty for once; nothing was assigned."),
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
    how = (
        ngettext("every %(n)d day", "every %(n)d days", every_days) % {"n": every_days}
        if every_days
        else _("once")
    )
    messages.success(
        request,
        _("%(instrument)s assigned (%(how)s). %(name)s will see it in their area.")
        % {"instrument": inst.short_name, "how": how, "name": client.display_name},
    )
    return redirect("client_detail", client_id=client.pk)


@clinical_staff
@require_POST
def issue_link(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """A single-use link the clinician can send to the client; shown once, stored hashed."""
    adm, client = owned_or_404(
        request,
        Administration,
        administration_id,
        write=True,
        record_type="measure_assignment",
        action="",
    )
    if not adm.is_open:
        messages.error(
            request, _("That questionnaire is already completed or cancelled; no link was made.")
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


@clinical_staff
@require_POST
def email_link(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """Email the client a single-use link to an open questionnaire, through the worker.

    A second press within five minutes (double submit, impatient retry) sends nothing more.
    """

    adm, client = owned_or_404(
        request,
        Administration,
        administration_id,
        write=True,
        record_type="measure_assignment",
        action="",
    )
    if not adm.is_open:
        messages.error(
            request, _("That questionnaire is already completed or cancelled; no link was made.")
        )
        return redirect("client_detail", client_id=client.pk)
    user = client.user
    if user is None or not user.email or not user.is_active:
        messages.error(
            request,
            _(
                "%(name)s has no active email address on file; make a single-use link and send "
                "it another way. Nothing was sent."
            )
            % {"name": client.display_name},
        )
        return redirect("client_detail", client_id=client.pk)
    if not cache.add(f"measures:email-link:{adm.pk}", "sent", timeout=EMAIL_LINK_GAP_SECONDS):
        messages.info(
            request,
            _("A link to this questionnaire was emailed a moment ago; nothing more was sent."),
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
        _("A single-use link to the %(instrument)s will be emailed to %(name)s shortly.")
        % {"instrument": adm.instrument.short_name, "name": client.display_name},
    )
    return redirect("client_detail", client_id=client.pk)


@clinical_staff
def paper_entry(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Score-only entry of a total given on paper, for any instrument."""
    client = client_or_404(
        request, client_id, write=True, record_type="measure_response", action=""
    )
    choices = instrument_choices(tuple(i.id for i in registry.all_instruments()))
    languages = configured_languages()
    error = ""
    if request.method == "POST":
        instrument_id = request.POST.get("instrument", "")
        raw_total = request.POST.get("total", "").strip()
        raw_date = request.POST.get("date", "").strip()
        language = request.POST.get("language", "") or DEFAULT_LANGUAGE
        try:
            if instrument_id not in dict(choices):
                raise scoring.ScoringError(_("Instrument: choose one from the list"))
            if language not in dict(languages):
                raise scoring.ScoringError(
                    _("Language of the paper form: choose one from the list")
                )
            try:
                total = float(raw_total)
            except ValueError:
                raise scoring.ScoringError(
                    _("Total: %(value)s is not a number") % {"value": repr(raw_total)}
                ) from None
            try:
                day = dt.date.fromisoformat(raw_date) if raw_date else timezone.localdate()
            except ValueError:
                raise scoring.ScoringError(_("Date: use the form YYYY-MM-DD")) from None
            if day > timezone.localdate():
                raise scoring.ScoringError(_("Date: cannot be in the future"))
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
                language=language,
            )
            messages.success(
                request,
                _("%(instrument)s total %(total)s recorded.")
                % {"instrument": registry.load(instrument_id).short_name, "total": f"{total:g}"},
            )
            return redirect("client_detail", client_id=client.pk)
    return render(
        request,
        "measures/paper_entry.html",
        {
            "client": client,
            "choices": choices,
            "languages": languages,
            "error": error,
            "post": request.POST,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


@clinical_staff
@require_POST
def episode_change(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """End the current episode of care, or start a new one (which ends the current one)."""
    client = client_or_404(request, client_id, write=True, record_type="episode_of_care", action="")
    today = timezone.localdate()
    current = client.episodes.filter(ended__isnull=True).first()
    with transaction.atomic():
        if request.POST.get("action") == "end":
            if current is None:
                messages.error(request, _("There is no ongoing episode of care to end."))
                return redirect("client_detail", client_id=client.pk)
            current.ended = today
            current.save(update_fields=["ended"])
            messages.success(request, _("Episode of care ended."))
        else:
            if current is not None:
                current.ended = today - dt.timedelta(days=1) if current.started < today else today
                current.save(update_fields=["ended"])
            EpisodeOfCare.objects.create(clinic=client.clinic, client=client, started=today)
            messages.success(
                request,
                _("A new episode of care starts today; outcomes count from its first score."),
            )
        audit.record_request(request, "update", "episode_of_care", client=client)
    return redirect("client_detail", client_id=client.pk)


# --- Clinician: one response, FHIR export and import ------------------------------------------


def _response_record_type(response: Response) -> str:
    return record_type_for(response.instrument_id)


@clinical_staff
def response_detail(request: HttpRequest, response_id: uuid.UUID) -> HttpResponse:
    response, client = owned_or_404(
        request, Response, response_id, record_type=_response_record_type, action="view"
    )
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


@clinical_staff
def fhir_export(request: HttpRequest, response_id: uuid.UUID) -> HttpResponse:
    """Download one response as a FHIR R4B Bundle (QuestionnaireResponse + Observations)."""
    response, client = owned_or_404(
        request, Response, response_id, record_type=_response_record_type, action="export"
    )
    if not response.answers:
        messages.error(request, _("Totals entered from paper have no item answers to export."))
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
        language=response.language,
    )
    out = JsonResponse(bundle, json_dumps_params={"indent": 2})
    out["Content-Type"] = "application/fhir+json"
    out["Content-Disposition"] = (
        f'attachment; filename="{response.instrument_id}-{response.pk}.fhir.json"'
    )
    return out


MAX_IMPORT_BYTES = 512 * 1024


@clinical_staff
def fhir_import(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Upload a QuestionnaireResponse or Bundle; an invalid resource names the field, stores nothing."""
    client = client_or_404(
        request, client_id, write=True, record_type="measure_response", action=""
    )
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise FhirImportError(_("file: choose a JSON file to upload"))
            assert upload.size is not None  # Django's upload handlers always set it
            if upload.size > MAX_IMPORT_BYTES:
                raise FhirImportError(_("file: larger than 512 KB"))
            try:
                data = json.loads(upload.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FhirImportError(
                    _("file: not valid JSON (%(error)s)") % {"error": exc.__class__.__name__}
                ) from None
            instrument_id, answers = fhir_to_response(data)
            language = fhir_response_language(data)
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
                language=language,
            )
            messages.success(
                request,
                _("%(instrument)s imported.")
                % {"instrument": registry.load(instrument_id).short_name},
            )
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
