"""The answer form through a single-use link, for a client without an account: the link is
the only key, and nothing else of the record is shown."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from alliance.core import audit
from alliance.core.access import public
from alliance.core.languages import use_client_language
from alliance.measures.models import AccessLink, Administration
from alliance.measures.views.answering import answer_form, done_context, save_partial_hx


def _link_or_page(request: HttpRequest, token: str) -> AccessLink | HttpResponse:
    link = AccessLink.lookup(token)
    if link is None:
        return render(request, "measures/link_invalid.html", {"why": "unknown"}, status=404)
    use_client_language(request, link.administration.client)
    crisis_line = link.administration.clinic.crisis_line_for()  # the clinic's own numbers
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
    return answer_form(
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
    return save_partial_hx(request, found.administration)


@public
def link_done(request: HttpRequest, administration_id: uuid.UUID) -> HttpResponse:
    """After a link submission; only the browser that submitted sees it (session flag)."""
    if not request.session.get(f"measures_done_{administration_id}"):
        return render(request, "measures/link_invalid.html", {"why": "used"}, status=410)
    adm = Administration.objects.select_related("clinic").filter(pk=administration_id).first()
    if adm is None:
        raise Http404
    return render(request, "measures/done.html", done_context(adm) | {"via_link": True})
