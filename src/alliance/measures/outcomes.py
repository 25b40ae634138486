"""Outcome classification for one episode of care (PHQ-9 or GAD-7 scores over sessions).

Every threshold is an ``OutcomeSettings`` field, a clinic setting stored with each result
(``OutcomeClassification.settings``), because the published thresholds differ (clinical-reference,
"Change over treatment").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alliance.lib.text import fmt_number
from alliance.measures.registry import load

# Jacobson & Truax 1991: RCI = 1.96 * sqrt(2) * SD * sqrt(1 - r). PHQ-9 with SD 5.5, r .84 -> 6.1,
# the common "6 points". GAD-7's usual 4 points is the same formula on its own SD and reliability.
DEFAULT_RELIABLE_CHANGE = {"phq9": 6.0, "gad7": 4.0}
# Schueller et al. 2015: PHQ-9 at or above 17 at week 4, 13 at week 9, 9 at week 14 predicted
# non-response in CBT. PHQ-9 only.
SCHUELLER_CHECKPOINTS: tuple[tuple[int, int], ...] = ((4, 17), (9, 13), (14, 9))


@dataclass(frozen=True)
class OutcomeSettings:
    """Thresholds for one classification; ``None`` means "the instrument's default"."""

    instrument: str = "phq9"
    reliable_change: float | None = None  # Jacobson & Truax 1991; default 6 (PHQ-9) / 4 (GAD-7)
    response_fraction: float = 0.5  # response: >= 50% reduction from the first score
    remission_below: float | None = (
        None  # Kroenke 2001: PHQ-9 < 5; None for GAD-7 (no reference value)
    )
    recovery_cutoff: float | None = None  # clinical cut-off, default the instrument's (10)
    no_improvement_by_session: int | None = (
        6  # design choice: not on track without reliable improvement by then
    )
    schueller_checkpoints: tuple[tuple[int, int], ...] | None = None  # default PHQ-9 cut-points
    checkpoint_window_days: int = (
        7  # a score counts for week w when taken within w*7 +/- this many days
    )

    def resolved(self) -> OutcomeSettings:
        instrument = load(self.instrument)
        return dataclasses.replace(
            self,
            reliable_change=self.reliable_change
            if self.reliable_change is not None
            else DEFAULT_RELIABLE_CHANGE.get(self.instrument, 6.0),
            remission_below=self.remission_below
            if self.remission_below is not None
            else (5 if self.instrument == "phq9" else None),
            recovery_cutoff=self.recovery_cutoff
            if self.recovery_cutoff is not None
            else (instrument.cutoff.value if instrument.cutoff else None),
            schueller_checkpoints=self.schueller_checkpoints
            if self.schueller_checkpoints is not None
            else (SCHUELLER_CHECKPOINTS if self.instrument == "phq9" else ()),
        )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["schueller_checkpoints"] = [list(c) for c in self.schueller_checkpoints or ()]
        return d


@dataclass(frozen=True)
class ScorePoint:
    session_number: int
    date: dt.date | None
    score: float | None


@dataclass
class OutcomeClassification:
    instrument: str
    first: ScorePoint | None
    latest: ScorePoint | None
    change: float | None  # latest - first (negative is improvement)
    reliable_improvement: bool = False
    reliable_deterioration: bool = False
    response: bool = False
    remission: bool = False
    recovery: bool = False
    not_on_track: bool = False
    not_on_track_reasons: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    reason: str = ""
    next_step: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def point(p: ScorePoint | None) -> dict[str, Any] | None:
            if p is None:
                return None
            return {
                "session_number": p.session_number,
                "date": p.date.isoformat() if p.date else None,
                "score": p.score,
            }

        return {
            "instrument": self.instrument,
            "first": point(self.first),
            "latest": point(self.latest),
            "change": self.change,
            "reliable_improvement": self.reliable_improvement,
            "reliable_deterioration": self.reliable_deterioration,
            "response": self.response,
            "remission": self.remission,
            "recovery": self.recovery,
            "not_on_track": self.not_on_track,
            "not_on_track_reasons": list(self.not_on_track_reasons),
            "statuses": list(self.statuses),
            "reason": self.reason,
            "next_step": self.next_step,
            "settings": dict(self.settings),
        }


# Barkham et al. 2023: feedback helps mostly for clients not on track and when it comes with
# clinical support tools, so the alert carries what to do next.
NOT_ON_TRACK_NEXT_STEP = (
    "Review progress with the client: ask about the alliance (goals, tasks, bond), barriers and "
    "life events, revisit the plan together, and consider consultation or supervision."
)


def classify(
    scores: Sequence[tuple[int, dt.date | None, float | None]] | Sequence[ScorePoint],
    settings: OutcomeSettings | None = None,
) -> OutcomeClassification:
    """Classify an episode from its ordered (session_number, date, score) list.

    Missing scores (None) are skipped. The first score of the episode is the baseline (clinical
    reference: reliable change is measured from the first score of the episode).
    """
    settings = (settings or OutcomeSettings()).resolved()
    instrument = load(settings.instrument)
    name = instrument.short_name
    points = [p if isinstance(p, ScorePoint) else ScorePoint(*p) for p in scores]
    points = sorted((p for p in points if p.score is not None), key=lambda p: p.session_number)
    result = OutcomeClassification(
        instrument=instrument.id, first=None, latest=None, change=None, settings=settings.to_dict()
    )
    if not points:
        result.reason = f"No {name} scores in this episode yet."
        return result
    first, latest = points[0], points[-1]
    result.first, result.latest = first, latest
    if len(points) == 1:
        result.reason = f"{name} {fmt_number(first.score, places=None)} at session {first.session_number}: one score so far, no change to classify."
        return result
    assert first.score is not None and latest.score is not None
    rc = settings.reliable_change
    assert rc is not None
    change = latest.score - first.score
    result.change = change

    # Jacobson & Truax 1991: reliable change is a fall / rise of at least the threshold.
    result.reliable_improvement = -change >= rc
    result.reliable_deterioration = change >= rc
    # Response: >= 50% reduction from the first score (clinical reference, Change over treatment).
    result.response = (
        first.score > 0 and (first.score - latest.score) / first.score >= settings.response_fraction
    )
    # Remission: PHQ-9 < 5 (Kroenke et al. 2001). Only meaningful for someone who started at or above it.
    if settings.remission_below is not None:
        result.remission = (
            first.score >= settings.remission_below and latest.score < settings.remission_below
        )
    # Recovery (Jacobson & Truax 1991: reliable and clinically significant): reliable
    # improvement, started at or above the cut-off, latest below it.
    if settings.recovery_cutoff is not None:
        result.recovery = (
            result.reliable_improvement
            and first.score >= settings.recovery_cutoff
            and latest.score < settings.recovery_cutoff
        )

    reasons: list[str] = []
    # Not on track (design choices, clinical reference). Reliable deterioration at any time.
    worst = max(points[1:], key=lambda p: p.score)  # type: ignore[arg-type,return-value]
    if worst.score - first.score >= rc:  # type: ignore[operator]
        reasons.append(
            f"reliable deterioration: {fmt_number(worst.score, places=None)} at session {worst.session_number}, "
            f"up {fmt_number(worst.score - first.score, places=None)} from {fmt_number(first.score, places=None)}"  # type: ignore[operator]
        )
    # No reliable improvement by session N: judged on the latest score once session N is reached,
    # so a client who improves later is back on track.
    n = settings.no_improvement_by_session
    if n is not None and latest.session_number >= n and not result.reliable_improvement:
        reasons.append(
            f"no reliable improvement by session {n} (needs a fall of {fmt_number(rc, places=None)})"
        )
    # Schueller et al. 2015 cut-points: weeks are counted from the first score's date; the latest
    # checkpoint the client has reached decides (an earlier miss is superseded by a later pass).
    checkpoint_reason = _schueller(points, settings, name)
    if checkpoint_reason:
        reasons.append(checkpoint_reason)
    result.not_on_track = bool(reasons)
    result.not_on_track_reasons = reasons
    if result.not_on_track:
        result.next_step = NOT_ON_TRACK_NEXT_STEP

    statuses = []
    if result.reliable_improvement:
        statuses.append("reliable improvement")
    if result.reliable_deterioration:
        statuses.append("reliable deterioration")
    if result.response:
        statuses.append("response")
    if result.remission:
        statuses.append("remission")
    if result.recovery:
        statuses.append("recovery")
    if not (result.reliable_improvement or result.reliable_deterioration):
        statuses.insert(0, "no reliable change")
    if result.not_on_track:
        statuses.append("not on track")
    result.statuses = statuses

    verb = "fell" if change < 0 else "rose" if change > 0 else "stayed at"
    if change == 0:
        head = f"{name} stayed at {fmt_number(first.score, places=None)}"
    else:
        head = f"{name} {verb} from {fmt_number(first.score, places=None)} to {fmt_number(latest.score, places=None)}"
    text = head + ": " + ", ".join(s for s in statuses if s != "not on track")
    if reasons:
        text += "; not on track (" + "; ".join(reasons) + ")"
    result.reason = text
    return result


def _schueller(points: list[ScorePoint], settings: OutcomeSettings, name: str) -> str | None:
    checkpoints = settings.schueller_checkpoints or ()
    if not checkpoints:
        return None
    first = points[0]
    latest_hit: tuple[int, int, ScorePoint] | None = None
    for week, cut in checkpoints:
        target_day = week * 7
        best: ScorePoint | None = None
        best_gap: float | None = None
        for p in points[1:]:
            if first.date is not None and p.date is not None:
                day = (p.date - first.date).days
            else:
                # Without dates, assume weekly sessions (design choice): session 1 is week 0.
                day = (p.session_number - first.session_number) * 7
            gap = abs(day - target_day)
            if gap <= settings.checkpoint_window_days and (best_gap is None or gap <= best_gap):
                best, best_gap = p, gap
        if best is not None:
            latest_hit = (week, cut, best)
    if latest_hit is None:
        return None
    week, cut, p = latest_hit
    if p.score >= cut:  # type: ignore[operator]
        return (
            f"{name} {fmt_number(p.score, places=None)} at week {week} (session {p.session_number}) is at or above "
            f"{cut}, which predicted non-response (Schueller et al. 2015)"
        )
    return None
