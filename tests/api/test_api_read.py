"""Read-only JSON API: the alliance timeline, the alert list and goals, scoped like the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alliance.alerts.models import Alert
from alliance.checkins.services import raise_concern
from alliance.clients.models import BreakGlassAccess, CareTeamMember
from alliance.core.models import AuditEvent
from alliance.goals.models import GasRating, Goal, Task, TaskUpdate
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode
from tests.conftest import sign_in
from tests.monitoring.helpers import rate, series

pytestmark = pytest.mark.django_db

CONCERN_WORDS = "my sister Hilda keeps calling during our sessions"
REPAIR_WORDS = "Talked about the zebra homework mix-up"
TASK_NOTE = "the breathing app crashes on my phone"

# Expected status per persona (401: not signed in; the API never redirects).
ALLIANCE = {
    "anonymous": 401,
    "therapist": 200,
    "colleague": 404,
    "foreign_therapist": 404,
    "supervisor": 404,
    "admin": 404,
    "client": 404,
    "other_client": 404,
}
GOALS = {**ALLIANCE, "client": 200}
ALERTS = {
    "anonymous": 401,
    "therapist": 200,
    "colleague": 200,
    "foreign_therapist": 200,
    "supervisor": 200,
    "admin": 200,
    "client": 403,
    "other_client": 403,
}


def assert_api_matrix(django_client, personas, url, expected):
    for persona, user in personas.all().items():
        sign_in(django_client, user)
        response = django_client.get(url)
        assert response.status_code == expected[persona], (url, persona, response.status_code)
        if response.status_code in (403, 404):
            assert b"Cleo" not in response.content
            assert response.json()["detail"]


@pytest.fixture
def dip(personas):
    """A V-shaped dip: four sessions at 5, then 2 (k·SD, cut-off and drop all fire)."""
    MonitoringSettings.objects.create(clinic=personas.clinic, long_gap_days=0)
    series(personas.client, [5, 5, 5, 5, 2])
    return RuptureEpisode.objects.get(client=personas.client)


@pytest.fixture
def goal(personas):
    g = Goal.propose(
        personas.client,
        personas.client_user,
        "client",
        wording="Get back to running twice a week",
        importance=3,
        difficulty=2,
    )
    g.agree(personas.therapist, "therapist", g.version)
    task = Task.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        goal=g,
        created_by=personas.therapist,
        description="Run 10 minutes on Monday",
        rationale="Small steps build the habit",
        progress=40,
    )
    TaskUpdate.objects.create(clinic=personas.clinic, task=task, not_working=True, note=TASK_NOTE)
    today = timezone.localdate()
    for rater, by, level, day in (
        ("client", personas.client_user, -1, today - dt.timedelta(days=14)),
        ("client", personas.client_user, 1, today),
        ("therapist", personas.therapist, 0, today - dt.timedelta(days=7)),
    ):
        GasRating.objects.create(
            clinic=personas.clinic, goal=g, rater=rater, rated_by=by, level=level, rated_on=day
        )
    return g


# --- /clients/{id}/alliance --------------------------------------------------------------------


def test_alliance_persona_matrix(client, personas, dip):
    assert_api_matrix(client, personas, f"/api/v1/clients/{personas.client.pk}/alliance", ALLIANCE)


def test_alliance_rows_and_open_episode_for_the_care_team(client, personas, dip):
    rate(personas.client, 5, 5.5, instrument="sac_therapist")
    sign_in(client, personas.therapist)
    data = client.get(f"/api/v1/clients/{personas.client.pk}/alliance").json()
    assert "not a diagnosis or a risk assessment" in data["disclaimer"]
    assert [(r["session"], r["client"]) for r in data["sessions"]] == [
        (1, 5),
        (2, 5),
        (3, 5),
        (4, 5),
        (5, 2),
    ]
    last = data["sessions"][-1]
    assert (last["therapist"], last["gap"], last["status"]) == (5.5, 3.5, "attended")
    [episode] = data["episodes"]
    assert episode["id"] == str(dip.pk)
    assert episode["status"] == "open"
    assert (episode["start_session"], episode["lowest_session"], episode["end_session"]) == (
        5,
        5,
        None,
    )
    assert set(episode["rules"]) >= {"k_sd", "cutoff", "drop"}
    assert episode["evidence"]["lowest_score"] == 2
    assert episode["rule_settings"]["k"] == 2.0
    assert episode["acknowledged_at"] is None


def test_alliance_leaves_out_concern_and_repair_free_text(client, personas, dip):
    raise_concern(personas.client, personas.client_user, "not_heard", CONCERN_WORDS)
    dip.record_repair(personas.therapist, ["clarify", "own_part"], REPAIR_WORDS)
    sign_in(client, personas.therapist)
    response = client.get(f"/api/v1/clients/{personas.client.pk}/alliance")
    body = response.content.decode()
    data = response.json()
    assert any(r["concern"] for r in data["sessions"])
    episode = next(e for e in data["episodes"] if e["id"] == str(dip.pk))
    assert episode["repair_approaches"] == ["clarify", "own_part"] and episode["acknowledged_at"]
    for secret in (CONCERN_WORDS, "Hilda", REPAIR_WORDS, "zebra", "heard or understood"):
        assert secret not in body
    alerts = client.get("/api/v1/alerts").content.decode()
    assert "Hilda" not in alerts and "zebra" not in alerts


def test_alliance_read_is_audited_and_refused_reads_are_not(client, personas, dip):
    url = f"/api/v1/clients/{personas.client.pk}/alliance"
    sign_in(client, personas.client_user)
    assert client.get(url).status_code == 404  # clients do not see the therapist-side timeline
    sign_in(client, personas.colleague)
    assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(
        client=personas.client, record_type="alliance_timeline"
    ).exists()
    sign_in(client, personas.therapist)
    client.get(url, REMOTE_ADDR="10.9.8.7")
    event = AuditEvent.objects.filter(client=personas.client).order_by("-seq").first()
    assert (event.actor, event.action, event.record_type, event.ip_address) == (
        personas.therapist,
        "view",
        "alliance_timeline",
        "10.9.8.7",
    )


def test_break_glass_admin_and_care_team_supervisor(client, personas, dip, goal):
    """The pages are for clinicians: emergency access opens the record, not these pages."""
    BreakGlassAccess.objects.create(
        clinic=personas.clinic, client=personas.client, user=personas.admin, reason="safety"
    )
    sign_in(client, personas.admin)
    assert client.get(f"/api/v1/clients/{personas.client.pk}").status_code == 200
    assert client.get(f"/api/v1/clients/{personas.client.pk}/alliance").status_code == 404
    assert client.get(f"/api/v1/clients/{personas.client.pk}/goals").status_code == 404
    CareTeamMember.objects.create(
        clinic=personas.clinic, client=personas.client, therapist=personas.supervisor
    )
    sign_in(client, personas.supervisor)
    assert client.get(f"/api/v1/clients/{personas.client.pk}/alliance").status_code == 200
    assert client.get(f"/api/v1/clients/{personas.client.pk}/goals").status_code == 200


# --- /alerts -------------------------------------------------------------------------------------


def test_alerts_persona_matrix(client, personas, dip):
    assert_api_matrix(client, personas, "/api/v1/alerts", ALERTS)


def test_alerts_are_scoped_to_the_caseload(client, personas, dip):
    otto = Alert.raise_for(personas.other_client, "disengagement", "Missed sessions", {})[0]
    flo = Alert.raise_for(personas.foreign_client, "disengagement", "Missed sessions", {})[0]
    rupture = Alert.objects.get(client=personas.client, kind="rupture")
    rupture.snooze(personas.therapist, timezone.now() + dt.timedelta(days=3), "Seeing her Friday")
    closed = Alert.raise_for(personas.client, "disagreement", "Gap", {})[0]
    closed.acknowledge(personas.therapist, "Talked it through")

    def seen(user):
        sign_in(client, user)
        return {a["id"]: a for a in client.get("/api/v1/alerts").json()["alerts"]}

    mine = seen(personas.therapist)
    assert set(mine) == {str(rupture.pk)}  # acknowledged ones are not listed
    item = mine[str(rupture.pk)]
    assert item["client_id"] == str(personas.client.pk)
    assert (item["kind"], item["status"], item["severity"]) == ("rupture", "snoozed", 40)
    assert {"k_sd", "cutoff", "drop"} <= set(item["rules"])
    assert item["snoozed_until"] and item["reason"].startswith("Possible rupture at session 5")
    assert set(seen(personas.colleague)) == {str(otto.pk)}
    assert set(seen(personas.foreign_therapist)) == {str(flo.pk)}
    assert seen(personas.supervisor) == {} and seen(personas.admin) == {}


def test_expired_snooze_comes_back_open(client, personas, dip):
    rupture = Alert.objects.get(client=personas.client, kind="rupture")
    Alert.objects.filter(pk=rupture.pk).update(
        status="snoozed", snoozed_until=timezone.now() - dt.timedelta(minutes=1)
    )
    sign_in(client, personas.therapist)
    [item] = client.get("/api/v1/alerts").json()["alerts"]
    assert item["status"] == "open"


def test_escalated_alerts_reach_supervisors_by_pseudonym_only(client, personas):
    alert, _ = Alert.raise_for(personas.client, "safety", "PHQ-9 item 9 answered 2", {})
    Alert.objects.filter(pk=alert.pk).update(escalated_at=timezone.now())
    sign_in(client, personas.supervisor)
    response = client.get("/api/v1/alerts")
    data = response.json()
    assert data["alerts"] == []
    assert [(e["pseudonym"], e["kind"]) for e in data["escalated"]] == [
        (personas.client.pseudonym, "safety")
    ]
    assert (
        b"Cleo" not in response.content and str(personas.client.pk).encode() not in response.content
    )
    sign_in(client, personas.therapist)
    data = client.get("/api/v1/alerts").json()
    assert [a["id"] for a in data["alerts"]] == [str(alert.pk)] and data["escalated"] == []


# --- /clients/{id}/goals -------------------------------------------------------------------------


def test_goals_persona_matrix(client, personas, goal):
    assert_api_matrix(client, personas, f"/api/v1/clients/{personas.client.pk}/goals", GOALS)


def test_goals_with_latest_gas_and_tasks(client, personas, goal):
    for user in (personas.therapist, personas.client_user):
        sign_in(client, user)
        response = client.get(f"/api/v1/clients/{personas.client.pk}/goals")
        [data] = response.json()
        assert data["id"] == str(goal.pk)
        assert (data["wording"], data["status"]) == ("Get back to running twice a week", "active")
        assert (data["importance"], data["difficulty"]) == (3, 2)
        assert data["latest_gas"]["client"] == {"level": 1, "rated_on": str(timezone.localdate())}
        assert data["latest_gas"]["therapist"]["level"] == 0
        [task] = data["tasks"]
        assert task["description"] == "Run 10 minutes on Monday"
        assert (task["rationale"], task["progress"], task["status"]) == (
            "Small steps build the habit",
            40,
            "open",
        )
        assert TASK_NOTE not in response.content.decode()
    assert AuditEvent.objects.filter(
        client=personas.client, record_type="goal", action="view", actor=personas.client_user
    ).exists()


# --- Schema --------------------------------------------------------------------------------------


def test_schema_lists_the_new_paths(client, personas):
    sign_in(client, personas.therapist)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/clients/{client_id}/alliance",
        "/api/v1/alerts",
        "/api/v1/clients/{client_id}/goals",
    ):
        assert "get" in paths[path], path
