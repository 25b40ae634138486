"""The client's own data: everything we hold about them, as JSON, a readable page and a PDF.

It reads from every app, so it sits with the reports at the top of the app graph. All three are
built in the client's own language (``language_for(client)``), whatever the request's: the
prose values in the JSON (flags, statuses, notes) are translated, its keys never are.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation

from alliance.clients.access import own_client
from alliance.core.access import client_only
from alliance.core.languages import language_for
from alliance.exports.data import client_data, client_zone, for_people, you_facts
from alliance.exports.pdf import render_pdf


@client_only
def my_data_json(request: HttpRequest) -> HttpResponse:
    client = own_client(request, record_type="export", action="export")
    with translation.override(language_for(client)):
        data = client_data(client)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="my-alliance-data.json"'
    return response


@client_only
def my_data_summary(request: HttpRequest) -> HttpResponse:
    client = own_client(request, record_type="export", action="export")
    with translation.override(language_for(client)):
        data = client_data(client)
        data = for_people(data, client_zone(data))  # times as the client reads them; JSON: ISO
        response = render(
            request, "exports/my_data_summary.html", {"data": data, "you_facts": you_facts(data)}
        )
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="my-alliance-summary.html"'
    return response


@client_only
def my_data_pdf(request: HttpRequest) -> HttpResponse:
    client = own_client(request, record_type="export", action="export")
    with translation.override(language_for(client)):
        pdf = render_pdf(client_data(client))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-alliance-data.pdf"'
    return response
