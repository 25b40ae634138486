"""Shared goals with Goal Attainment Scaling, goal changes, rankings and tasks.

Goal consensus (r = .24) and collaboration (r = .29) predict outcome (Tryon et al. 2018): a goal
is active only when client and therapist have both agreed to it, in the client's own words.
GAS levels and weights follow Kiresuk & Sherman 1968 (see ``alliance.goals.gas``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.alerts.models import Alert, AlertKind
from alliance.core.fields import EncryptedTextField
from alliance.core.models import ClinicRecord
from alliance.goals.gas import gas_t_score, goal_weight

if TYPE_CHECKING:
    from alliance.accounts.models import User
    from alliance.clients.models import ClientRecord

CLIENT = "client"
THERAPIST = "therapist"
SIDES = ((CLIENT, "Client"), (THERAPIST, "Therapist"))
LEVEL_FIELDS = ("level_m2", "level_m1", "level_0", "level_p1", "level_p2")
LEVEL_LABELS = {
    -2: _("Much less than expected"),
    -1: _("Somewhat less than expected"),
    0: _("The expected outcome"),
    1: _("Somewhat more than expected"),
    2: _("Much more than expected"),
}
# A "clear difference" in ranking: the two parties put a different goal first, or one goal sits
# two or more places apart. Tryon et al. 2018 treat goal consensus as a matter for discussion,
# so a difference opens a low-severity item for the next session, never a block.
RANK_GAP = 2


class GoalConflict(Exception):
    """The goal changed since the form was opened: show both versions and ask."""

    def __init__(self, current: Goal) -> None:
        super().__init__("The goal was changed by someone else.")
        self.current = current


def other_side(side: str) -> str:
    return THERAPIST if side == CLIENT else CLIENT


class GoalQuerySet(models.QuerySet["Goal"]):
    def for_client(self, client: ClientRecord) -> GoalQuerySet:
        return self.filter(client=client, clinic_id=client.clinic_id)

    def current(self) -> GoalQuerySet:
        return self.filter(
            status__in=[Goal.Status.PROPOSED, Goal.Status.ACTIVE, Goal.Status.PAUSED]
        )


class Goal(ClinicRecord):
    """A goal in the client's own words; active once both sides agreed."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for agreement")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ACHIEVED = "achieved", _("Achieved")
        DROPPED = "dropped", _("Dropped")

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="goals"
    )
    wording = EncryptedTextField(help_text="The goal in the client's own words.")
    level_m2 = EncryptedTextField(blank=True)
    level_m1 = EncryptedTextField(blank=True)
    level_0 = EncryptedTextField(blank=True)
    level_p1 = EncryptedTextField(blank=True)
    level_p2 = EncryptedTextField(blank=True)
    importance = models.PositiveSmallIntegerField(default=2)
    difficulty = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    status_reason = EncryptedTextField(blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by_side = models.CharField(max_length=10, choices=SIDES)
    client_agreed_at = models.DateTimeField(null=True, blank=True)
    client_agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    therapist_agreed_at = models.DateTimeField(null=True, blank=True)
    therapist_agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    therapist_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = GoalQuerySet.as_manager()

    # Set on each current goal by goals.views for the goals page; not stored.
    my_rank: int | None
    can_agree: bool
    pending: GoalChange | None

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["client", "status"])]

    def __str__(self) -> str:
        return self.wording

    # --- reading -------------------------------------------------------------------------
    @property
    def weight(self) -> float:
        return goal_weight(self.importance, self.difficulty)

    def levels(self) -> list[tuple[int, str, str]]:
        """(level, standard label, the concrete words agreed for it), from -2 to +2."""
        return [
            (level, str(LEVEL_LABELS[level]), getattr(self, name))
            for level, name in zip((-2, -1, 0, 1, 2), LEVEL_FIELDS, strict=True)
        ]

    def agreed_by(self, side: str) -> bool:
        return getattr(self, f"{side}_agreed_at") is not None

    def awaiting(self) -> str | None:
        """The side whose agreement is still missing, for a proposed goal."""
        if self.status != self.Status.PROPOSED:
            return None
        for side in (CLIENT, THERAPIST):
            if not self.agreed_by(side):
                return side
        return None

    def pending_change(self) -> GoalChange | None:
        return self.changes.filter(status=GoalChange.Status.PENDING).first()

    def snapshot(self) -> dict[str, Any]:
        data = {
            "wording": self.wording,
            "importance": self.importance,
            "difficulty": self.difficulty,
        }
        data.update({name: getattr(self, name) for name in LEVEL_FIELDS})
        return data

    # --- agreeing --------------------------------------------------------------------------
    @classmethod
    def propose(cls, client: ClientRecord, by: User, side: str, **fields: Any) -> Goal:
        now = timezone.now()
        goal = cls(
            clinic=client.clinic, client=client, proposed_by=by, proposed_by_side=side, **fields
        )
        setattr(goal, f"{side}_agreed_at", now)
        setattr(goal, f"{side}_agreed_by", by)
        goal.save()
        return goal

    def agree(self, by: User, side: str, expected_version: int) -> None:
        """Agree to a proposed goal as it stands at ``expected_version``; both agreed -> active."""
        now = timezone.now()
        with transaction.atomic():
            updated = Goal.objects.filter(
                pk=self.pk, version=expected_version, status=self.Status.PROPOSED
            ).update(**{f"{side}_agreed_at": now, f"{side}_agreed_by": by})
            if not updated:
                raise GoalConflict(Goal.objects.get(pk=self.pk))
            self.refresh_from_db()
            if self.client_agreed_at and self.therapist_agreed_at:
                self.status = self.Status.ACTIVE
                self.activated_at = now
                self.save(update_fields=["status", "activated_at"])

    def edit(
        self, by: User, side: str, expected_version: int, note: str = "", **fields: Any
    ) -> GoalChange:
        """Change the wording, levels or weights.

        A proposed goal changes at once and then waits for the other side again; an agreed goal
        keeps its wording until the other side accepts the change. Either way the version moves
        on, so a second edit made from an older form is caught and shown side by side.
        """
        with transaction.atomic():
            updated = Goal.objects.filter(pk=self.pk, version=expected_version).update(
                version=F("version") + 1
            )
            if not updated:
                raise GoalConflict(Goal.objects.get(pk=self.pk))
            self.refresh_from_db()
            if self.status in (self.Status.ACHIEVED, self.Status.DROPPED):
                raise GoalConflict(self)
            self.changes.filter(status=GoalChange.Status.PENDING).update(
                status=GoalChange.Status.SUPERSEDED, decided_at=timezone.now()
            )
            # django-stubs checks create() keywords against the model fields only, while
            # GoalChange.__init__ also takes before/after.
            change = GoalChange.objects.create(  # type: ignore[misc]
                clinic_id=self.clinic_id,
                goal=self,
                proposed_by=by,
                side=side,
                note=note,
                before=self.snapshot(),
                after={**self.snapshot(), **fields},
            )
            if self.status == self.Status.PROPOSED:
                for name, value in fields.items():
                    setattr(self, name, value)
                other = other_side(side)
                setattr(self, f"{side}_agreed_at", timezone.now())
                setattr(self, f"{side}_agreed_by", by)
                setattr(self, f"{other}_agreed_at", None)
                setattr(self, f"{other}_agreed_by", None)
                self.save()
                change.status = GoalChange.Status.APPLIED
                change.decided_at = timezone.now()
                change.save(update_fields=["status", "decided_at"])
            return change

    def close(self, status: str, reason: str) -> None:
        """Pause, resume, mark achieved or drop, with the reason in words."""
        self.status = status
        self.status_reason = reason
        self.closed_at = (
            timezone.now() if status in (self.Status.ACHIEVED, self.Status.DROPPED) else None
        )
        self.version += 1
        self.save(update_fields=["status", "status_reason", "closed_at", "version"])


