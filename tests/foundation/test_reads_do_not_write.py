"""Reading pages writes nothing: no session save on every view, no alert wake-up, no other write.

The one intended write of a GET is the audit trail: reading a client's record is audited by
design (HIPAA 164.312(b)), so INSERTs into the audit table are the only statements allowed.
"""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.core.middleware import LAST_SEEN_KEY, LAST_SEEN_RESOLUTION
from tests.conftest import sign_in
from tests.supervision.helpers import alliance_series, episode, link, score

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
AUDIT_TABLE = '"core_auditevent"'


class WriteRecorder:
    """Every INSERT/UPDATE/DELETE the connection runs, through ``connection.execute_wrapper``."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001
        if sql.lstrip().upper().startswith(WRITES):
            self.writes.append(sql)
        return execute(sql, params, many, context)

    def not_audit(self) -> list[str]:
        return [
            s
            for s in self.writes
            if not s.lstrip().upper().startswith(f"INSERT INTO {AUDIT_TABLE.upper()}")
        ]


def _get_all(django_client, urls: list[str]) -> WriteRecorder:
    recorder = WriteRecorder()
    with connection.execute_wrapper(recorder):
        for url in urls:
            response = django_client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    return recorder


@pytest.fixture
def lived_in(personas):
    """A client with alliance ratings, a PHQ-9 episode, a supervisor link and a snoozed alert
    whose time has passed: a list view must not write the expired snooze back."""
    c = personas.client
    start = timezone.now() - dt.timedelta(days=60)
    alliance_series(c, [5.5, 5.6, 5.4, 2.0, 5.5], start)
    ep = episode(c, start.date())
    score(c, "phq9", 18, start, number=1, ep=ep)
    score(c, "phq9", 9, start + dt.timedelta(days=28), number=5, ep=ep)
    link(personas)
    alert, _ = Alert.raise_for(c, "unrepaired_rupture", "a dip that has not come back", {})
    alert.snooze(personas.therapist, timezone.now() + dt.timedelta(days=1), "discussed")
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=timezone.now() - dt.timedelta(hours=1))
    return alert


def _pages(personas) -> dict[str, list[str]]:
    cid = personas.client.pk
    api = "/api/v1"
    return {
        "therapist": [
            reverse("caseload"),
            reverse("client_detail", args=[cid]),
            reverse("alliance_timeline", args=[cid]),
            reverse("alert_list"),
            reverse("goals_staff", args=[cid]),
            reverse("check_ins_staff", args=[cid]),
            reverse("journal_list", args=[cid]),
            reverse("development"),
            reverse("my_shared"),
            f"{api}/me",
            f"{api}/clients",
            f"{api}/clients/{cid}",
            f"{api}/clients/{cid}/alliance",
            f"{api}/clients/{cid}/measures",
            f"{api}/clients/{cid}/goals",
            f"{api}/alerts",
        ],
        "colleague": [reverse("caseload"), reverse("alert_list"), reverse("development")],
        "supervisor": [
            reverse("supervisor_dashboard"),
            reverse("supervision_agenda"),
            reverse("clinic_report"),
            reverse("development"),
            reverse("alert_list"),
            f"{api}/alerts",
        ],
        "admin": [
            reverse("clinic_home"),
            reverse("clinic_report"),
            reverse("clinic_report_print"),
            reverse("clinic_report_csv"),
            reverse("clinic_report_pdf"),
            reverse("alert_list"),
            reverse("alert_usefulness_report"),
            reverse("supervision_links"),
            f"{api}/alerts",
        ],
        "client": [
            reverse("client_home"),
            reverse("goals_mine"),
            reverse("client_consents"),
            reverse("client_access_log"),
            reverse("my_data_summary"),
            f"{api}/me",
        ],
    }


@pytest.mark.parametrize("persona", ["therapist", "colleague", "supervisor", "admin", "client"])
def test_page_views_write_nothing_but_the_audit_trail(client, personas, lived_in, persona):
    user = getattr(personas, "client_user" if persona == "client" else persona)
    sign_in(client, user)
    pages = _pages(personas)[persona]
    client.get(pages[0])  # the first view after signing in records the activity time
    recorder = _get_all(client, pages)
    assert recorder.not_audit() == []
    lived_in.refresh_from_db()
    assert lived_in.status == Alert.Status.SNOOZED  # read as open, stored by the periodic pass


def test_anonymous_pages_write_nothing(client, db):
    recorder = _get_all(client, [reverse("account_login"), reverse("client_signin"), "/health/"])
    assert recorder.writes == []


def test_the_audit_trail_is_written_and_is_the_only_write(client, personas, lived_in):
    sign_in(client, personas.therapist)
    client.get(reverse("caseload"))
    recorder = _get_all(client, [reverse("client_detail", args=[personas.client.pk])])
    assert recorder.writes and recorder.not_audit() == []


def test_a_snooze_whose_time_passed_reads_as_open_everywhere(client, personas, lived_in):
    sign_in(client, personas.therapist)
    page = client.get(reverse("alert_list"))
    assert [a.pk for a in page.context["open_alerts"]] == [lived_in.pk]
    assert page.context["snoozed_alerts"] == []
    [row] = client.get(reverse("caseload")).context["rows"]
    assert [a.pk for a in row.open_alerts] == [lived_in.pk] and row.snoozed_alerts == []
    [item] = client.get("/api/v1/alerts").json()["alerts"]
    assert item["status"] == "open"
    # Still snoozed: not yet due, so listed as snoozed.
    Alert.objects.filter(pk=lived_in.pk).update(
        snoozed_until=timezone.now() + dt.timedelta(hours=1)
    )
    page = client.get(reverse("alert_list"))
    assert [a.pk for a in page.context["snoozed_alerts"]] == [lived_in.pk]
    assert client.get("/api/v1/alerts").json()["alerts"][0]["status"] == "snoozed"


# --- The session: saved once a minute at most, idle logout still exact enough ----------------


def _session_writes(django_client, url: str, at: float) -> list[str]:
    recorder = WriteRecorder()
    with (
        mock.patch("alliance.core.middleware.time.time", return_value=at),
        connection.execute_wrapper(recorder),
    ):
        assert django_client.get(url).status_code == 200
    return [s for s in recorder.writes if "django_session" in s]


def test_two_views_within_a_minute_do_not_save_the_session(client, personas):
    sign_in(client, personas.therapist)
    t0 = time.time()
    url = reverse("caseload")
    assert _session_writes(client, url, t0) != []  # first view: the activity time is recorded
    assert _session_writes(client, url, t0 + 5) == []
    assert _session_writes(client, url, t0 + LAST_SEEN_RESOLUTION - 1) == []
    # A minute on, the activity time is refreshed (one write), then quiet again.
    assert _session_writes(client, url, t0 + LAST_SEEN_RESOLUTION + 1) != []
    assert _session_writes(client, url, t0 + LAST_SEEN_RESOLUTION + 2) == []
    assert client.session[LAST_SEEN_KEY] == pytest.approx(t0 + LAST_SEEN_RESOLUTION + 1)


def test_the_session_cookie_and_row_expire_with_the_idle_limit(client, personas, settings):
    settings.STAFF_IDLE_MINUTES = 15
    sign_in(client, personas.therapist)
    response = client.get(reverse("caseload"))
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 15 * 60
    assert client.session.get_expiry_age() == 15 * 60


def _idle_then_view(django_client, url: str, minutes: float) -> int:
    with mock.patch("alliance.core.middleware.time.time", return_value=time.time() + minutes * 60):
        return django_client.get(url).status_code


@override_settings(STAFF_IDLE_MINUTES=15)
@pytest.mark.parametrize("minutes_idle,still_in", [(14, True), (16, False)])
def test_staff_idle_logout_at_15_minutes(client, personas, minutes_idle, still_in):
    sign_in(client, personas.therapist)
    url = reverse("caseload")
    assert client.get(url).status_code == 200
    # Activity within the minute does not move the recorded time, so it cannot extend the limit.
    assert _idle_then_view(client, url, 0.5) == 200
    assert (_idle_then_view(client, url, minutes_idle) == 200) is still_in


@override_settings(CLIENT_IDLE_MINUTES=30)
@pytest.mark.parametrize("minutes_idle,still_in", [(29, True), (31, False)])
def test_client_idle_logout_at_30_minutes(client, personas, minutes_idle, still_in):
    sign_in(client, personas.client_user)
    url = reverse("client_home")
    assert client.get(url).status_code == 200
    assert (_idle_then_view(client, url, minutes_idle) == 200) is still_in


@override_settings(STAFF_IDLE_MINUTES=15)
def test_activity_keeps_a_person_signed_in_past_the_limit(client, personas):
    sign_in(client, personas.therapist)
    url = reverse("caseload")
    t0 = time.time()
    for minutes in (0, 10, 20, 30):  # never idle 15 minutes, though 30 have passed
        with mock.patch("alliance.core.middleware.time.time", return_value=t0 + minutes * 60):
            assert client.get(url).status_code == 200
