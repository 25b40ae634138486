"""Demo goals: agreed and proposed goals, GAS ratings at various levels over time, tasks with
their reasons, and a task the client says isn't working. All fictional."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alliance.core.seeding import DemoContext
from alliance.goals.models import GasRating, Goal, Task, TaskUpdate, check_rank_agreement

GOALS = [
    (
        "Get back to running twice a week",
        ("Not running at all", "Once a month", "Once a week", "Twice a week", "Three times a week"),
        3,
        2,
    ),
    (
        "Feel less on edge before meetings",
        (
            "Skip meetings",
            "Dread every meeting",
            "Nervous but I go",
            "Calm most times",
            "I speak up",
        ),
        2,
        3,
    ),
    (
        "Call my sister every Sunday",
        ("No contact", "Once a month", "Every other week", "Every week", "Every week and we meet"),
        2,
        1,
    ),
]
TASKS = [
    ("Walk 10 minutes after lunch", "Small steps rebuild the habit without overwhelming you."),
    (
        "Write down one worry before each meeting",
        "Naming a worry makes it smaller and easier to test.",
    ),
    (
        "Text my sister on Saturday to plan the call",
        "A plan the day before makes the call more likely to happen.",
    ),
]


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = timezone.localdate()
    for index, client in enumerate(ctx.clients[:8]):
        if client.status != "active":
            continue
        therapist = client.care_team.get(is_primary=True).therapist
        goals = []
        for n, (wording, levels, importance, difficulty) in enumerate(GOALS[: 2 + index % 2]):
            fields = dict(
                zip(
                    ("level_m2", "level_m1", "level_0", "level_p1", "level_p2"), levels, strict=True
                )
            )
            side_user, side = (client.user, "client") if n % 2 == 0 else (therapist, "therapist")
            goal = Goal.propose(
                client,
                side_user,
                side,
                wording=wording,
                importance=importance,
                difficulty=difficulty,
                **fields,
            )
            if index == 1 and n == 1:
                continue  # one goal still waits for the therapist's agreement
            other = (therapist, "therapist") if side == "client" else (client.user, "client")
            goal.agree(other[0], other[1], goal.version)
            goal.refresh_from_db()
            goals.append(goal)
            description, rationale = TASKS[n]
            task = Task.objects.create(
                clinic=ctx.clinic,
                client=client,
                goal=goal,
                description=description,
                rationale=rationale,
                created_by=therapist,
                progress=rng.choice([0, 30, 60, 100]),
            )
            if index == 2 and n == 0:
                for _ in range(2):
                    TaskUpdate.objects.create(
                        clinic=ctx.clinic,
                        task=task,
                        not_working=True,
                        note="Lunch breaks are too short this month.",
                    )
        # Ratings every two weeks, drifting from below expected towards the expected level or above.
        trend = [-2, -1, -1, 0, 0, 1, 1, 2][index % 8]
        for k in range(6, 0, -1):
            day = today - timedelta(days=14 * k)
            for goal in goals:
                level = max(-2, min(2, trend - (k // 2) + rng.choice([0, 0, 1])))
                GasRating.objects.create(
                    clinic=ctx.clinic,
                    goal=goal,
                    rater="therapist",
                    rated_by=therapist,
                    level=level,
                    rated_on=day,
                )
                GasRating.objects.create(
                    clinic=ctx.clinic,
                    goal=goal,
                    rater="client",
                    rated_by=client.user,
                    level=max(-2, min(2, level + rng.choice([-1, 0, 0, 1]))),
                    rated_on=day,
                )
        if index == 3 and len(goals) >= 2:
            for rank, goal in enumerate(goals, start=1):
                goal.client_rank, goal.therapist_rank = rank, len(goals) + 1 - rank
                goal.save(update_fields=["client_rank", "therapist_rank"])
            check_rank_agreement(client)
    ctx.notes.append(
        "Goals: clients 1-8 have goals with GAS ratings; client 2 has a task marked not working."
    )
