"""Expected change on PHQ-9 and GAD-7 for a client's intake score: a curve with a tolerance
band, drawn on the charts and used by the caseload's "not on track" status.

Two sources, and the band always says which (docs/measures.md, "Expected change"):

- **This clinic's completed episodes** (``from_clinic``), once at least ``MIN_CASES`` ended
  episodes in the client's intake group have a second score: the 25th, 50th and 75th
  percentiles of change from intake (as a share of the intake score) at each session, smoothed
  with the log-linear form of Lambert's expected recovery curves (Finch, Lambert & Schaalje
  2001: change grows with the logarithm of the session number). "from N completed cases at
  this clinic".
- **Derived from the clinic's outcome rules** (``from_rules``) until then. No published
  percentile curves of PHQ-9 or GAD-7 by intake severity were found, so the band is built from
  the published thresholds the not-on-track rules already use, on the same log-linear form:
  its worse edge reaches reliable improvement (Jacobson & Truax 1991: 6 points on PHQ-9, 4 on
  GAD-7) by session N (``no_improvement_by_session``, 6) and stays there; its better edge
  reaches a response (50% reduction) or 1.5 reliable changes, whichever is more, by session N.

A score worse than the band's worse edge (higher; lower is better) is "not on track". With the
rules band that counts from session N, where it is exactly the existing rule "no reliable
improvement by session N"; before N the chart shows the path but nothing is flagged. With the
clinic's band it counts from session 2, as in Lambert's early-warning use of the curves.

Django-free except ``for_clinic``, which reads ended episodes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from alliance.measures import registry

MIN_CASES = 30  # ended episodes with 2+ scores in the intake group before the clinic's own band
MIN_POINTS_PER_SESSION = 5  # fewer observations at a session than this: not used for the fit
MAX_SESSION = 20  # sessions after this are rare; the curve is drawn flat beyond it
QUANTILES = (0.25, 0.5, 0.75)

# Intake groups (Kroenke et al. 2001 for PHQ-9; Spitzer et al. 2006 for GAD-7): a client is
# compared with cases that started in the same group.
INTAKE_GROUPS: dict[str, tuple[tuple[float, str], ...]] = {
    "phq9": ((0, "below 10"), (10, "10–14"), (15, "15–19"), (20, "20 or more")),
    "gad7": ((0, "below 10"), (10, "10–14"), (15, "15 or more")),
}


def intake_group(instrument_id: str, intake: float) -> str:
    label = INTAKE_GROUPS[instrument_id][0][1]
    for lower, name in INTAKE_GROUPS[instrument_id]:
        if intake >= lower:
            label = name
    return label


def _progress(session: int, by_session: int) -> float:
    """Share of the way to the session-N target on the log-linear path (0 at session 1)."""
    if session <= 1 or by_session <= 1:
        return 0.0 if session <= 1 else 1.0
    return min(1.0, math.log(session) / math.log(by_session))


@dataclass(frozen=True)
class ExpectedBand:
    """The expected range for one intake score, as scores at a session number."""

    instrument: str
    intake: float
    source: str  # "clinic" or "rules"
    label: str  # what the chart and the caseload say about where it comes from
    n_cases: int = 0
    # clinic: change from intake as a share of intake = coefficient · ln(session), per quantile
    coefficients: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # rules: target change (points) reached by session ``by_session`` for the two edges
    worse_drop: float = 0.0
    better_drop: float = 0.0
    by_session: int = 6
    scale: tuple[float, float] = (0.0, 27.0)

    def _clip(self, v: float) -> float:
        return round(max(self.scale[0], min(self.scale[1], v)), 1)

    def at(self, session: int) -> tuple[float, float, float]:
        """(better edge, expected, worse edge) at ``session``; lower scores are better."""
        if self.source == "clinic":
            s = max(1, min(session, MAX_SESSION))
            low, mid, high = (self.intake * (1 + c * math.log(s)) for c in self.coefficients)
            return self._clip(low), self._clip(mid), self._clip(high)
        p = _progress(session, self.by_session)
        worse = self.intake - self.worse_drop * p
        better = self.intake - self.better_drop * p
        return self._clip(better), self._clip((better + worse) / 2), self._clip(worse)

    def above(self, session: int, score: float) -> bool:
        """The score is above (worse than) the band's worse edge at this session."""
        return session >= 2 and score > self.at(session)[2]

    def is_worse(self, session: int, score: float) -> bool:
        """Not on track by the band. The rules band only counts from session N, where it is the
        "no reliable improvement by session N" rule itself; earlier, being above its path is
        shown but not flagged (early change varies, and late responders exist)."""
        if self.source == "rules" and session < self.by_session:
            return False
        return self.above(session, score)

    def words(self) -> str:
        if self.source == "clinic":
            return (
                f"Expected range (25th–75th percentile) for clients starting {intake_group(self.instrument, self.intake)}, "
                f"from {self.n_cases} completed cases at this clinic"
            )
        return (
            "Expected range derived from the outcome rules (reliable improvement to response by "
            f"session {self.by_session}); not from published percentiles"
        )


