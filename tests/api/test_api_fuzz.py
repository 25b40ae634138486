"""Property-based API fuzzing (schemathesis): every operation of the published OpenAPI schema,
called in-process through the Django WSGI app as a signed-in therapist and as a signed-in
client, answers without a server error and only with documented status codes, content
types and bodies. Bounded (a few examples per operation) so it runs in seconds in CI."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alliance.api.api import api
from tests.conftest import sign_in

pytestmark = pytest.mark.slow  # property-based fuzzing of the whole API

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def session_cookies(user) -> dict[str, str]:
    browser = Client()
    sign_in(browser, user)
    return {"sessionid": browser.cookies["sessionid"].value}


def fuzz(cookies: dict[str, str], known_ids: list[str]) -> int:
    """Run every operation; return how many calls were made."""
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = get_wsgi_application()
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case) -> None:
            nonlocal calls
            # Half the calls name a real record, so the 200 bodies are checked too.
            if case.path_parameters and "client_id" in case.path_parameters and calls % 2 == 0:
                case.path_parameters["client_id"] = known_ids[calls % len(known_ids)]
            response = case.call(cookies=cookies)
            calls += 1
            case.validate_response(response, checks=CHECKS)

        run()
    return calls


@pytest.fixture
def keep_test_connection():
    """Calls go through the real WSGI handler, whose end-of-request hook would close the
    database connection and with it the test's transaction (PostgreSQL); Django's own test
    client unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("persona", ["therapist", "client_user"])
def test_api_survives_fuzzing(personas, persona, keep_test_connection):
    known = [
        str(personas.client.pk),
        str(personas.other_client.pk),
        str(personas.foreign_client.pk),
    ]
    calls = fuzz(session_cookies(getattr(personas, persona)), known)
    assert calls >= 5 * 5  # every operation was exercised
