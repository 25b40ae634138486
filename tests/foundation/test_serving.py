"""The production server's pieces: load shedding, `alliance serve` options, liveness, config errors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from alliance.core.management.commands.serve import parse_addrport
from alliance.core.overload import QUEUE_WAIT_KEY, ConcurrencyLimiter
from alliance.core.serving import ServeOptions, SheddingWorker
from tests.foundation.test_settings_and_pages import GOOD_PROD_ENV, _run


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class App:
    """A WSGI app that records its calls and answers 200."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def call(app, path="/caseload/", **environ):
    seen: dict[str, object] = {}

    def start_response(status, headers):
        seen["status"] = status
        seen["headers"] = dict(headers)

    body = app({"PATH_INFO": path, "REQUEST_METHOD": "GET", **environ}, start_response)
    return seen, body


def test_requests_beyond_the_slots_get_a_fast_503_without_running_the_app():
    app = App()
    limiter = ConcurrencyLimiter(app, slots=2, max_queue_seconds=5, waiting_room=0)
    first = call(limiter)[1]
    second = call(limiter)[1]
    assert limiter.busy == 2 and app.calls == 2
    seen, body = call(limiter)
    assert seen["status"].startswith("503")
    assert seen["headers"]["Retry-After"] == "5"
    assert seen["headers"]["Cache-Control"] == "no-store"
    assert b"busy" in b"".join(body) and b"Nothing was saved" in b"".join(body)
    assert app.calls == 2 and limiter.shed_total == 1
    api, body = call(limiter, "/api/v1/alerts")
    assert api["headers"]["Content-Type"] == "application/json" and b"busy" in b"".join(body)
    # Sending the response frees the slot.
    first.close()
    assert call(limiter)[0]["status"] == "200 OK"
    second.close()


def test_a_moment_s_spike_waits_in_a_small_waiting_room_and_the_rest_is_refused_at_once():
    app = App()
    limiter = ConcurrencyLimiter(
        app, slots=2, max_queue_seconds=5, waiting_room=1, slot_wait_seconds=10
    )
    held = [call(limiter)[1], call(limiter)[1]]
    waiter: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: waiter.update(zip(("seen", "body"), call(limiter), strict=True))
    )
    thread.start()
    while limiter._waiting == 0:  # the third request is in the waiting room
        thread.join(0.01)
    # The room is full: a fourth request is refused without waiting.
    assert call(limiter)[0]["status"].startswith("503")
    held.pop().close()
    thread.join(5)
    assert waiter["seen"]["status"] == "200 OK" and app.calls == 3
    quick = ConcurrencyLimiter(
        App(), slots=1, max_queue_seconds=5, waiting_room=1, slot_wait_seconds=0.05
    )
    kept = call(quick)[1]
    assert call(quick)[0]["status"].startswith("503")  # waited 50 ms, no slot came free
    kept.close()
    for body in held + [waiter["body"]]:
        body.close()


def test_liveness_never_waits_for_a_slot():
    app = App()
    limiter = ConcurrencyLimiter(app, slots=1, max_queue_seconds=5, waiting_room=0)
    held = call(limiter)[1]
    assert call(limiter)[0]["status"].startswith("503")
    assert call(limiter, "/health/")[0]["status"] == "200 OK"
    held.close()


def test_a_request_that_waited_too_long_in_the_queue_is_refused():
    app = App()
    limiter = ConcurrencyLimiter(app, slots=4, max_queue_seconds=5)
    assert call(limiter, **{QUEUE_WAIT_KEY: 4.9})[0]["status"] == "200 OK"
    seen, _ = call(limiter, **{QUEUE_WAIT_KEY: 5.1})
    assert seen["status"].startswith("503") and app.calls == 1


def test_the_slot_is_freed_when_the_app_raises():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    limiter = ConcurrencyLimiter(broken, slots=1, max_queue_seconds=5)
    with pytest.raises(RuntimeError):
        call(limiter)
    assert limiter.busy == 0
    with pytest.raises(RuntimeError):  # the slot is free again: the app runs, it does not shed
        call(limiter)


def test_a_file_sent_by_the_server_keeps_its_wrapper_and_frees_the_slot():
    class FileWrapper:
        def __init__(self, *args):
            pass

        def __iter__(self):
            return iter([b"file"])

    def sends_file(environ, start_response):
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"]()

    limiter = ConcurrencyLimiter(sends_file, slots=1, max_queue_seconds=5)
    _, body = call(limiter, **{"wsgi.file_wrapper": FileWrapper})
    assert isinstance(body, FileWrapper) and limiter.busy == 0


