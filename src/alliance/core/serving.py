"""The production web server behind `alliance serve`: gunicorn, threaded workers, load shedding.

gunicorn's master process binds the socket, forks the worker processes, restarts any that die
or stop their heartbeat, and recycles each after a number of requests. Each worker is
gunicorn's threaded worker with two additions:

* it tells the application how long each request waited in its thread-pool queue, so that
  ``ConcurrencyLimiter`` can refuse a request whose client has most likely given up;
* it stops its heartbeat while one request has run longer than the request timeout, so the
  master replaces the worker (gunicorn's threaded worker has no request timeout of its own).

Why gunicorn and these choices: docs/deploy.md.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from alliance.core.logging import RedactFilter
from alliance.core.overload import QUEUE_WAIT_KEY, ConcurrencyLimiter, WSGIApp

# The master replaces a worker whose heartbeat stopped for this long. The worker's main loop
# beats about once a second whatever its threads do, so this only fires on a real stall.
HEARTBEAT_TIMEOUT_SECONDS = 10
# How often a thread holding the GIL hands it over (Python's default is 5 ms). A refusal is a
# few socket calls, each of which gives up the GIL and must win it back from threads busy
# rendering pages: shorter turns keep refusals fast under overload, for a negligible cost in
# switching.
GIL_SWITCH_INTERVAL_SECONDS = 0.001


@dataclass(frozen=True)
class ServeOptions:
    """What `alliance serve` runs with (defaults from the WEB_* settings)."""

    bind: str
    workers: int
    threads: int  # requests each worker process runs at once (its slots)
    timeout: int  # seconds one request may run before its worker is replaced
    graceful_timeout: int
    max_requests: int
    backlog: int
    max_queue_seconds: float
    access_log: bool = False

    @property
    def pool_threads(self) -> int:
        # Spare threads beyond the slots answer refusals while every slot is busy.
        return self.threads * 2

    def gunicorn_settings(self) -> dict[str, Any]:
        return {
            "bind": [self.bind],
            "workers": self.workers,
            "worker_class": "alliance.core.serving.SheddingWorker",
            "threads": self.pool_threads,
            "timeout": HEARTBEAT_TIMEOUT_SECONDS,
            "graceful_timeout": self.graceful_timeout,
            "max_requests": self.max_requests,
            # Workers started together must not all recycle at the same moment.
            "max_requests_jitter": max(1, self.max_requests // 10) if self.max_requests else 0,
            "backlog": self.backlog,
            # Load Django once in the master: a broken app fails before any worker forks, and a
            # recycled worker starts in milliseconds.
            "preload_app": True,
            # gunicorn's control socket sits at one path per user: two instances would collide,
            # and nothing here uses it.
            "control_socket_disable": True,
            "accesslog": "-" if self.access_log else None,
            "errorlog": "-",
            "proc_name": "alliance-web",
            "on_starting": _redact_server_logs,
        }


def _redact_server_logs(arbiter: Any) -> None:
    # gunicorn logs request lines on errors (and in the access log): paths hold record ids
    # and query strings may hold sign-in tokens.
    for log in (arbiter.log.error_log, arbiter.log.access_log):
        log.addFilter(RedactFilter())


class AllianceServer(BaseApplication):
    """gunicorn's application object: its settings come from ``ServeOptions``, not argv."""

    def __init__(self, options: ServeOptions, load_app: Callable[[], WSGIApp]) -> None:
        self.options = options
        self._load_app = load_app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.gunicorn_settings().items():
            self.cfg.set(key, value)

    def load(self) -> ConcurrencyLimiter:
        return ConcurrencyLimiter(
            self._load_app(),
            slots=self.options.threads,
            max_queue_seconds=self.options.max_queue_seconds,
        )


class SheddingWorker(ThreadWorker):
    """gunicorn's threaded worker, telling queue waits to the limiter and bounding requests."""

    wsgi: Any
    limiter: ConcurrencyLimiter | None = None
    request_timeout = 0
    _stall_reported = False

    def init_process(self) -> None:
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
        super().init_process()  # runs the worker's loop until it exits

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app: Any = self.wsgi
        self.limiter = app if isinstance(app, ConcurrencyLimiter) else None
        options = getattr(self.app, "options", None)
        self.request_timeout = getattr(options, "timeout", 0)
        waits = self._waits = threading.local()

        def with_queue_wait(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            environ[QUEUE_WAIT_KEY] = getattr(waits, "seconds", None)
            return app(environ, start_response)

        self.wsgi = with_queue_wait

    def enqueue_req(self, conn: Any) -> None:
        conn.alliance_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        # Runs in the pool thread that picked the connection: the wait ends here.
        queued_at = getattr(conn, "alliance_queued_at", None)
        self._waits.seconds = None if queued_at is None else time.monotonic() - queued_at
        return super().handle(conn)

    def notify(self) -> None:
        limiter = self.limiter
        if limiter is not None:
            limiter.flush_log()
            if self.request_timeout and limiter.longest_running() > self.request_timeout:
                if not self._stall_reported:
                    self._stall_reported = True
                    self.log.error(
                        "a request has run longer than %d s: stopping this worker's heartbeat "
                        "so the master replaces it",
                        self.request_timeout,
                    )
                return
        super().notify()
