"""Shared goals: agreement both ways, changes, no lost update, ranking, GAS, tasks."""

from __future__ import annotations

import datetime as dt
import math
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from alliance.alerts.models import Alert
from alliance.goals.gas import gas_t_score
from alliance.goals.models import (
    GasRating,
    Goal,
    GoalChange,
    GoalConflict,
    RankDisagreement,
    Task,
    TaskUpdate,
    gas_history,
    rank_difference,
)
from tests.conftest import sign_in

GOAL = {
    "wording": "Get back to running twice a week",
    "level_m2": "Not running",
    "level_m1": "Once a month",
    "level_0": "Once a week",
    "level_p1": "Twice a week",
    "level_p2": "Three times",
    "importance": "3",
    "difficulty": "2",
}


def alerts(client, kind):
    return Alert.objects.filter(client=client, kind=kind)


def make_goal(p, wording="A goal", importance=2, difficulty=1, active=True):
    goal = Goal.propose(
        p.client,
        p.client_user,
        "client",
        wording=wording,
        importance=importance,
        difficulty=difficulty,
    )
    if active:
        goal.agree(p.therapist, "therapist", goal.version)
        goal.refresh_from_db()
    return goal


def test_client_proposes_and_therapist_agrees(client, personas):
    p = personas
    sign_in(client, p.client_user)
    response = client.post(reverse("goals_mine"), GOAL, follow=True)
    assert "It becomes active when your therapist agrees" in response.content.decode()
    goal = Goal.objects.get(client=p.client)
    assert (
        goal.status == "proposed"
        and goal.client_agreed_by == p.client_user
        and goal.therapist_agreed_at is None
    )
    assert goal.wording == GOAL["wording"] and goal.weight == 6

    sign_in(client, p.therapist)
    page = client.get(reverse("client_detail", args=[p.client.pk])).content.decode()
    assert GOAL["wording"] in page and "waiting for you" in page
    client.post(reverse("goal_staff_agree", args=[p.client.pk, goal.pk]), {"version": goal.version})
    goal.refresh_from_db()
    assert goal.status == "active" and goal.therapist_agreed_by == p.therapist and goal.activated_at


def test_therapist_proposes_and_client_agrees(client, personas):
    p = personas
    sign_in(client, p.therapist)
    client.post(reverse("goals_staff", args=[p.client.pk]), GOAL)
    goal = Goal.objects.get(client=p.client)
    assert goal.proposed_by_side == "therapist" and goal.status == "proposed"
    sign_in(client, p.client_user)
    assert "I agree to this goal" in client.get(reverse("goals_mine")).content.decode()
    client.post(reverse("goal_mine_agree", args=[goal.pk]), {"version": goal.version})
    goal.refresh_from_db()
    assert goal.status == "active" and goal.client_agreed_at is not None


def test_change_to_an_active_goal_waits_for_the_other_side(client, personas):
    p = personas
    goal = make_goal(p, "Sleep better")
    sign_in(client, p.client_user)
    client.post(
        reverse("goal_mine_edit", args=[goal.pk]),
        {**GOAL, "wording": "Sleep 7 hours", "version": goal.version, "note": "more concrete"},
    )
    goal.refresh_from_db()
    assert goal.wording == "Sleep better" and goal.status == "active"
    change = GoalChange.objects.get(goal=goal, status="pending")
    sign_in(client, p.therapist)
    page = client.get(reverse("goals_staff", args=[p.client.pk])).content.decode()
    assert "Sleep 7 hours" in page and "Accept the change" in page
    client.post(reverse("goal_staff_decide", args=[p.client.pk, change.pk]), {"decision": "accept"})
    goal.refresh_from_db()
    assert goal.wording == "Sleep 7 hours"
    change.refresh_from_db()
    assert change.status == "accepted" and change.decided_by == p.therapist


def test_the_proposer_cannot_accept_their_own_change(personas):
    goal = make_goal(personas)
    change = goal.edit(personas.client_user, "client", goal.version, wording="Other")
    with pytest.raises(GoalConflict):
        change.decide(personas.client_user, "client", True)