class GoalChange(ClinicRecord):
    """A change to a goal proposed by one side; the other side sees and accepts it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the other side"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        APPLIED = "applied", "Applied (goal was not yet agreed)"
        SUPERSEDED = "superseded", "Replaced by a later change"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="changes")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField(max_length=10, choices=SIDES)
    note = EncryptedTextField(blank=True)
    # Wording and level words are clinical free text; the snapshots are stored encrypted as JSON.
    before_json = EncryptedTextField(blank=True)
    after_json = EncryptedTextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __init__(
        self, *args: Any, before: dict | None = None, after: dict | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if before is not None:
            self.before_json = json.dumps(before)
        if after is not None:
            self.after_json = json.dumps(after)

    @property
    def before(self) -> dict[str, Any]:
        return json.loads(self.before_json or "{}")

    @property
    def after(self) -> dict[str, Any]:
        return json.loads(self.after_json or "{}")

    def decide(self, by: User, side: str, accept: bool) -> None:
        if self.status != self.Status.PENDING or side == self.side:
            raise GoalConflict(self.goal)
        with transaction.atomic():
            goal = Goal.objects.select_for_update().get(pk=self.goal_id)
            if accept:
                for name, value in self.after.items():
                    setattr(goal, name, value)
                goal.version += 1
                goal.save()
            self.status = self.Status.ACCEPTED if accept else self.Status.DECLINED
            self.decided_at = timezone.now()
            self.decided_by = by
            self.save(update_fields=["status", "decided_at", "decided_by"])


class GasRating(ClinicRecord):
    """One party's GAS level for one goal on one date (one rating per goal, rater and date)."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="ratings")
    rater = models.CharField(max_length=10, choices=SIDES)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    level = models.SmallIntegerField(choices=[(k, f"{k:+d}: {v}") for k, v in LEVEL_LABELS.items()])
    rated_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rated_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "rater", "rated_on"], name="gas_rating_once_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=-2, level__lte=2), name="gas_level_range"
            ),
        ]