def test_the_longest_running_request_is_measured_for_the_stall_watchdog():
    clock = FakeClock()
    limiter = ConcurrencyLimiter(App(), slots=3, max_queue_seconds=5, clock=clock)
    assert limiter.longest_running() == 0
    old = call(limiter)[1]
    clock.now += 20
    young = call(limiter)[1]
    clock.now += 15
    assert limiter.longest_running() == 35
    old.close()
    assert limiter.longest_running() == 15
    young.close()
    assert limiter.longest_running() == 0


def test_refusals_are_logged_as_counts_at_most_every_ten_seconds(caplog):
    clock = FakeClock()
    limiter = ConcurrencyLimiter(App(), slots=1, max_queue_seconds=5, waiting_room=0, clock=clock)
    held = call(limiter)[1]
    with caplog.at_level(logging.WARNING, logger="alliance.overload"):
        for _ in range(5):
            call(limiter, "/clients/6f1f2c9e-2d7a-4a39-9b1e-0d2a5b8e1c11/")
        limiter.flush_log()
        clock.now += 11
        limiter.flush_log()
        limiter.flush_log()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "overloaded: refused 1 request(s) with 503 (all slots busy; 1 slots in this process)",
        "overloaded: refused 4 request(s) with 503 (all slots busy; 1 slots in this process)",
    ]
    held.close()


@pytest.mark.parametrize(
    ("given", "bind"),
    [
        ("127.0.0.1:8000", "127.0.0.1:8000"),
        ("8001", "127.0.0.1:8001"),
        ("[::1]:80", "[::1]:80"),
        ("0.0.0.0:8000", "0.0.0.0:8000"),
        ("unix:/run/alliance/web.sock", "unix:/run/alliance/web.sock"),
    ],
)
def test_addrport_forms(given, bind):
    assert parse_addrport(given) == bind


@pytest.mark.parametrize("bad", ["host:", ":80", "localhost:http", "127.0.0.1:70000", "unix:"])
def test_a_bad_addrport_is_one_clear_error(bad):
    with pytest.raises(CommandError, match="addrport"):
        parse_addrport(bad)


def test_serve_check_only_prints_what_it_would_run(capsys, settings):
    settings.WEB_THREADS = 3
    call_command("serve", "--addrport", "127.0.0.1:8123", "--workers", "2", "--check-only")
    out = capsys.readouterr().out
    assert (
        "127.0.0.1:8123: 2 worker(s) x 3 requests at once" in out and "503 with Retry-After" in out
    )


def test_serve_refuses_a_bad_number(settings):
    with pytest.raises(CommandError, match="--threads must be at least 1, not 0"):
        call_command("serve", "--threads", "0", "--check-only")


def test_gunicorn_settings_bound_the_queue_and_recycle_workers():
    options = ServeOptions(
        bind="127.0.0.1:8000",
        workers=3,
        threads=4,
        timeout=30,
        graceful_timeout=30,
        max_requests=2000,
        backlog=64,
        max_queue_seconds=5,
    )
    gunicorn = options.gunicorn_settings()
    assert gunicorn["threads"] == 8  # 4 slots, 4 spare threads to answer 503s
    assert gunicorn["backlog"] == 64 and gunicorn["max_requests"] == 2000
    assert gunicorn["max_requests_jitter"] == 200 and gunicorn["preload_app"] is True
    assert gunicorn["worker_class"] == "alliance.core.serving.SheddingWorker"


