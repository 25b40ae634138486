"""Goals, GAS ratings and tasks: one set of pages, used by the therapist and by the client.

Each view comes twice: ``staff_*`` under /clients/<id>/goals/ for the care team, and ``my_*``
under /me/goals/ for the client. Both load the client through ``client_or_404`` (audited)
and then call the same body with the acting side.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from alliance.clients.access import client_or_404, clinical_staff, own_client
from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.core.access import client_only, signed_in_user
from alliance.core.dedupe import DOUBLE_SUBMIT_WINDOW, recent_duplicate
from alliance.goals import signals
from alliance.goals.charts import gas_chart
from alliance.goals.forms import GoalForm, StatusForm, TaskForm, TaskUpdateForm
from alliance.goals.models import (
    CLIENT,
    NOT_WORKING_RUPTURE_SIGNAL,
    THERAPIST,
    GasRating,
    Goal,
    GoalChange,
    GoalConflict,
    RankDisagreement,
    Task,
    TaskUpdate,
    check_rank_agreement,
    gas_history,
)


def base_url(client: ClientRecord, side: str) -> str:
    return reverse("goals_staff", args=[client.pk]) if side == THERAPIST else reverse("goals_mine")


def _goal(client: ClientRecord, goal_id: uuid.UUID) -> Goal:
    goal = Goal.objects.for_client(client).filter(pk=goal_id).first()
    if goal is None:
        raise Http404
    return goal


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


# --- bodies shared by both sides ---------------------------------------------------------


def _page(
    request: HttpRequest, client: ClientRecord, side: str, form: GoalForm | None = None
) -> HttpResponse:
    goals = list(Goal.objects.for_client(client).prefetch_related("tasks", "changes"))
    current = [
        g
        for g in goals
        if g.status in (Goal.Status.PROPOSED, Goal.Status.ACTIVE, Goal.Status.PAUSED)
    ]
    for g in current:
        g.my_rank = getattr(g, f"{side}_rank")
        g.can_agree = g.status == Goal.Status.PROPOSED and not g.agreed_by(side)
        g.pending = g.pending_change()
    history = gas_history(client)
    return render(
        request,
        "goals/goals_page.html",
        {
            "client": client,
            "side": side,
            "base": base_url(client, side),
            "goals": current,
            "closed": [g for g in goals if g not in current],
            "active": [g for g in goals if g.status == Goal.Status.ACTIVE],
            "form": form or GoalForm(),
            "today": timezone.localdate(),
            "history": history,
            "chart": gas_chart(history),
            "disagreement": RankDisagreement.objects.filter(
                client=client, resolved_at__isnull=True
            ).first(),
            "rank_field": f"{side}_rank",
        },
    )


def _create(request: HttpRequest, client: ClientRecord, side: str) -> HttpResponse:
    form = GoalForm(request.POST)
    if not form.is_valid():
        return _page(request, client, side, form)
    fields = form.goal_fields()
    same = Goal.objects.filter(
        client=client, proposed_by=signed_in_user(request), status=Goal.Status.PROPOSED
    )
    if recent_duplicate(same, fields) is not None:  # double submit: the goal is already proposed
        messages.info(request, gettext("This goal was already proposed; it is saved once."))
        return redirect(base_url(client, side))
    Goal.propose(client, signed_in_user(request), side, **fields)
    audit.record_request(request, "create", "goal", client=client)
    messages.success(
        request,
        gettext("Goal proposed. It becomes active when your therapist agrees.")
        if side == CLIENT
        else gettext("Goal proposed. It becomes active when the client agrees."),
    )
    return redirect(base_url(client, side))


def _edit(
    request: HttpRequest, client: ClientRecord, side: str, goal_id: uuid.UUID
) -> HttpResponse:
    goal = _goal(client, goal_id)
    conflict = None
    if request.method == "POST":
        form = GoalForm(request.POST)
        if form.is_valid():
            try:
                change = goal.edit(
                    signed_in_user(request),
                    side,
                    form.cleaned_data["version"] or 0,
                    note=form.cleaned_data["note"],
                    **form.goal_fields(),
                )
            except GoalConflict as exc:
                # No lost update: show what is saved now beside what this person typed, and ask.
                conflict = exc.current
                form = GoalForm(initial={**form.cleaned_data, "version": conflict.version})
            else:
                audit.record_request(request, "update", "goal", client=client)
                if change.status == GoalChange.Status.PENDING:
                    messages.success(
                        request,
                        gettext("Change proposed. The goal changes once the other side agrees."),
                    )
                else:
                    messages.success(
                        request,
                        gettext("Goal changed. It now waits for the other side to agree again."),
                    )
                return redirect(base_url(client, side))
    else:
        form = GoalForm(initial={**goal.snapshot(), "version": goal.version})
    return render(
        request,
        "goals/goal_edit.html",
        {
            "client": client,
            "goal": goal,
            "form": form,
            "conflict": conflict,
            "base": base_url(client, side),
            "side": side,
        },
        status=409 if conflict else 200,
    )


def _agree(
    request: HttpRequest, client: ClientRecord, side: str, goal_id: uuid.UUID
) -> HttpResponse:
    goal = _goal(client, goal_id)
    if request.method == "POST":
        try:
            goal.agree(signed_in_user(request), side, _int(request.POST.get("version")) or 0)
        except GoalConflict:
            messages.warning(
                request,
                gettext(
                    "The goal changed since you opened this page. Please read it again before agreeing."
                ),
            )
        else:
            audit.record_request(request, "update", "goal", client=client, note="agreed")
            messages.success(
                request,
                gettext("Goal agreed by both of you: it is active.")
                if goal.status == Goal.Status.ACTIVE
                else gettext("Agreement recorded."),
            )
    return redirect(base_url(client, side))


def _decide(
    request: HttpRequest, client: ClientRecord, side: str, change_id: uuid.UUID
) -> HttpResponse:
    change = (
        GoalChange.objects.filter(pk=change_id, goal__client=client).select_related("goal").first()
    )
    if change is None:
        raise Http404
    if request.method == "POST":
        accept = request.POST.get("decision") == "accept"
        try:
            change.decide(signed_in_user(request), side, accept)
        except GoalConflict:
            messages.warning(request, gettext("That change was already decided or replaced."))
        else:
            audit.record_request(
                request,
                "update",
                "goal",
                client=client,
                note="change accepted" if accept else "change declined",
            )
            messages.success(
                request,
                gettext("Change accepted.")
                if accept
                else gettext("Change declined; the goal stays as it was."),
            )
    return redirect(base_url(client, side))


def _rank(request: HttpRequest, client: ClientRecord, side: str) -> HttpResponse:
    if request.method == "POST":
        active = list(Goal.objects.for_client(client).filter(status=Goal.Status.ACTIVE))
        ranks = {g.pk: _int(request.POST.get(f"rank_{g.pk}")) for g in active}
        values = [r for r in ranks.values() if r is not None]
        if len(values) != len(active) or sorted(values) != list(range(1, len(active) + 1)):
            messages.error(
                request,
                gettext("Give each goal a different rank from 1 to %(n)s; nothing was saved.")
                % {"n": len(active)},
            )
            return redirect(base_url(client, side))
        for goal in active:
            setattr(goal, f"{side}_rank", ranks[goal.pk])
            goal.save(update_fields=[f"{side}_rank"])
        audit.record_request(request, "update", "goal", client=client, note="ranked")
        item = check_rank_agreement(client)
        messages.success(
            request,
            (
                gettext(
                    "Ranking saved. You and your client rank the goals differently: worth "
                    "talking about next session."
                )
                if item
                else gettext("Ranking saved. You and your client agree on the order.")
            )
            if side == THERAPIST
            else (
                gettext(
                    "Ranking saved. You and your therapist rank the goals differently: worth "
                    "talking about next session."
                )
                if item
                else gettext("Ranking saved. You and your therapist agree on the order.")
            ),
        )
    return redirect(base_url(client, side))


def _rate(request: HttpRequest, client: ClientRecord, side: str) -> HttpResponse:
    if request.method == "POST":
        try:
            rated_on = date.fromisoformat(request.POST.get("rated_on", ""))
        except ValueError:
            rated_on = timezone.localdate()
        if rated_on > timezone.localdate():
            messages.error(request, gettext("A rating cannot be in the future; nothing was saved."))
            return redirect(base_url(client, side))
        saved = 0
        with transaction.atomic():
            for goal in Goal.objects.for_client(client).filter(status=Goal.Status.ACTIVE):
                level = _int(request.POST.get(f"level_{goal.pk}"))
                if level is None or level not in (-2, -1, 0, 1, 2):
                    continue
                GasRating.objects.update_or_create(
                    goal=goal,
                    rater=side,
                    rated_on=rated_on,
                    defaults={
                        "clinic_id": client.clinic_id,
                        "level": level,
                        "rated_by": request.user,
                    },
                )
                saved += 1
        if saved:
            audit.record_request(
                request, "create", "goal", client=client, note=f"GAS rating {rated_on}"
            )
            messages.success(
                request,
                ngettext("Rating saved for %(n)s goal.", "Rating saved for %(n)s goals.", saved)
                % {"n": saved},
            )
        else:
            messages.error(request, gettext("Choose a level for at least one goal."))
    return redirect(base_url(client, side))


def _status(
    request: HttpRequest, client: ClientRecord, side: str, goal_id: uuid.UUID
) -> HttpResponse:
    goal = _goal(client, goal_id)
    if request.method == "POST":
        form = StatusForm(request.POST)
        if form.is_valid() and goal.status != Goal.Status.PROPOSED:
            goal.close(form.cleaned_data["status"], form.cleaned_data["reason"])
            audit.record_request(
                request, "update", "goal", client=client, note=f"status {goal.status}"
            )
            messages.success(
                request,
                gettext("Goal is now: %(status)s.") % {"status": goal.get_status_display().lower()},
            )
        else:
            messages.error(
                request,
                gettext("Say why, and choose what happens to the goal; nothing was changed."),
            )
    return redirect(base_url(client, side))


# --- therapist ------------------------------------------------------------------------------


@clinical_staff
def staff_goals(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if request.method == "POST":
        return _create(
            request,
            client_or_404(request, client_id, write=True, record_type="goal", action="update"),
            THERAPIST,
        )
    return _page(request, client_or_404(request, client_id, record_type="goal"), THERAPIST)


@clinical_staff
def staff_goal_edit(request: HttpRequest, client_id: uuid.UUID, goal_id: uuid.UUID) -> HttpResponse:
    action = "update" if request.method == "POST" else "view"
    return _edit(
        request,
        client_or_404(
            request, client_id, write=action != "view", record_type="goal", action=action
        ),
        THERAPIST,
        goal_id,
    )


@clinical_staff
def staff_goal_agree(
    request: HttpRequest, client_id: uuid.UUID, goal_id: uuid.UUID
) -> HttpResponse:
    return _agree(
        request,
        client_or_404(request, client_id, write=True, record_type="goal", action=""),
        THERAPIST,
        goal_id,
    )


@clinical_staff
def staff_goal_status(
    request: HttpRequest, client_id: uuid.UUID, goal_id: uuid.UUID
) -> HttpResponse:
    return _status(
        request,
        client_or_404(request, client_id, write=True, record_type="goal", action=""),
        THERAPIST,
        goal_id,
    )


@clinical_staff
def staff_change_decide(
    request: HttpRequest, client_id: uuid.UUID, change_id: uuid.UUID
) -> HttpResponse:
    return _decide(
        request,
        client_or_404(request, client_id, write=True, record_type="goal", action=""),
        THERAPIST,
        change_id,
    )


@clinical_staff
def staff_goals_rank(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    return _rank(
        request,
        client_or_404(request, client_id, write=True, record_type="goal", action=""),
        THERAPIST,
    )


@clinical_staff
def staff_goals_rate(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    return _rate(
        request,
        client_or_404(request, client_id, write=True, record_type="goal", action=""),
        THERAPIST,
    )


@clinical_staff
def staff_task_create(
    request: HttpRequest, client_id: uuid.UUID, goal_id: uuid.UUID
) -> HttpResponse:
    client = client_or_404(request, client_id, write=True, record_type="goal", action="")
    goal = _goal(client, goal_id)
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid() and recent_duplicate(
            Task.objects.filter(goal=goal, created_by=signed_in_user(request)), form.cleaned_data
        ):
            messages.info(request, gettext("This task was already added; it is saved once."))
        elif form.is_valid():
            Task.objects.create(
                clinic=client.clinic,
                client=client,
                goal=goal,
                created_by=signed_in_user(request),
                **form.cleaned_data,
            )
            audit.record_request(request, "create", "task", client=client)
            messages.success(request, gettext("Task added."))
        else:
            messages.error(
                request, gettext("A task needs what to do and why it helps; nothing was saved.")
            )
    return redirect(base_url(client, THERAPIST))


@clinical_staff
def staff_task_seen(request: HttpRequest, client_id: uuid.UUID, task_id: uuid.UUID) -> HttpResponse:
    """The therapist went through the client's "this isn't working" notes in session."""
    client = client_or_404(request, client_id, write=True, record_type="goal", action="")
    task = Task.objects.filter(pk=task_id, client=client).first()
    if task is None:
        raise Http404
    if request.method == "POST":
        task.unseen_not_working().update(seen_at=timezone.now())
        audit.record_request(request, "acknowledge", "task", client=client)
    if request.POST.get("next") == "client":
        return redirect("client_detail", client_id=client.pk)
    return redirect(base_url(client, THERAPIST))