def test_simultaneous_edits_are_detected_and_both_versions_shown(client, personas):
    p = personas
    goal = make_goal(p, "Walk daily", active=False)
    stale = goal.version
    sign_in(client, p.therapist)
    client.post(
        reverse("goal_staff_edit", args=[p.client.pk, goal.pk]),
        {**GOAL, "wording": "Walk 20 minutes daily", "version": stale},
    )
    sign_in(client, p.client_user)
    response = client.post(
        reverse("goal_mine_edit", args=[goal.pk]),
        {**GOAL, "wording": "Walk the dog daily", "version": stale},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this goal" in html
    assert (
        "Walk 20 minutes daily" in html and "Walk the dog daily" in html
    )  # both versions, nothing lost
    goal.refresh_from_db()
    assert goal.wording == "Walk 20 minutes daily"
    # Agreeing to an outdated version is refused too.
    with pytest.raises(GoalConflict):
        goal.agree(p.client_user, "client", stale)


def test_an_edit_of_a_proposed_goal_asks_the_other_side_again(personas):
    p = personas
    goal = make_goal(p, "Call my sister", active=False)
    goal.edit(p.therapist, "therapist", goal.version, wording="Call my sister weekly")
    goal.refresh_from_db()
    assert goal.status == "proposed" and goal.therapist_agreed_at and goal.client_agreed_at is None


def test_rank_disagreement_opens_and_closes(client, personas):
    p = personas
    goals = [make_goal(p, f"Goal {i}") for i in range(3)]
    sign_in(client, p.client_user)
    client.post(
        reverse("goals_mine_rank"), {f"rank_{g.pk}": str(i + 1) for i, g in enumerate(goals)}
    )
    assert not RankDisagreement.objects.exists()  # only one side has ranked
    sign_in(client, p.therapist)
    response = client.post(
        reverse("goals_staff_rank", args=[p.client.pk]),
        {f"rank_{g.pk}": str(3 - i) for i, g in enumerate(goals)},
        follow=True,
    )
    assert "rank the goals differently" in response.content.decode()
    item = RankDisagreement.objects.get(client=p.client, resolved_at__isnull=True)
    assert "different first goal" in item.detail
    found = alerts(p.client, "disagreement")
    assert found.count() == 1 and item.alert == found.get()
    client.post(
        reverse("goals_staff_rank", args=[p.client.pk]),
        {f"rank_{g.pk}": str(i + 1) for i, g in enumerate(goals)},
    )
    item.refresh_from_db()
    assert item.resolved_at is not None


def test_rank_disagreement_alert_names_the_goal_ranking_rule(client, personas):
    p = personas
    goals = [make_goal(p, f"Goal {i}") for i in range(3)]
    sign_in(client, p.client_user)
    client.post(
        reverse("goals_mine_rank"), {f"rank_{g.pk}": str(i + 1) for i, g in enumerate(goals)}
    )
    sign_in(client, p.therapist)
    client.post(
        reverse("goals_staff_rank", args=[p.client.pk]),
        {f"rank_{g.pk}": str(3 - i) for i, g in enumerate(goals)},
    )
    alert = Alert.objects.get(client=p.client, kind="disagreement")
    assert alert.rules == ["goal_ranking"]
    page = client.get(reverse("alert_list")).content.decode()
    assert "rule: Client and therapist rank the goals differently" in page
    assert "Therapist rated the session clearly higher" not in page


def test_a_small_rank_difference_is_not_a_disagreement(personas):
    goals = [
        Goal(client_rank=1, therapist_rank=1),
        Goal(client_rank=2, therapist_rank=3),
        Goal(client_rank=3, therapist_rank=2),
    ]
    for i, g in enumerate(goals):
        g.pk = i
    assert rank_difference(goals) is None
    goals[1].therapist_rank, goals[0].therapist_rank = 1, 3
    assert rank_difference(goals) is not None


def test_invalid_ranking_saves_nothing(client, personas):
    p = personas
    goals = [make_goal(p, f"Goal {i}") for i in range(2)]
    sign_in(client, p.client_user)
    client.post(reverse("goals_mine_rank"), {f"rank_{g.pk}": "1" for g in goals})
    assert not Goal.objects.filter(client_rank__isnull=False).exists()


def test_gas_t_score_per_date_with_unequal_weights_matches_hand_computation(client, personas):
    p = personas
    # Weights importance x difficulty: 2x1=2, 1x1=1, 3x1=3; levels 0, +1, -1.
    goals = [make_goal(p, "A", 2, 1), make_goal(p, "B", 1, 1), make_goal(p, "C", 3, 1)]
    sign_in(client, p.therapist)
    client.post(
        reverse("goals_staff_rate", args=[p.client.pk]),
        {
            "rated_on": "2026-01-10",
            **{f"level_{g.pk}": lvl for g, lvl in zip(goals, ["0", "1", "-1"], strict=False)},
        },
    )
    client.post(
        reverse("goals_staff_rate", args=[p.client.pk]),
        {"rated_on": "2026-02-10", **{f"level_{g.pk}": "0" for g in goals}},
    )
    history = gas_history(p.client)
    # By hand: sum(w x) = -2; sqrt(0.7 * 14 + 0.3 * 36) = sqrt(20.6); T = 50 - 20 / 4.5387 = 45.59
    assert [(h.rated_on, h.rater, h.t_score) for h in history] == [
        (date(2026, 1, 10), "therapist", 45.6),
        (date(2026, 2, 10), "therapist", 50.0),
    ]
    assert math.isclose(gas_t_score([0, 1, -1], [2, 1, 3]), 50 - 20 / math.sqrt(20.6), abs_tol=1e-9)
    assert math.isclose(gas_t_score([0, 1, -1], [2, 1, 3]), 45.5935, abs_tol=1e-4)
    page = client.get(reverse("goals_staff", args=[p.client.pk])).content.decode()
    assert "<svg" in page and "45.6" in page and '<table class="gas-table">' in page
    # A second rating on the same date replaces the first (one per goal, rater and date).
    client.post(
        reverse("goals_staff_rate", args=[p.client.pk]),
        {"rated_on": "2026-02-10", f"level_{goals[0].pk}": "2"},
    )
    assert GasRating.objects.filter(rated_on=date(2026, 2, 10), goal=goals[0]).get().level == 2


def test_client_and_therapist_rate_separately(client, personas):
    p = personas
    goal = make_goal(p)
    sign_in(client, p.client_user)
    client.post(reverse("goals_mine_rate"), {"rated_on": "2026-01-10", f"level_{goal.pk}": "2"})
    sign_in(client, p.therapist)
    client.post(
        reverse("goals_staff_rate", args=[p.client.pk]),
        {"rated_on": "2026-01-10", f"level_{goal.pk}": "1"},
    )
    raters = {h.rater: h.t_score for h in gas_history(p.client)}
    assert raters == {"client": 70.0, "therapist": 60.0}


def test_goal_paused_achieved_dropped_with_reason(client, personas):
    p = personas
    goal = make_goal(p)
    sign_in(client, p.client_user)
    client.post(reverse("goal_mine_status", args=[goal.pk]), {"status": "achieved"})  # no reason
    goal.refresh_from_db()
    assert goal.status == "active"
    client.post(
        reverse("goal_mine_status", args=[goal.pk]), {"status": "achieved", "reason": "Ran a 5k"}
    )
    goal.refresh_from_db()
    assert goal.status == "achieved" and goal.status_reason == "Ran a 5k" and goal.closed_at


def earlier(task, minutes=30):
    """Move the task's updates back in time, as if the client came back later."""

    for u in TaskUpdate.objects.filter(task=task):
        TaskUpdate.objects.filter(pk=u.pk).update(
            created_at=u.created_at - dt.timedelta(minutes=minutes)
        )


def test_double_submitted_goal_and_task_are_saved_once(client, personas):
    p = personas
    sign_in(client, p.client_user)
    client.post(reverse("goals_mine"), GOAL)
    page = client.post(reverse("goals_mine"), GOAL, follow=True).content.decode()
    assert "already proposed" in page and Goal.objects.filter(client=p.client).count() == 1
    client.post(reverse("goals_mine"), {**GOAL, "wording": "Sleep by eleven"})
    assert Goal.objects.filter(client=p.client).count() == 2
    goal = make_goal(p, "Walk to work")
    sign_in(client, p.therapist)
    url = reverse("task_staff_create", args=[p.client.pk, goal.pk])
    task = {"description": "Walk on Mondays", "rationale": "Small steps first"}
    client.post(url, task)
    page = client.post(url, task, follow=True).content.decode()
    assert "already added" in page and Task.objects.filter(goal=goal).count() == 1


def test_double_submitted_not_working_is_one_statement_not_a_rupture_signal(client, personas):
    p = personas
    goal = make_goal(p)
    task = Task.objects.create(
        clinic=p.client.clinic,
        client=p.client,
        goal=goal,
        description="Walk daily",
        rationale="Movement lifts mood",
        created_by=p.therapist,
    )
    sign_in(client, p.client_user)
    url = reverse("task_mine_update", args=[task.pk])
    client.post(url, {"not_working": "on", "note": "No time"})
    page = client.post(url, {"not_working": "on", "note": "No time"}, follow=True).content.decode()
    assert "We already have that" in page
    client.post(
        url, {"not_working": "on", "note": "And it rains"}
    )  # an afterthought: kept, not counted
    (update,) = TaskUpdate.objects.filter(task=task)
    assert update.note == "No time\n\nAnd it rains" and task.not_working_count() == 1
    found = alerts(p.client, "rupture")
    assert not found.exists()
    # Progress entered twice by a double click is stored once, a later change again.
    client.post(url, {"progress": "40"})
    client.post(url, {"progress": "40"})
    assert TaskUpdate.objects.filter(task=task, progress=40).count() == 1
    client.post(url, {"progress": "60"})
    task.refresh_from_db()
    assert task.progress == 60 and TaskUpdate.objects.filter(task=task).count() == 3


def test_tasks_rationale_progress_and_not_working(client, personas):
    p = personas
    goal = make_goal(p)
    sign_in(client, p.therapist)
    client.post(
        reverse("task_staff_create", args=[p.client.pk, goal.pk]),
        {
            "description": "Note one worry a day",
            "rationale": "Writing worries down makes them smaller",
        },
    )
    task = Task.objects.get(goal=goal)
    sign_in(client, p.client_user)
    page = client.get(reverse("client_home")).content.decode()
    assert "Why this helps: Writing worries down makes them smaller" in page
    client.post(reverse("task_mine_update", args=[task.pk]), {"progress": "50"})
    task.refresh_from_db()
    assert task.progress == 50
    client.post(
        reverse("task_mine_update", args=[task.pk]),
        {"not_working": "on", "note": "Too late at night"},
    )
    found = alerts(p.client, "rupture")
    assert not found.exists()  # once is not yet a signal
    earlier(task)
    client.post(reverse("task_mine_update", args=[task.pk]), {"not_working": "on"})
    assert found.count() == 1
    sign_in(client, p.therapist)
    page = client.get(reverse("client_detail", args=[p.client.pk])).content.decode()
    assert "This isn&#x27;t working for me" in page or "This isn't working for me" in page
    client.post(reverse("task_staff_seen", args=[p.client.pk, task.pk]))
    assert not task.unseen_not_working().exists()


@pytest.mark.parametrize("persona", ["colleague", "foreign_therapist", "admin", "other_client"])
def test_outsiders_get_404_on_goal_pages(client, personas, persona):
    p = personas
    goal = make_goal(p, "Private goal words")
    sign_in(client, p.all()[persona])
    for url in [
        reverse("goals_staff", args=[p.client.pk]),
        reverse("goal_staff_edit", args=[p.client.pk, goal.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 404
        assert b"Private goal words" not in response.content
    if persona == "other_client":
        assert client.get(reverse("goal_mine_edit", args=[goal.pk])).status_code == 404
        assert b"Private goal words" not in client.get(reverse("goals_mine")).content
        client.post(reverse("goal_mine_agree", args=[goal.pk]), {"version": goal.version})


def test_goal_text_is_encrypted_at_rest(personas):
    make_goal(personas, "Secret wording")
    with connection.cursor() as cur:
        cur.execute("SELECT wording FROM goals_goal")
        assert cur.fetchone()[0].startswith("fernet:")


def test_task_status_follows_progress(personas):
    goal = make_goal(personas, "Walk")
    task = Task.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        goal=goal,
        description="Walk daily",
        rationale="Moving helps mood",
        created_by=personas.therapist,
        progress=100,
    )
    assert task.status == Task.Status.DONE
    task.progress = 40
    task.save(update_fields=["progress"])
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
    task.status = Task.Status.STOPPED
    task.save()
    task.progress = 100
    task.save(update_fields=["progress"])
    task.refresh_from_db()
    assert task.status == Task.Status.STOPPED  # stopped stays stopped


def test_goal_proposal_errors_are_summarised_at_the_top_and_take_focus(client, personas):
    sign_in(client, personas.client_user)
    response = client.post(reverse("goals_mine"), {"wording": ""})
    body = response.content.decode()
    summary = body.index('id="error-summary"')
    assert summary < body.index('id="new-h"')  # above the form, not at the bottom of the page
    assert "autofocus" in body[summary - 200 : summary + 200]
    assert 'href="#id_wording"' in body