@pytest.mark.slow
def test_serve_in_production_needs_collected_static_files(tmp_path):
    env = {
        **GOOD_PROD_ENV,
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = _run(env, "serve", "--check-only")
    assert result.returncode == 1
    assert "static files are not collected" in result.stderr and "collectstatic" in result.stderr
    assert "Traceback" not in result.stderr


# --- Liveness on plain HTTP in production ------------------------------------------------------
_PROBE = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from django.db import connection
    from django.test import Client

    queries = []
    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    out = {}
    client = Client()
    with connection.execute_wrapper(count):
        # A load balancer probes by address, on plain HTTP; a browser may send a session cookie.
        health = client.get("/health/", HTTP_HOST="10.0.0.7:8000")
        client.cookies["sessionid"] = "x" * 32
        health_with_cookie = client.get("/health/")
    # Readiness is a view of its own; what matters here is the HTTPS redirect's decision.
    from django.http import HttpResponse
    from django.middleware.security import SecurityMiddleware
    from django.test import RequestFactory

    security = SecurityMiddleware(lambda request: HttpResponse())
    ready = security.process_request(RequestFactory().get("/ready/", HTTP_HOST="alliance.example.org"))
    page = security.process_request(RequestFactory().get("/", HTTP_HOST="alliance.example.org"))
    print(json.dumps({
        "health": [health.status_code, health.json(), sorted(health.cookies)],
        "health_with_cookie": [health_with_cookie.status_code, sorted(health_with_cookie.cookies)],
        "queries": len(queries),
        "ready_redirected": ready is not None,
        "page": [page.status_code, page["Location"]],
    }))
    """
)


@pytest.mark.slow
def test_health_in_production_answers_plain_http_with_no_cookie_and_no_query(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env.update(GOOD_PROD_ENV)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/never-created.sqlite3",
            "DJANGO_SETTINGS_MODULE": "alliance.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["health"] == [200, {"status": "ok"}, []]
    assert out["health_with_cookie"] == [200, []]
    assert out["queries"] == 0
    assert not Path(tmp_path / "never-created.sqlite3").exists()
    # Readiness is exempt from the HTTPS redirect too; every other page is redirected.
    assert out["ready_redirected"] is False
    assert out["page"] == [301, "https://alliance.example.org/"]


def test_health_with_the_test_client_makes_no_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/")
    assert response.status_code == 200 and not response.cookies
    assert connection.vendor in {"sqlite", "postgresql"}


def test_ready_answers_a_probe_by_address_with_no_cookie_and_no_write(client, db, settings):
    # A probe sends the process's own address as Host, which ALLOWED_HOSTS does not list.
    settings.ALLOWED_HOSTS = ["alliance.example.org"]
    writes = []

    def record(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get("/ready/", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code in {200, 503}
    assert set(response.json()["checks"]) == {"database", "migrations", "worker", "scheduler"}
    assert not response.cookies and writes == []


# --- Configuration errors: one line, exit 2 -----------------------------------------------------
@pytest.mark.slow
def test_wsgi_reports_a_configuration_error_in_one_line():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({**GOOD_PROD_ENV, "SECRET_KEY": ""})
    result = subprocess.run(
        [sys.executable, "-c", "import alliance.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "alliance: configuration error: SECRET_KEY must be set in production mode "
        "(ALLIANCE_ENV=production). See docs/configuration.md.\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysqlx://u:secret@h/db"}, "DATABASE_URL is not a database URL"),
        ({"WEB_THREADS": "0"}, "WEB_THREADS must be at least 1, not 0."),
        ({"WEB_TIMEOUT": "soon"}, "WEB_TIMEOUT must be a whole number, not 'soon'."),
    ],
)
def test_bad_values_are_one_line_naming_the_variable(env, message):
    result = _run(env, "check")
    assert result.returncode == 2
    assert result.stderr.startswith(f"alliance: configuration error: {message}")
    assert len(result.stderr.splitlines()) == 1 and "secret" not in result.stderr


# --- The gunicorn worker's additions ---------------------------------------------------------------
class Heartbeat:
    def __init__(self) -> None:
        self.beats = 0

    def notify(self) -> None:
        self.beats += 1


class Log:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, message, *args) -> None:
        self.errors.append(message % args)


class Server:
    """Stands in for gunicorn's application object: what the worker asks of it."""

    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        self.limiter = limiter
        self.options = ServeOptions(
            bind="127.0.0.1:8000",
            workers=1,
            threads=1,
            timeout=30,
            graceful_timeout=30,
            max_requests=0,
            backlog=64,
            max_queue_seconds=5,
        )

    def wsgi(self) -> ConcurrencyLimiter:
        return self.limiter


def make_worker(limiter: ConcurrencyLimiter):
    worker = SheddingWorker.__new__(SheddingWorker)  # no sockets or processes: only its own methods
    worker.app, worker.tmp, worker.log = Server(limiter), Heartbeat(), Log()
    worker.cfg = type("Cfg", (), {"reload": False})()
    worker.load_wsgi()
    return worker


def test_a_stuck_request_stops_the_heartbeat_so_the_master_replaces_the_worker():
    clock = FakeClock()
    worker = make_worker(ConcurrencyLimiter(App(), slots=2, max_queue_seconds=5, clock=clock))
    worker.notify()
    assert worker.tmp.beats == 1
    stuck = call(worker.wsgi)[1]
    clock.now += 29
    worker.notify()
    assert worker.tmp.beats == 2
    clock.now += 2  # 31 s > WEB_TIMEOUT
    worker.notify()
    worker.notify()
    assert worker.tmp.beats == 2
    assert worker.log.errors == [
        "a request has run longer than 30 s: stopping this worker's heartbeat so the master replaces it"
    ]
    stuck.close()
    worker.notify()
    assert worker.tmp.beats == 3


def test_the_worker_tells_the_limiter_how_long_a_request_waited_for_a_thread():
    app = App()
    worker = make_worker(ConcurrencyLimiter(app, slots=2, max_queue_seconds=5))
    worker._waits.seconds = 0.2
    assert call(worker.wsgi)[0]["status"] == "200 OK"
    worker._waits.seconds = 6.0
    assert call(worker.wsgi)[0]["status"].startswith("503") and app.calls == 1
