"""The client's own data: everything we hold about them, as JSON, a readable page and a PDF.

It reads from every app, so it sits with the reports at the top of the app graph.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from alliance.clients.access import own_client
from alliance.core.access import client_only
from alliance.exports.data import client_data, client_zone, readable, you_facts
from alliance.exports.pdf import render_pdf


@client_only
def my_data_json(request: HttpRequest) -> HttpResponse:
    client = own_client(request, record_type="export", action="export")
    response = JsonResponse(
        client_data(client), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = 'attachment; filename="my-alliance-data.json"'
    return response


@client_only
def my_data_summary(request: HttpRequest) -> HttpResponse:
    client = own_client(request, record_type="export", action="export")
    data = client_data(client)
    data = readable(data, client_zone(data))  # times as the client reads them; JSON keeps ISO
    response = render(
        request, "exports/my_data_summary.html", {"data": data, "you_facts": you_facts(data)}
    )
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="my-alliance-summary.html"'
    return response


@client_only
def my_data_pdf(request: HttpRequest) -> HttpResponse:
    client = own_client(request, record_type="export", action="export")
    response = HttpResponse(render_pdf(client_data(client)), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-alliance-data.pdf"'
    return response
