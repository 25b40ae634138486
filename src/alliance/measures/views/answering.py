"""The answer form itself, shared by the client area and the single-use link: scoring on
submit, the confirmation for unanswered items, saving partial answers, and the result page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from alliance.core.languages import DEFAULT_LANGUAGE, active_language
from alliance.measures import registry, scoring
from alliance.measures.models import AccessLink, Administration, Response
from alliance.measures.services import record_response


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


def answer_form(
    request: HttpRequest, adm: Administration, *, save_url: str, via_link: AccessLink | None
) -> HttpResponse:
    inst = adm.instrument
    # What the client reads: the official translation in the active language where there is
    # one, else the English original with a note. Scoring always uses the same items and values.
    requested = active_language()
    shown = inst.localized(requested)
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
                        language=shown.language,
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
            "instrument": shown,
            "shown_in_english": shown.language != requested and requested != DEFAULT_LANGUAGE,
            "rows": _form_items(shown, answers),
            "progress": _progress(inst, answers),
            "error": error,
            "errors": [error] if error else [],
            "confirm": confirm,
            "save_url": save_url,
            "client": client,
        },
        status=400 if error else 200,
    )


def save_partial_hx(request: HttpRequest, adm: Administration) -> HttpResponse:
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


def done_context(adm: Administration) -> dict[str, Any]:
    response = Response.objects.filter(administration=adm).first()
    if response is None:
        raise Http404
    return {
        "response": response,
        "instrument": registry.load(adm.instrument_id).localized(response.language),
        "crisis_resources": adm.clinic.crisis_resources_for(),
        "crisis_line": adm.clinic.crisis_line_for(),
        "safety": response.item9_positive,
    }
