"""Helpers for emails sent by the worker, where there is no request to build absolute URLs from."""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    """The public base URL for links in emails (``SITE_URL``; the dev server's when unset)."""
    return getattr(settings, "SITE_URL", "") or "http://localhost:8000"
