"""Rupture detection and repair tracking over one client's session alliance ratings.

A rupture-repair sequence is a V: a session clearly below the client's own level, then a return
(Stiles et al. 2004; Strauss et al. 2006). How many ruptures are found depends heavily on the
criterion (Gumz et al. 2012, who recommend showing a 1-SD and a 2-SD rule), so every parameter is
a ``RuptureSettings`` field and each episode carries the settings and evidence that produced it.
Repaired ruptures go with better outcome (r = .29), unrepaired ones with worse (Eubanks, Muran &
Safran 2018), hence the repaired / unrepaired / open status.

The rule itself is a design choice (docs/clinical-reference.md, "Alliance ruptures"), not a
published algorithm.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alliance.lib.text import fmt_number

RULE_K_SD = "k_sd"  # at or below baseline mean - k*SD
RULE_CUTOFF = "cutoff"  # below the instrument's cut-off
RULE_DROP = "drop"  # fell by at least drop_from_previous since the previous session
RULE_REPORTED = "reported"  # the client answered yes to "did anything feel off?"
RULE_CONCERN = "concern"  # the client raised a concern between sessions
RULE_TASK = "task_not_working"  # the client said, more than once, that a task isn't working


@dataclass(frozen=True)
class RuptureSettings:
    """Every parameter of the rule; stored with each episode (clinic settings)."""

    k: float = 2.0  # Gumz et al. 2012: 2 SD strict; use 1.0 for the lenient rule
    min_baseline: int = 3  # previous rated sessions needed before the k*SD rule runs
    baseline_window: int = (
        5  # most recent non-rupture sessions forming the baseline (design choice)
    )
    sd_floor_fraction: float = 0.10  # SD floored at 10% of the scale range, so a flat series
    # (SD 0) does not turn every small wobble into a rupture
    cutoff: float | None = None  # rupture when a score is below this (the instrument's cut-off)
    drop_from_previous: float | None = (
        None  # rupture when a score falls this much from the last one
    )
    repair_window: int = 3  # sessions after the start within which a return counts as repair
    # Repair = back to baseline mean - repair_tolerance_sd * SD, or to the score before the dip
    # less the same tolerance, whichever is lower (design choice).
    repair_tolerance_sd: float = 1.0
    scale_min: float = 0.0
    scale_max: float = 6.0
    ceiling_fraction: float = 0.8  # >= 80% of ratings at the scale maximum -> low information
    ceiling_min_sessions: int = 3

    def __post_init__(self) -> None:
        if self.scale_max <= self.scale_min:
            raise ValueError("scale_max must be above scale_min")
        if self.k <= 0:
            raise ValueError("k must be positive")
        if self.min_baseline < 2:
            raise ValueError("min_baseline must be at least 2 (an SD needs two scores)")
        if self.baseline_window < self.min_baseline:
            raise ValueError("baseline_window must be at least min_baseline")
        if self.repair_window < 1:
            raise ValueError("repair_window must be at least 1")
        if self.cutoff is not None and not self.scale_min <= self.cutoff <= self.scale_max:
            raise ValueError("cutoff must lie on the scale")
        if self.drop_from_previous is not None and self.drop_from_previous <= 0:
            raise ValueError("drop_from_previous must be positive")

    @property
    def sd_floor(self) -> float:
        return self.sd_floor_fraction * (self.scale_max - self.scale_min)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SessionRating:
    session: int
    score: float | None  # None: no rating that session (signals can still come from reports)
    reported_rupture: bool = False
    concern: bool = False
    task_not_working: bool = False  # a repeated "this task isn't working for me"


@dataclass
class RuptureEpisode:
    start_session: int
    lowest_session: int
    end_session: int | None  # repair session, last session of the window, or None while open
    status: str  # "repaired", "unrepaired" or "open"
    rules: list[str]
    evidence: dict[str, Any]
    recovered_session: int | None = None  # back to the pre-rupture level after the window closed

    @property
    def rule(self) -> str:
        return "+".join(self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_session": self.start_session,
            "lowest_session": self.lowest_session,
            "end_session": self.end_session,
            "status": self.status,
            "rule": self.rule,
            "rules": list(self.rules),
            "recovered_session": self.recovered_session,
            "evidence": self.evidence,
        }


@dataclass
class RuptureReport:
    episodes: list[RuptureEpisode]
    low_information: bool
    low_information_reason: str | None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "episodes": [e.to_dict() for e in self.episodes],
            "low_information": self.low_information,
            "low_information_reason": self.low_information_reason,
            "settings": dict(self.settings),
        }


def _as_rating(row: SessionRating | Sequence[Any]) -> SessionRating:
    if isinstance(row, SessionRating):
        return row
    return SessionRating(*row)


def detect_ruptures(
    series: Iterable[SessionRating | Sequence[Any]], settings: RuptureSettings | None = None
) -> RuptureReport:
    """Rupture episodes in one client's ordered series of (session, score, reported, concern).

    Rules (any one opens an episode; all that fire are recorded):
    - k_sd: score <= mean - k*SD of the previous ``baseline_window`` non-rupture sessions, once
      ``min_baseline`` of them exist; SD floored at ``sd_floor_fraction`` of the scale range;
    - cutoff: score below ``cutoff``; drop: fell by >= ``drop_from_previous`` since last rating;
    - reported / concern / task_not_working: the client said so (a concern between sessions, or
      "this task isn't working for me" said more than once about one task).
    Repair: within ``repair_window`` sessions of the start, a session without a new report whose
    score is at or above min(baseline mean, score before the dip) - repair_tolerance_sd * SD
    (SD floored; the floor alone when there is no baseline yet), and not below ``cutoff``.
    """
    settings = settings or RuptureSettings()
    ratings = sorted((_as_rating(r) for r in series), key=lambda r: r.session)
    sessions = [r.session for r in ratings]
    if len(set(sessions)) != len(sessions):
        raise ValueError("duplicate session numbers in one client's series")
    for r in ratings:
        if r.score is not None and not settings.scale_min <= r.score <= settings.scale_max:
            raise ValueError(
                f"session {r.session}: score {r.score:g} is outside the scale "
                f"{settings.scale_min:g}-{settings.scale_max:g}"
            )

    episodes: list[RuptureEpisode] = []
    baseline_pool: list[float] = []  # scores of sessions outside any rupture episode
    previous_score: float | None = None
    active: RuptureEpisode | None = None  # open, or unrepaired but not yet recovered
    target: float | None = None

    for r in ratings:
        fired: list[str] = []
        base = baseline_pool[-settings.baseline_window :]
        mean = sd = threshold = None
        if len(base) >= settings.min_baseline:
            mean = statistics.fmean(base)
            sd = max(statistics.stdev(base), settings.sd_floor)
            threshold = mean - settings.k * sd
        if r.score is not None:
            # 1e-9: scores exactly on the threshold count ("at or below"), despite float error.
            if threshold is not None and r.score <= threshold + 1e-9:
                fired.append(RULE_K_SD)
            if settings.cutoff is not None and r.score < settings.cutoff:
                fired.append(RULE_CUTOFF)
            if (
                settings.drop_from_previous is not None
                and previous_score is not None
                and previous_score - r.score >= settings.drop_from_previous - 1e-9
            ):
                fired.append(RULE_DROP)
        if r.reported_rupture:
            fired.append(RULE_REPORTED)
        if r.concern:
            fired.append(RULE_CONCERN)
        if r.task_not_working:
            fired.append(RULE_TASK)

        if active is not None:
            in_window = r.session <= active.start_session + settings.repair_window
            back = (
                r.score is not None
                and (target is None or r.score >= target - 1e-9)
                and not (r.reported_rupture or r.concern or r.task_not_working)
            )
            ev = active.evidence
            if r.score is not None:
                ev["scores"].append({"session": r.session, "score": r.score})
                lowest = ev.get("lowest_score")
                if lowest is None or r.score < lowest:
                    ev["lowest_score"] = r.score
                    active.lowest_session = r.session
            for rule in fired:
                if rule not in active.rules:
                    active.rules.append(rule)
            if active.status == "open" and not in_window:
                # The window passed without a return: unrepaired (escalate, Eubanks et al. 2018).
                active.status = "unrepaired"
                active.end_session = ev["last_session_in_window"]
            if back:
                if active.status == "open":
                    active.status = "repaired"
                    active.end_session = r.session
                else:
                    active.recovered_session = r.session
                active = None
                target = None
                baseline_pool.append(r.score)  # type: ignore[arg-type]
                previous_score = r.score
                continue
            if active.status == "open" and in_window:
                ev["last_session_in_window"] = r.session
                if r.session == active.start_session + settings.repair_window:
                    active.status = "unrepaired"
                    active.end_session = r.session
            if r.score is not None:
                previous_score = r.score
            continue

        if fired:
            candidates = []
            if mean is not None and sd is not None:
                candidates.append(mean - settings.repair_tolerance_sd * sd)
            if previous_score is not None:
                # The score before the dip, with the same tolerance (one SD, or the SD floor when
                # there is no baseline yet): a single rating is too noisy a target to hit exactly.
                candidates.append(
                    previous_score - settings.repair_tolerance_sd * (sd or settings.sd_floor)
                )
            target = min(candidates) if candidates else None
            if settings.cutoff is not None:
                # A score still below the cut-off has not returned to an acceptable level, whatever
                # the client's history: repair needs the cut-off rule to stop firing too.
                target = settings.cutoff if target is None else max(target, settings.cutoff)
            evidence: dict[str, Any] = {
                "baseline_sessions": len(base),
                "baseline_scores": list(base),
                "baseline_mean": None if mean is None else round(mean, 3),
                "baseline_sd": None if sd is None else round(sd, 3),
                "threshold": None if threshold is None else round(threshold, 3),
                "previous_score": previous_score,
                "repair_target": None if target is None else round(target, 3),
                "scores": [] if r.score is None else [{"session": r.session, "score": r.score}],
                "lowest_score": r.score,
                "last_session_in_window": r.session,
                "explanation": _explain(r, fired, mean, sd, threshold, previous_score, settings),
                "settings": settings.to_dict(),
            }
            active = RuptureEpisode(
                start_session=r.session,
                lowest_session=r.session,
                end_session=None,
                status="open",
                rules=list(fired),
                evidence=evidence,
            )
            episodes.append(active)
        elif r.score is not None:
            baseline_pool.append(r.score)
        if r.score is not None:
            previous_score = r.score

    scored = [r.score for r in ratings if r.score is not None]
    low, reason = _low_information(scored, settings)
    return RuptureReport(
        episodes=episodes,
        low_information=low,
        low_information_reason=reason,
        settings=settings.to_dict(),
    )


def _explain(
    r: SessionRating,
    fired: list[str],
    mean: float | None,
    sd: float | None,
    threshold: float | None,
    previous: float | None,
    settings: RuptureSettings,
) -> str:
    parts = []
    if RULE_K_SD in fired:
        parts.append(
            f"{fmt_number(r.score)} is at or below the client's own level {fmt_number(mean)} - "
            f"{fmt_number(settings.k)} x SD {fmt_number(sd)} = {fmt_number(threshold)}"
        )
    if RULE_CUTOFF in fired:
        parts.append(f"{fmt_number(r.score)} is below the cut-off {fmt_number(settings.cutoff)}")
    if RULE_DROP in fired:
        parts.append(f"fell from {fmt_number(previous)} to {fmt_number(r.score)}")
    if RULE_REPORTED in fired:
        parts.append("the client said something felt off")
    if RULE_CONCERN in fired:
        parts.append("the client raised a concern")
    if RULE_TASK in fired:
        parts.append("the client said more than once that a task isn't working for them")
    return f"Session {r.session}: " + "; ".join(parts)


def _low_information(scores: list[float], settings: RuptureSettings) -> tuple[bool, str | None]:
    # Ratings stuck at the ceiling cannot fall "below the client's level" until they fall a long
    # way, so silence from such a series is not reassurance (clinical reference): say so.
    if len(scores) < settings.ceiling_min_sessions:
        return False, None
    at_max = sum(1 for s in scores if math.isclose(s, settings.scale_max))
    share = at_max / len(scores)
    if share >= settings.ceiling_fraction:
        return True, (
            f"{at_max} of {len(scores)} ratings ({share:.0%}) are at the scale maximum "
            f"{fmt_number(settings.scale_max)}: the ratings carry little information, so ask about the "
            "alliance directly rather than rely on the absence of alerts."
        )
    return False, None
