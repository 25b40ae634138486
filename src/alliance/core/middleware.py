"""The liveness probe, automatic logoff after inactivity (HIPAA 45 CFR 164.312(a)(2)(iii)), and no
caching of pages."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from alliance.core.views import health, ready

LAST_SEEN_KEY = "alliance.last_seen"
# Seconds between rewrites of the last-activity time (see InactivityLogoutMiddleware).
LAST_SEEN_RESOLUTION = 60
HEALTH_PATH = "/health/"
READY_PATH = "/ready/"


class HealthCheckMiddleware:
    """Answer ``/health/`` and ``/ready/`` before any other middleware runs.

    A load balancer probes each web process by its address, often on plain HTTP and with a
    Host header that is not a public host name. Answering first means no host validation, no
    HTTPS redirect, no session lookup and no cookie: liveness shows that the process serves,
    and nothing else.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return health(request)
        if request.path_info == READY_PATH:
            return ready(request)
        return self.get_response(request)


def idle_limit_seconds(user: object) -> int:
    membership = getattr(user, "membership", None)
    if membership is not None:
        minutes = membership.clinic.staff_idle_minutes or settings.STAFF_IDLE_MINUTES
    else:
        minutes = settings.CLIENT_IDLE_MINUTES
    return int(minutes) * 60


class InactivityLogoutMiddleware:
    """Sign a person out once they have been idle longer than their role allows.

    The timestamp lives in the session (database-backed), so any app process can check it.

    Writing it on every request would make every page view a database write (and contend for
    SQLite's single writer under load), so it is rewritten only once it is more than
    ``LAST_SEEN_RESOLUTION`` seconds old. The recorded time then lags the true last request by
    under that resolution, and a person is signed out at most that much early, never late: the
    safe side for an automatic logoff. The session (and its cookie) expiry is renewed on the same
    write, so it runs ``limit`` from the recorded time, like the check below.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            limit = idle_limit_seconds(request.user)
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - float(last_seen) > limit:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {limit // 60} minutes without activity, "
                    "to keep your information private.",
                )
            elif (
                last_seen is None
                or now - float(last_seen) >= LAST_SEEN_RESOLUTION
                or request.session.get("_session_expiry") != limit
            ):
                request.session[LAST_SEEN_KEY] = now
                request.session.set_expiry(limit)
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (Django's never-cache headers) on every page the app renders.

    Every dynamic page here is about a person: a browser must not keep it for the back button
    after sign-out on a shared computer, and no proxy may cache it. Static files are served by
    WhiteNoise before this runs, with their own long-lived caching; a view that sets its own
    Cache-Control keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
