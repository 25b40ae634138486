"""The signed-in client's answer form and result page (the client area)."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alliance.clients.access import owned_or_404
from alliance.core.access import client_only
from alliance.measures.models import Administration
from alliance.measures.views.answering import answer_form, done_context, save_partial_hx


@client_only
def answer(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    adm, _owner = owned_or_404(
        request,
        Administration.objects.select_related("client", "clinic"),
        administration_id,
        record_type="measure_response",
        action="",
    )
    if adm.status == Administration.Status.COMPLETED:
        return redirect("measures_done", administration_id=adm.pk)
    if adm.status == Administration.Status.CANCELLED:
        return render(
            request,
            "measures/link_invalid.html",
            {"why": "cancelled", "crisis_line": adm.clinic.crisis_line_for()},
            status=410,
        )
    return answer_form(
        request, adm, save_url=reverse("measures_answer_save_hx", args=[adm.pk]), via_link=None
    )


@client_only
@require_POST
def answer_save_hx(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    adm, _owner = owned_or_404(
        request,
        Administration.objects.select_related("client", "clinic"),
        administration_id,
        record_type="measure_response",
        action="",
    )
    if not adm.is_open:
        return HttpResponse(status=204)
    return save_partial_hx(request, adm)


@client_only
def done(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    adm, _owner = owned_or_404(
        request,
        Administration.objects.select_related("client", "clinic"),
        administration_id,
        record_type="measure_response",
        action="",
    )
    return render(request, "measures/done.html", done_context(adm))
