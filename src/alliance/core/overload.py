"""Shed load instead of queueing it: a per-process limit on requests inside the application.

A web process can only do so much at once. Without a limit, a burst beyond that piles up in
queues (the kernel's listen backlog, the server's thread pool) and every request waits behind
all the others, long after its client has given up: the server then works for minutes on
answers nobody reads and cannot even answer its own health check.

``ConcurrencyLimiter`` wraps a WSGI application. Each process has a fixed number of slots;
a request that finds them all busy may wait a moment in a small waiting room (half as many
places as slots, one second at most), so that a spike of a fraction of a second does not turn
into refusals; beyond that it is answered at once with ``503 Service Unavailable`` and
``Retry-After``, without running the application. The threads of the server's pool are twice
the slots, so spare ones stay free to answer these refusals quickly while the slots work.
A request that waited in the server's queue longer than ``max_queue_seconds`` is refused the
same way: its client has most likely gone.

Liveness (``/health/``) never takes a slot: it is cheap and must answer under any load.

This module is Django-free: it sees only the WSGI environ.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger("alliance.overload")

# Seconds the request waited in the server's queue for a thread, when the server tells.
QUEUE_WAIT_KEY = "alliance.queue_wait"
RETRY_AFTER_SECONDS = 5
# A request that finds every slot busy may wait this long for one, if the waiting room has space.
SLOT_WAIT_SECONDS = 1.0
# Shed requests are counted and logged at most this often, so a burst is one log line, not
# one per refused request.
LOG_EVERY_SECONDS = 10.0

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_HTML = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b"<title>Busy: please try again</title></head><body>"
    b"<h1>Alliance is busy right now</h1>"
    b"<p>Too many people are using it at this moment. Nothing was saved from this request. "
    b"Please try again in a few seconds.</p></body></html>"
)
_JSON = json.dumps(
    {"detail": "The service is busy. Nothing was changed. Try again in a few seconds."}
).encode()


class ConcurrencyLimiter:
    """Run at most ``slots`` requests of ``app`` at once in this process; refuse the rest fast."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        slots: int,
        max_queue_seconds: float,
        exempt_paths: Iterable[str] = ("/health/",),
        waiting_room: int | None = None,
        slot_wait_seconds: float = SLOT_WAIT_SECONDS,
        retry_after: int = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.app = app
        self.slots = slots
        self.max_queue_seconds = max_queue_seconds
        self.exempt_paths = frozenset(exempt_paths)
        self.waiting_room = slots // 2 if waiting_room is None else waiting_room
        self.slot_wait_seconds = slot_wait_seconds
        self.retry_after = retry_after
        self.clock = clock
        self._waiting = 0
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        # token -> when the request took its slot, for the stall watchdog.
        self._running: dict[int, float] = {}
        self._next_token = 0
        self.shed_total = 0
        self._shed_since_log = 0
        self._last_log = float("-inf")
        self._last_reason = ""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in self.exempt_paths:
            return self.app(environ, start_response)
        waited = environ.get(QUEUE_WAIT_KEY)
        if waited is not None and float(waited) > self.max_queue_seconds:
            return self._refuse(environ, start_response, "waited too long in the queue")
        if not self._free.acquire(blocking=False) and not self._wait_for_slot():
            return self._refuse(environ, start_response, "all slots busy")
        with self._lock:
            token = self._next_token
            self._next_token += 1
            self._running[token] = self.clock()
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._release(token)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None and isinstance(result, file_wrapper):
            # A file sent by the server (sendfile) is I/O, not work: free the slot now and keep
            # the wrapper as it is so the server still recognises it.
            self._release(token)
            return result
        return _ReleaseOnClose(result, lambda: self._release(token))

    def _wait_for_slot(self) -> bool:
        """A short wait in a small waiting room, so that a moment's spike is absorbed.

        Only ``waiting_room`` requests may wait at once, for ``slot_wait_seconds`` at most; the
        server's other spare threads stay free to refuse the rest at once.
        """
        with self._lock:
            if self._waiting >= self.waiting_room:
                return False
            self._waiting += 1
        try:
            return self._free.acquire(timeout=self.slot_wait_seconds)
        finally:
            with self._lock:
                self._waiting -= 1

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def longest_running(self) -> float:
        """Seconds the oldest request still inside the application has run (0 when idle)."""
        with self._lock:
            if not self._running:
                return 0.0
            oldest = min(self._running.values())
        return max(0.0, self.clock() - oldest)

    def _release(self, token: int) -> None:
        with self._lock:
            if self._running.pop(token, None) is None:
                return
        self._free.release()

    def _refuse(
        self, environ: dict[str, Any], start_response: StartResponse, reason: str
    ) -> list[bytes]:
        wants_json = environ.get("PATH_INFO", "").startswith("/api/") or "json" in environ.get(
            "HTTP_ACCEPT", ""
        )
        body, content_type = (
            (_JSON, "application/json") if wants_json else (_HTML, "text/html; charset=utf-8")
        )
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(self.retry_after)),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                ("X-Frame-Options", "DENY"),
            ],
        )
        self._count_shed(reason)
        return [body] if environ.get("REQUEST_METHOD") != "HEAD" else []

    def _count_shed(self, reason: str) -> None:
        with self._lock:
            self.shed_total += 1
            self._shed_since_log += 1
            self._last_reason = reason
        self.flush_log()

    def flush_log(self) -> None:
        """Log the refusals not yet logged, at most once per ``LOG_EVERY_SECONDS``.

        Called on each refusal and by the server's heartbeat, so the tail of a burst is
        logged too once it ends.
        """
        with self._lock:
            now = self.clock()
            if not self._shed_since_log or now - self._last_log < LOG_EVERY_SECONDS:
                return
            count, self._shed_since_log = self._shed_since_log, 0
            self._last_log = now
            reason = self._last_reason
        # Counts only: no path, no client, nothing about the request.
        logger.warning(
            "overloaded: refused %d request(s) with 503 (%s; %d slots in this process)",
            count,
            reason,
            self.slots,
        )


class _ReleaseOnClose:
    """The application's response iterable, freeing the slot once the server has sent it."""

    def __init__(self, inner: Iterable[bytes], release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._release()
