from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from alliance.core import readiness
from alliance.core.access import public


@public
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "core/welcome.html")
    role = request.user.role
    if role in {"therapist", "supervisor"}:
        return redirect("caseload")
    if role == "admin":
        return redirect("clinic_home")
    if role == "client":
        return redirect("client_home")
    return render(request, "core/no_role.html", status=403)


@public
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. No database, session or cookie: a database outage must
    not make the load balancer restart healthy web processes (readiness says that)."""
    response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = str(len(response.content))
    return response


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


@public
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness for a load balancer: 200 when every check passes, else 503; no session, no write."""
    checks = readiness.check()
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )
