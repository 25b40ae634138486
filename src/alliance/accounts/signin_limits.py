"""Limits on client sign-in links, counted per identity so no stranger can lock everyone out.

A link that fails counts against the client the token names (when it names one) and against
the address it came from. Too many failures for one client pause only that client's links;
too many from one address pause only that address. Nobody else is touched, so a crawler or
a handful of expired links cannot turn into a clinic-wide outage. Staff passwords are locked
by django-axes per account, separately.

Asking for a link is limited per email address and per address too (email bombing), and the
answer is the same whether or not the address is known.

Counters live in the shared cache, so every app process sees the same counts.
"""

from __future__ import annotations

import base64
import hashlib

from django.conf import settings
from django.core.cache import cache
from sesame import packers

# A client clicking old emails now and then stays far below these; a guesser does not.
LINK_FAILURES_PER_CLIENT = 5
LINK_FAILURES_PER_IP = 20
LINK_REQUESTS_PER_EMAIL = 5
LINK_REQUESTS_PER_IP = 20
REQUEST_WINDOW_SECONDS = 3600


def pause_minutes() -> int:
    """How long links stay paused after too many failures (the staff lockout's cool-off)."""
    return round(settings.AXES_COOLOFF_TIME * 60)


def _key(kind: str, value: str) -> str:
    # Hashed, so the cache holds no email addresses or network addresses in clear.
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"alliance.signin.{kind}.{digest}"


def _count(key: str) -> int:
    return int(cache.get(key, 0))


def _bump(key: str, window_seconds: int) -> int:
    if cache.add(key, 1, window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, window_seconds)
        return 1


def token_owner(token: str) -> str | None:
    """The primary key the token names, read without checking its signature, or None.

    A forged token can name any client whose id the forger knows; that pauses only that
    client's links, which is the price of counting failures per client at all.
    """
    if not token or len(token) > 200:
        return None

    try:
        data = base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4))
        primary_key, _rest = packers.packer.unpack_pk(data)
    except Exception:  # noqa: BLE001 - any malformed token simply names nobody
        return None
    return str(primary_key)


def link_paused_for_client(owner: str | None) -> bool:
    return owner is not None and _count(_key("link-fail-client", owner)) >= LINK_FAILURES_PER_CLIENT


def link_paused_for_ip(ip: str | None) -> bool:
    return ip is not None and _count(_key("link-fail-ip", ip)) >= LINK_FAILURES_PER_IP


def record_link_failure(owner: str | None, ip: str | None) -> None:
    window = pause_minutes() * 60
    if owner is not None:
        _bump(_key("link-fail-client", owner), window)
    if ip is not None:
        _bump(_key("link-fail-ip", ip), window)


def clear_link_failures(owner: str) -> None:
    cache.delete(_key("link-fail-client", owner))


def may_send_link(email: str, ip: str | None) -> bool:
    """Count one request for a link; False once the address or the email asked too often."""
    allowed = True
    if (
        ip is not None
        and _bump(_key("link-request-ip", ip), REQUEST_WINDOW_SECONDS) > LINK_REQUESTS_PER_IP
    ):
        allowed = False
    if _bump(_key("link-request-email", email), REQUEST_WINDOW_SECONDS) > LINK_REQUESTS_PER_EMAIL:
        allowed = False
    return allowed