@dataclass(frozen=True)
class GasPoint:
    rated_on: Any
    rater: str
    t_score: float
    n_goals: int


def gas_history(client: ClientRecord) -> list[GasPoint]:
    """Kiresuk-Sherman T-score per rating date and rater, over the goals rated that day."""
    grouped: dict[tuple[Any, str], list[tuple[int, float]]] = {}
    ratings = (
        GasRating.objects.filter(goal__client=client).select_related("goal").order_by("rated_on")
    )
    for r in ratings:
        grouped.setdefault((r.rated_on, r.rater), []).append((r.level, r.goal.weight))
    points = []
    for (day, rater), pairs in sorted(grouped.items()):
        t = gas_t_score([lvl for lvl, _ in pairs], [w for _, w in pairs])
        points.append(GasPoint(day, rater, round(t, 1), len(pairs)))
    return points


class RankDisagreement(ClinicRecord):
    """A clear difference between how client and therapist rank the goals: talk about it."""

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="rank_disagreements"
    )
    detail = models.CharField(max_length=200, help_text="Which goals, by rank; no goal text.")
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(
        "alerts.Alert",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The alert raised for it.",
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_rank_disagreement",
            )
        ]


def rank_difference(goals: list[Goal]) -> str | None:
    """Describe a clear ranking difference, or None. Needs both ranks on at least two goals."""
    # (goal, client rank, therapist rank) of the goals that both sides ranked.
    ranked = [(g, c, t) for g in goals if (c := g.client_rank) and (t := g.therapist_rank)]
    if len(ranked) < 2:
        return None
    client_first = min(ranked, key=lambda r: r[1])[0]
    therapist_first = min(ranked, key=lambda r: r[2])[0]
    gaps = [abs(c - t) for _, c, t in ranked]
    if client_first.pk != therapist_first.pk:
        return f"different first goal; largest gap {max(gaps)} places"
    if max(gaps) >= RANK_GAP:
        return f"a goal ranked {max(gaps)} places apart"
    return None


def check_rank_agreement(client: ClientRecord) -> RankDisagreement | None:
    """Open (or close) the client's rank disagreement; an opened one raises a low alert."""
    goals = list(Goal.objects.for_client(client).filter(status=Goal.Status.ACTIVE))
    detail = rank_difference(goals)
    open_one = RankDisagreement.objects.filter(client=client, resolved_at__isnull=True).first()
    if detail is None:
        if open_one:
            open_one.resolved_at = timezone.now()
            open_one.save(update_fields=["resolved_at"])
        return None
    if open_one:
        return open_one
    item = RankDisagreement.objects.create(clinic=client.clinic, client=client, detail=detail)
    # "disagreement" sorts low, after safety, not-on-track and rupture alerts.
    item.alert, _created = Alert.raise_for(
        client,
        AlertKind.DISAGREEMENT,
        f"Client and therapist rank the goals differently ({detail})",
        {"source": "goal_ranking", "detail": detail, "severity": "low"},
        rules=["goal_ranking"],
    )
    item.save(update_fields=["alert"])
    return item


class Task(ClinicRecord):
    """Homework linked to a goal, with the reason it helps in plain words."""

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")
        STOPPED = "stopped", _("Stopped")

    client = models.ForeignKey(
        "clients.ClientRecord", on_delete=models.CASCADE, related_name="goal_tasks"
    )
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="tasks")
    description = EncryptedTextField()
    rationale = EncryptedTextField(help_text="Why this helps, in plain words.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    progress = models.PositiveSmallIntegerField(
        default=0, help_text="Per cent done, as the client sees it."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Status follows progress wherever the task is written (the client's update, the demo,
        # an import), so a task never reads "To do, 100%" or "Done, 30%". A stopped task stays
        # stopped whatever its progress.
        if self.status != Task.Status.STOPPED:
            self.status = Task.Status.DONE if self.progress >= 100 else Task.Status.OPEN
            fields = kwargs.get("update_fields")
            if fields is not None and "progress" in fields and "status" not in fields:
                kwargs["update_fields"] = [*fields, "status"]
        super().save(*args, **kwargs)

    def not_working_count(self) -> int:
        return self.updates.filter(not_working=True).count()

    def unseen_not_working(self) -> models.QuerySet[TaskUpdate]:
        return self.updates.filter(not_working=True, seen_at__isnull=True)


# "This isn't working for me" said this many times about one task counts as a rupture signal.
NOT_WORKING_RUPTURE_SIGNAL = 2


class TaskUpdate(ClinicRecord):
    """The client's progress on a task, or "this isn't working for me" (with optional words)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="updates")
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    not_working = models.BooleanField(default=False)
    note = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When the therapist saw it in session."
    )

    class Meta:
        ordering = ["-created_at"]