def from_rules(
    instrument_id: str,
    intake: float,
    reliable_change: float,
    response_fraction: float = 0.5,
    by_session: int = 6,
) -> ExpectedBand:
    inst = registry.load(instrument_id)
    better = max(intake * response_fraction, 1.5 * reliable_change)
    band = ExpectedBand(
        instrument=instrument_id,
        intake=intake,
        source="rules",
        label="",
        worse_drop=reliable_change,
        better_drop=better,
        by_session=max(2, by_session),
        scale=(inst.scoring.min, inst.scoring.max),
    )
    return _labelled(band)


def _labelled(band: ExpectedBand) -> ExpectedBand:
    return replace(band, label=band.words())


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (the usual "type 7" definition)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class ClinicReference:
    """Fitted coefficients per intake group from a clinic's ended episodes."""

    instrument: str
    groups: dict[str, tuple[int, tuple[float, float, float]]] = field(default_factory=dict)

    def band(self, intake: float, scale: tuple[float, float]) -> ExpectedBand | None:
        found = self.groups.get(intake_group(self.instrument, intake))
        if found is None:
            return None
        n, coefficients = found
        return _labelled(
            ExpectedBand(
                instrument=self.instrument,
                intake=intake,
                source="clinic",
                label="",
                n_cases=n,
                coefficients=coefficients,
                scale=scale,
            )
        )


def fit_clinic(
    instrument_id: str, episodes: Iterable[Sequence[tuple[int, float]]]
) -> ClinicReference:
    """Fit the clinic's curves from ended episodes, each an ordered list of (session, score).

    For every episode with an intake above 0 and a later score: the change from intake as a
    share of intake at each later session. Per intake group with at least ``MIN_CASES`` such
    episodes, and per quantile: the quantile of those shares at each session with at least
    ``MIN_POINTS_PER_SESSION`` of them, then the least-squares coefficient of ``share = c·ln(s)``
    over those sessions (weighted by their counts).
    """
    by_group: dict[str, dict[int, list[float]]] = {}
    counts: dict[str, int] = {}
    for points in episodes:
        pts = sorted(points)
        if len(pts) < 2 or pts[0][1] <= 0:
            continue
        intake = pts[0][1]
        group = intake_group(instrument_id, intake)
        per_session = by_group.setdefault(group, {})
        counts[group] = counts.get(group, 0) + 1
        # Session numbers as the outcome rules count them (absolute, from the first session).
        for session, score in pts[1:]:
            if 2 <= session <= MAX_SESSION:
                per_session.setdefault(session, []).append((score - intake) / intake)
    ref = ClinicReference(instrument=instrument_id)
    for group, per_session in by_group.items():
        if counts[group] < MIN_CASES:
            continue
        usable = {s: v for s, v in per_session.items() if len(v) >= MIN_POINTS_PER_SESSION}
        if not usable:
            continue
        coefficients = []
        for q in QUANTILES:
            num = sum(len(v) * math.log(s) * _quantile(v, q) for s, v in usable.items())
            den = sum(len(v) * math.log(s) ** 2 for s, v in usable.items())
            coefficients.append(num / den)
        ref.groups[group] = (counts[group], (coefficients[0], coefficients[1], coefficients[2]))
    return ref


def for_clinic(clinic: Any, instrument_id: str) -> ClinicReference:
    """The clinic's reference from its ended episodes (cached for an hour: one query a miss)."""
    # Django only here: the computations above are pure and tested without Django (tests/clinical).
    from django.core.cache import cache  # noqa: PLC0415

    from alliance.measures.models import Response  # noqa: PLC0415

    key = f"alliance-expected:{clinic.pk}:{instrument_id}"
    cached = cache.get(key)
    if isinstance(cached, ClinicReference):
        return cached
    rows = (
        Response.objects.filter(
            clinic=clinic,
            instrument_id=instrument_id,
            total__isnull=False,
            episode__ended__isnull=False,
        )
        .order_by("episode_id", "completed_at")
        .values_list("episode_id", "session_number", "total")
    )
    episodes: dict[Any, list[tuple[int, float]]] = {}
    for episode_id, session, total in rows:
        pts = episodes.setdefault(episode_id, [])
        if total is not None:
            pts.append((session or len(pts) + 1, float(total)))
    ref = fit_clinic(instrument_id, episodes.values())
    cache.set(key, ref, 3600)
    return ref


def band_for(
    clinic_reference: ClinicReference | None,
    instrument_id: str,
    intake: float,
    reliable_change: float,
    response_fraction: float,
    by_session: int,
) -> ExpectedBand:
    """The clinic's own band when it has enough cases in this intake group, else the rules band."""
    inst = registry.load(instrument_id)
    if clinic_reference is not None:
        band = clinic_reference.band(intake, (inst.scoring.min, inst.scoring.max))
        if band is not None:
            return band
    return from_rules(instrument_id, intake, reliable_change, response_fraction, by_session)