# --- client ---------------------------------------------------------------------------------


@client_only
def my_goals(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request, own_client(request, record_type="goal", action=""), CLIENT)
    return _page(request, own_client(request, record_type="goal"), CLIENT)


@client_only
def my_goal_edit(request: HttpRequest, goal_id: uuid.UUID) -> HttpResponse:
    return _edit(
        request,
        own_client(request, record_type="goal", action="" if request.method == "POST" else "view"),
        CLIENT,
        goal_id,
    )


@client_only
def my_goal_agree(request: HttpRequest, goal_id: uuid.UUID) -> HttpResponse:
    return _agree(request, own_client(request, record_type="goal", action=""), CLIENT, goal_id)


@client_only
def my_goal_status(request: HttpRequest, goal_id: uuid.UUID) -> HttpResponse:
    return _status(request, own_client(request, record_type="goal", action=""), CLIENT, goal_id)


@client_only
def my_change_decide(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    return _decide(request, own_client(request, record_type="goal", action=""), CLIENT, change_id)


@client_only
def my_goals_rank(request: HttpRequest) -> HttpResponse:
    return _rank(request, own_client(request, record_type="goal", action=""), CLIENT)


@client_only
def my_goals_rate(request: HttpRequest) -> HttpResponse:
    return _rate(request, own_client(request, record_type="goal", action=""), CLIENT)


@client_only
def my_task_update(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Progress on a task, or "this isn't working for me" (a rupture signal when repeated)."""
    client = own_client(request, record_type="goal", action="")
    task = Task.objects.filter(pk=task_id, client=client).first()
    if task is None:
        raise Http404
    if request.method == "POST":
        form = TaskUpdateForm(request.POST)
        if form.is_valid() and (
            form.cleaned_data["progress"] is not None or form.cleaned_data["not_working"]
        ):
            data = form.cleaned_data
            with transaction.atomic():
                task = Task.objects.select_for_update().get(
                    pk=task.pk
                )  # one double submit at a time
                merged = _merge_into_recent_update(task, data)
                if merged == "same":
                    messages.info(
                        request, gettext("We already have that. Your therapist will see it.")
                    )
                    return redirect("goals_mine")
                if merged is None:
                    TaskUpdate.objects.create(
                        clinic=client.clinic,
                        task=task,
                        progress=data["progress"],
                        not_working=data["not_working"],
                        note=data["note"],
                    )
                if data["progress"] is not None:
                    task.progress = data["progress"]
                    task.status = Task.Status.DONE if data["progress"] >= 100 else Task.Status.OPEN
                    task.save(update_fields=["progress", "status"])
                audit.record_request(request, "update", "task", client=client)
                count = task.not_working_count() if data["not_working"] else 0
            if count >= NOT_WORKING_RUPTURE_SIGNAL:
                signals.task_not_working.send(sender=Task, task=task, count=count)
            if data["not_working"]:
                messages.success(
                    request,
                    gettext(
                        "Thank you for saying so. Your therapist will see this and talk it through with you."
                    ),
                )
            else:
                messages.success(request, gettext("Progress saved."))
        else:
            messages.error(
                request,
                gettext("Enter how far along you are, or tick 'This isn't working for me'."),
            )
    return redirect("goals_mine")


def _merge_into_recent_update(task: Task, data: dict) -> str | None:
    """ "same" when the latest update (within the window) already says exactly this; "merged"
    when this "not working" update was folded into a recent one; None to store a new update.

    A second update this soon is a double submit or an afterthought, not a second "this isn't
    working": it is kept in the first one, so a double click cannot turn one "not working" into
    a rupture signal, and words added in a second go are not lost."""
    last = task.updates.order_by("-created_at").first()
    if last is None or timezone.now() - last.created_at >= DOUBLE_SUBMIT_WINDOW:
        return None
    if (last.progress, last.not_working, last.note) == (
        data["progress"],
        data["not_working"],
        data["note"],
    ):
        return "same"
    if not (data["not_working"] and last.not_working):
        return None
    if data["note"] and data["note"] not in last.note:
        last.note = f"{last.note}\n\n{data['note']}".strip()
    if data["progress"] is not None:
        last.progress = data["progress"]
    last.save(update_fields=["note", "progress"])
    return "merged"
