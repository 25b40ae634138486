"""Request types for annotations."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """The type of a request in a view: ``django_htmx.middleware.HtmxMiddleware`` (in
    ``MIDDLEWARE``) sets ``request.htmx`` on every request. Used in annotations only."""

    htmx: HtmxDetails
