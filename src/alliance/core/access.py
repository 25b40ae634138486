"""Deny-by-default access control.

Every view declares who may use it with one of the decorators below. A view without a
rule is refused at run time by ``DenyByDefaultMiddleware`` and fails the URL-walking test.
Outsiders always get 404, never a hint that a record exists.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.dispatch import Signal
from django.http import Http404, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from alliance.accounts.models import Membership, User

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]

# Sent for every 403 or 404 answered to a signed-in person (``request`` is passed), so the
# app that knows the records behind a URL can audit refused access (alliance.clients.refusals).
access_refused = Signal()
REFUSED_STATUSES = frozenset({403, 404})


@dataclass(frozen=True)
class AccessRule:
    kind: str  # "public", "authenticated", "staff", "staff+client", "client"
    roles: frozenset[str] = frozenset()

    def __str__(self) -> str:
        if self.roles:
            return f"{self.kind}({', '.join(sorted(self.roles))})"
        return self.kind


def _mark(view: View, rule: AccessRule) -> View:
    view.access_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: View) -> View:
    """Anyone, signed in or not (sign-in pages, health check)."""
    return _mark(view, AccessRule("public"))


def authenticated(view: View) -> View:
    """Any signed-in person; the view must scope what it shows to that person."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return _mark(wrapper, AccessRule("authenticated"))


def staff(*roles: str, clients: bool = False, forbidden: str = "") -> Callable[[View], View]:
    """Signed-in staff whose active membership has one of ``roles``; others get 404.

    ``clients=True`` lets signed-in clients in as well (the view then scopes them to their own
    record). ``forbidden`` answers others 403 with that reason instead of 404, for a list that
    names no record (the JSON alert list).
    """

    allowed = frozenset(roles)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = user.membership
            if membership is None and clients and is_client(user):
                return view(request, *args, **kwargs)
            if membership is None or membership.role not in allowed:
                if forbidden:
                    raise PermissionDenied(forbidden)
                raise Http404
            return view(request, *args, **kwargs)

        return _mark(wrapper, AccessRule("staff+client" if clients else "staff", allowed))

    return decorator


def is_client(user: Any) -> bool:
    """A signed-in person with a client record and no staff membership."""
    return getattr(user, "client_record", None) is not None and user.membership is None


def client_only(view: View) -> View:
    """A signed-in client, acting on their own record only."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="client_signin")
        if not is_client(user):
            raise Http404
        return view(request, *args, **kwargs)

    return _mark(wrapper, AccessRule("client"))


def signed_in_user(request: HttpRequest) -> User:
    """``request.user`` as the signed-in ``User`` it is in a view (or a panel it renders) behind
    ``@authenticated``, ``@staff(...)`` or ``@client_only``: those decorators turn anonymous
    requests away first. Only narrows the type; it checks nothing at run time."""
    return cast("User", request.user)


def staff_membership(request: HttpRequest) -> Membership:
    """The active membership of the signed-in user in a view behind ``@staff(...)``, which
    refuses anyone without one. Only narrows the type; it checks nothing at run time."""
    return cast("Membership", signed_in_user(request).membership)


# Third-party views that carry their own access control, with the reason they are exempt.
EXEMPT_VIEW_MODULES: dict[str, str] = {
    "allauth.": "django-allauth: sign-in, MFA and password flows (require login where needed)",
    "django.views.static": "static files",
    "django.contrib.staticfiles": "static files",
}

# Allauth pages a client may see (they have no password and no MFA to manage).
CLIENT_ALLAUTH_URL_NAMES = {"account_logout"}


def rule_for(view: Any) -> AccessRule | str | None:
    """The access rule of a view, an exemption reason, or None when it has neither."""
    while isinstance(view, functools.partial):
        view = view.func
    rule = getattr(view, "access_rule", None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, "access_rule", None)
    if rule is not None:
        return rule
    module = getattr(view, "__module__", "") or ""
    for prefix, reason in EXEMPT_VIEW_MODULES.items():
        if module.startswith(prefix):
            return reason
    return None


class DenyByDefaultMiddleware:
    """Refuse any view that declares no access rule (404, and an error in the log), and
    announce every refusal to a signed-in person (``access_refused``) so it can be audited."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            response.status_code in REFUSED_STATUSES
            and user is not None
            and user.is_authenticated
            and request.resolver_match is not None
        ):
            access_refused.send(
                sender=DenyByDefaultMiddleware, request=request, status=response.status_code
            )
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Iterable[Any], view_kwargs: Any
    ) -> HttpResponse | None:
        rule = rule_for(view_func)
        if rule is None:
            logger.error(
                "Refused a view without an access rule: %s",
                getattr(view_func, "__qualname__", view_func),
            )
            raise Http404
        module = getattr(view_func, "__module__", "") or ""
        if module.startswith("allauth.") and request.user.is_authenticated:
            is_client = request.user.membership is None
            url_name = request.resolver_match.url_name if request.resolver_match else None
            if is_client and url_name not in CLIENT_ALLAUTH_URL_NAMES:
                raise Http404
        return None
