"""Logs keep secrets: one redaction filter on every handler, runserver's request lines
included; a whole journey with marker words leaves no marker, token, email address or record
id in the logs, while task ids stay visible."""

from __future__ import annotations

import io
import logging
import re
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import NoReverseMatch, reverse

from alliance.core.logging import RedactFilter, redact
from tests.conftest import sign_in
from tests.measures.helpers import assign, phq9_post

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def app_handlers() -> list[logging.Handler]:
    """Every handler on any logger, except pytest's own capture handlers."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    found: list[logging.Handler] = []
    for lg in loggers:
        for handler in lg.handlers:
            if isinstance(handler, logging.NullHandler) or type(handler).__module__.startswith(
                "_pytest"
            ):
                continue  # pytest capture, and library handlers that emit nothing
            if handler not in found:
                found.append(handler)
    return found


def runserver_line(method: str, path: str, status: int) -> None:
    """Log a request line exactly as `runserver` does (django.core.servers.basehttp)."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    handler.client_address = ("127.0.0.1", 50000)
    handler.requestline = f"{method} {path} HTTP/1.1"
    handler.log_request(status, 1234)


@pytest.fixture
def captured():
    """What the configured handlers write, with every level shown."""
    buffer = io.StringIO()
    streams = [h for h in app_handlers() if isinstance(h, logging.StreamHandler)]
    old_streams = [h.setStream(buffer) for h in streams]
    levels = {
        name: logging.getLogger(name).level
        for name in ("", "django.server", "django_tasks", "django_tasks_db")
    }
    logging.getLogger().setLevel(logging.DEBUG)
    # As configured outside tests (another test's worker run may have silenced these).
    for name in ("django.server", "django_tasks", "django_tasks_db"):
        logging.getLogger(name).setLevel(logging.INFO)
    yield buffer
    for handler, stream in zip(streams, old_streams, strict=True):
        handler.setStream(stream)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_every_handler_carries_the_redaction_filter():
    handlers = app_handlers()
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactFilter) for f in handler.filters), handler
    for name in (
        "django",
        "django.server",
        "django.request",
        "django_tasks",
        "django_tasks_db",
        "sesame",
        "alliance",
    ):
        assert logging.getLogger(name).hasHandlers(), name


def test_runserver_error_lines_are_redacted(captured):
    record_id = uuid.uuid4()
    runserver_line("GET", "/signin/link/?t=SeCrEtToKeN123&next=/x", 400)
    runserver_line("GET", f"/clients/{record_id}/goals/", 404)
    runserver_line("GET", "/api/v1/clients/1", 404)
    runserver_line("GET", "/m/q8Ld0vJc2bYw9_Tn4xR-Zk1pQe7sU3aHf6mGi5oLtVw/", 410)
    runserver_line("POST", "/signin/?email=cleo@client.test", 500)
    out = captured.getvalue()
    assert out.count("HTTP/1.1") == 5, out
    assert "SeCrEtToKeN123" not in out and str(record_id) not in out and "cleo@" not in out
    assert "q8Ld0vJc2bYw9" not in out and "/clients/1" not in out
    assert '"GET /clients/<id>/goals/ HTTP/1.1" 404' in out
    assert '"GET /api/v1/clients/<n> HTTP/1.1" 404' in out
    assert '"GET /m/<token>/ HTTP/1.1" 410' in out


def test_task_ids_stay_visible_but_other_ids_do_not(captured):
    task_id, record_id = uuid.uuid4(), uuid.uuid4()
    logging.getLogger("django_tasks").info(
        "Task id=%s path=%s state=%s", task_id, "alliance.x.tasks.run", "SUCCESSFUL"
    )
    logging.getLogger("django_tasks_db").info("Task id=%s failed for client %s", task_id, record_id)
    logging.getLogger("alliance.monitoring").info("Task id=%s for client %s", record_id, record_id)
    out = captured.getvalue()
    assert out.count(str(task_id)) == 2
    assert str(record_id) not in out


def test_exception_text_is_redacted(captured):
    try:
        raise ValueError(
            "duplicate key (email)=(cleo@client.test) for 6f1f2c9e-2d7a-4a39-9b1e-0d2a5b8e1c11"
        )
    except ValueError:
        logging.getLogger("django.request").exception(
            "Internal Server Error: /clients/6f1f2c9e-2d7a-4a39-9b1e-0d2a5b8e1c11/"
        )
    out = captured.getvalue()
    assert "Traceback" in out and "cleo@" not in out and "6f1f2c9e" not in out


