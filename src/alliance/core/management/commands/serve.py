"""`alliance serve`: the production web server (gunicorn with load shedding; docs/deploy.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.wsgi import get_wsgi_application
from django.db import connections

from alliance.core.serving import AllianceServer, ServeOptions


def parse_addrport(value: str) -> str:
    """``HOST:PORT``, ``PORT`` or ``unix:/path`` as gunicorn's bind; a clear error otherwise."""
    if value.startswith("unix:"):
        if len(value) <= len("unix:"):
            raise CommandError(
                "--addrport unix: needs a socket path, like unix:/run/alliance/web.sock"
            )
        return value
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", value
    if not port.isdigit() or not 0 < int(port) < 65536 or (sep and not host):
        raise CommandError(
            f"--addrport must be HOST:PORT (like 127.0.0.1:8000), PORT or unix:/path, not {value!r}."
        )
    return f"{host}:{int(port)}"


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Command(BaseCommand):
    help = (
        "Serve Alliance in production: gunicorn with threaded workers, request timeouts, worker "
        "recycling and fast 503s beyond capacity. Defaults come from the WEB_* variables."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="HOST:PORT, PORT or unix:/path to listen on (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Worker processes (WEB_WORKERS; default one per CPU core).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Requests each worker runs at once (WEB_THREADS; default 8).",
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=None,
            help="Seconds a request may run before its worker is replaced (WEB_TIMEOUT).",
        )
        parser.add_argument(
            "--max-requests",
            type=int,
            default=None,
            help="Recycle a worker after this many requests, 0 never (WEB_MAX_REQUESTS).",
        )
        parser.add_argument(
            "--backlog",
            type=int,
            default=None,
            help="Connections the kernel holds before they are accepted (WEB_BACKLOG).",
        )
        parser.add_argument(
            "--access-log",
            action="store_true",
            help="Write an access log to stdout (paths redacted: no ids, no query strings).",
        )
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Check the configuration, print what would run, and exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve = self.options_from(options)
        self.check_static_files()
        self.stdout.write(
            f"Alliance on {serve.bind}: {serve.workers} worker(s) x {serve.threads} requests at once, "
            f"request timeout {serve.timeout} s, recycled after ~{serve.max_requests or 'no'} requests, "
            f"backlog {serve.backlog}; beyond that: 503 with Retry-After."
        )
        if options["check_only"]:
            return
        # The master forks the workers: no connection may be shared with them.
        connections.close_all()
        AllianceServer(serve, get_wsgi_application).run()

    def options_from(self, options: dict[str, Any]) -> ServeOptions:
        def pick(name: str, setting: str, least: int) -> int:
            value = options[name]
            chosen = int(getattr(settings, setting) if value is None else value)
            if chosen < least:
                raise CommandError(
                    f"--{name.replace('_', '-')} must be at least {least}, not {chosen}."
                )
            return chosen

        workers = pick("workers", "WEB_WORKERS", 0) or default_workers()
        timeout = pick("timeout", "WEB_TIMEOUT", 1)
        return ServeOptions(
            bind=parse_addrport(str(options["addrport"])),
            workers=workers,
            threads=pick("threads", "WEB_THREADS", 1),
            timeout=timeout,
            graceful_timeout=timeout,
            max_requests=pick("max_requests", "WEB_MAX_REQUESTS", 0),
            backlog=pick("backlog", "WEB_BACKLOG", 1),
            max_queue_seconds=float(settings.WEB_MAX_QUEUE_SECONDS),
            access_log=bool(options["access_log"]),
        )

    def check_static_files(self) -> None:
        """In production pages name hashed asset files: without collectstatic every page fails."""
        backend = settings.STORAGES["staticfiles"]["BACKEND"]
        if "Manifest" not in backend:
            return
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if not manifest.exists():
            raise CommandError(
                f"static files are not collected in {settings.STATIC_ROOT}: "
                "run `alliance collectstatic --noinput` first (and after every upgrade)."
            )
