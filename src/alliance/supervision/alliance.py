"""Reading a client's alliance series and ruptures, and the journal's co-occurrence pattern.

The alliance series is the client's Session Alliance Check (``sac_client``, 0–6 mean; not a
validated instrument) as stored by ``alliance.measures``; ruptures come from
``alliance.monitoring.ruptures.detect_ruptures`` (a V-shaped dip, Stiles et al. 2004; rule
parameters are a design choice, see docs/clinical-reference.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.utils.translation import ngettext

from alliance.measures.models import Response
from alliance.monitoring.models import MonitoringSettings
from alliance.monitoring.ruptures import RuptureSettings, SessionRating, detect_ruptures

ALLIANCE_INSTRUMENT = "sac_client"
# The instrument's own design-choice cut-off (a mean below 4 of 6), reused by rupture detection.
ALLIANCE_CUTOFF = 4.0
# An entry "precedes" a dip when its session is the dip's session or up to this many before it.
PRECEDES_WINDOW = 2


@dataclass(frozen=True)
class AlliancePoint:
    session: int
    score: float
    date: Any
    reported_rupture: bool = False


# The columns a series is built from, in this order (see ``series_from_rows``).
SERIES_FIELDS = ("session_number", "total", "completed_at", "answers")


def alliance_series(client: Any) -> list[AlliancePoint]:
    """The client's session alliance scores in session order (empty when measures has none)."""
    rows = (
        Response.objects.filter(
            clinic_id=client.clinic_id,
            client=client,
            instrument_id=ALLIANCE_INSTRUMENT,
            total__isnull=False,
        )
        .order_by("completed_at")
        .values_list(*SERIES_FIELDS)
    )
    return series_from_rows(rows)


def series_from_rows(rows: Any) -> list[AlliancePoint]:
    """Points from (session number, total, completed at, answers) rows in time order."""
    points: list[AlliancePoint] = []
    seen: set[int] = set()
    for index, (session_number, total, completed_at, answers) in enumerate(rows, start=1):
        number = session_number or index
        if number in seen:  # one rating per session: keep the first
            continue
        seen.add(number)
        reported = bool((answers or {}).get("felt_off"))
        value = cast(float, total)  # total__isnull=False: every total is a number
        points.append(AlliancePoint(number, float(value), completed_at, reported))
    return sorted(points, key=lambda p: p.session)


def rupture_settings(clinic: Any = None) -> Any:
    """The rupture rule's settings: the clinic's monitoring settings, so the dips here are the
    dips on the monitoring timeline; without a clinic, the detector's defaults with the
    instrument's cut-off."""
    if clinic is not None:
        return MonitoringSettings.for_clinic(clinic).rupture_settings()
    return RuptureSettings(cutoff=ALLIANCE_CUTOFF, scale_min=0, scale_max=6)


def ruptures(
    points: list[AlliancePoint], clinic: Any = None, settings: Any = None
) -> list[dict[str, Any]]:
    """Rupture episodes (dicts from ``RuptureEpisode.to_dict``) in the series.

    ``settings`` (from ``rupture_settings``) saves reading the clinic's settings again when
    many series are read together; otherwise they are read for ``clinic``.
    """
    if not points:
        return []
    if settings is None:
        settings = rupture_settings(clinic)
    report = detect_ruptures(
        [SessionRating(p.session, p.score, p.reported_rupture) for p in points], settings
    )
    return [e.to_dict() for e in report.episodes]


@dataclass(frozen=True)
class PatternRow:
    tag: str
    label: str
    dips_preceded: int
    dips: int
    entries_tagged: int

    @property
    def sentence(self) -> str:
        return ngettext(
            "Entries tagged %(tag)s preceded %(preceded)s of the %(dips)s alliance dip with "
            "this client.",
            "Entries tagged %(tag)s preceded %(preceded)s of the %(dips)s alliance dips with "
            "this client.",
            self.dips,
        ) % {"tag": self.label.lower(), "preceded": self.dips_preceded, "dips": self.dips}


def co_occurrence(
    entries: list[tuple[int | None, dict[str, int]]],
    dip_sessions: list[int],
    labels: dict[str, str],
    window: int = PRECEDES_WINDOW,
) -> list[PatternRow]:
    """For each reaction tag: how many dips had an entry with that tag in the ``window`` sessions
    up to and including the dip's session. Descriptive only: co-occurrence, not cause.

    ``entries`` are (session number or None, tags); entries without a session are left out.
    """
    dips = sorted(set(dip_sessions))
    tags = sorted({t for _s, tagset in entries for t in tagset})
    rows = []
    for tag in tags:
        tagged_sessions = [s for s, tagset in entries if s is not None and tag in tagset]
        preceded = sum(1 for d in dips if any(d - window <= s <= d for s in tagged_sessions))
        rows.append(
            PatternRow(tag, labels.get(tag, tag), preceded, len(dips), len(tagged_sessions))
        )
    return rows