def test_redact_keeps_ordinary_words_and_paths():
    assert redact('"GET /caseload/ HTTP/1.1" 200 512') == '"GET /caseload/ HTTP/1.1" 200 512'
    assert (
        redact("GET /static/alliance/htmx-2.0.11.min.js")
        == "GET /static/alliance/htmx-2.0.11.min.js"
    )


MARKERS = ("Vexhollow", "Quillbrook", "Plumtangle")


@pytest.mark.django_db(transaction=True)
def test_a_whole_journey_leaves_no_marker_token_email_or_record_id_in_the_logs(personas, captured):
    def request(browser: Client, method: str, path: str, data: dict | None = None):
        response = browser.post(path, data or {}) if method == "POST" else browser.get(path)
        runserver_line(method, path, response.status_code)
        return response

    # The client asks for a link and signs in with it.
    cleo = Client()
    request(cleo, "POST", reverse("client_signin"), {"email": "cleo@client.test"})
    link = re.search(r"http://testserver(/signin/link/\?t=\S+)", mail.outbox[-1].body).group(1)
    sesame_token = link.split("t=")[1]
    request(cleo, "GET", link)
    assert (
        request(cleo, "POST", reverse("client_signin_link"), {"t": sesame_token}).status_code == 302
    )

    # She answers the session check with marker words in its free text.
    sac = assign(personas.client, "sac_client")
    answer = reverse("measures_answer", args=[sac.pk])
    request(cleo, "GET", answer)
    response = request(
        cleo,
        "POST",
        answer,
        {
            "idempotency_key": str(sac.idempotency_key),
            "action": "submit",
            "item1": 2,
            "item2": 2,
            "item3": 3,
            "item4": 2,
            "felt_off": 1,
            "do_differently": f"{MARKERS[0]} please, less {MARKERS[2]}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    # And raises a concern with marker words.
    request(
        cleo,
        "POST",
        reverse("concerns_mine"),
        {"topic": "not_heard", "detail": f"{MARKERS[1]} at the end"},
    )

    # A questionnaire by single-use link (token in the path).
    tess = Client()

    sign_in(tess, personas.therapist)
    phq = assign(personas.client)
    issued = request(tess, "POST", reverse("measures_issue_link", args=[phq.pk]))
    q_token = issued.context["url"].split("/m/")[1].rstrip("/")
    anonymous = Client()
    request(anonymous, "GET", reverse("measures_link", args=[q_token]))
    request(anonymous, "POST", reverse("measures_link", args=[q_token]), phq9_post(phq, [1] * 9))
    request(anonymous, "GET", reverse("measures_link", args=[q_token]))  # used: 410

    # The clinic admin opens emergency access: the care team is told by a background task.
    adam = Client()
    sign_in(adam, personas.admin)
    request(
        adam,
        "POST",
        reverse("break_glass", args=[personas.client.pk]),
        {
            "reason": f"{MARKERS[1]} called; therapist unreachable",
            "confirm": "on",
        },
    )
    # The background work runs, as in production.
    call_command(
        "db_worker",
        "--batch",
        "--queue-name",
        "*",
        "--no-startup-delay",
        "--no-reload",
        verbosity=1,
    )

    # The therapist reads all of it; an outsider is refused.
    for path in (
        reverse("client_detail", args=[personas.client.pk]),
        reverse("concerns_staff", args=[personas.client.pk])
        if _has_url("concerns_staff")
        else None,
        f"/api/v1/clients/{personas.client.pk}/alliance",
    ):
        if path:
            request(tess, "GET", path)
    colin = Client()
    sign_in(colin, personas.colleague)
    request(colin, "GET", reverse("client_detail", args=[personas.client.pk]))
    request(colin, "GET", "/api/v1/clients/1")
    # A link that no longer works, and a sign-out.
    request(Client(), "POST", reverse("client_signin_link"), {"t": sesame_token})
    request(cleo, "POST", reverse("account_logout"))

    out = captured.getvalue()
    assert out.count("HTTP/1.1") >= 15, out  # runserver's lines went through the filter
    for secret in (*MARKERS, sesame_token, q_token, personas.client.full_name, "Cleo"):
        assert secret not in out, secret
    assert not EMAIL.search(out), EMAIL.search(out)
    for found in UUID.finditer(out):
        assert out[max(0, found.start() - 8) : found.start()] == "Task id=", out[
            found.start() - 40 : found.end()
        ]
    assert re.search(
        r"Task id=" + UUID.pattern + r" path=alliance\.clients\.tasks\.notify_break_glass", out
    ), out


def _has_url(name: str) -> bool:
    try:
        reverse(name, args=[uuid.uuid4()])
    except NoReverseMatch:
        return False
    return True
