"""The client's alliance timeline: one SVG chart (client and therapist ratings per session,
rupture episodes shaded with patterns, missed sessions and transcript markers; PHQ-9 on a
second panel), a data table and a summary in words.

Shapes are computed here and drawn by ``monitoring/_timeline_chart.html`` with SVG presentation
attributes (the content security policy forbids inline styles). Episodes and series differ by
pattern, dash and marker shape as well as colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alliance.clients.models import ClientRecord
from alliance.lib.charts import gaps_between, svg_path
from alliance.lib.text import fmt_number
from alliance.monitoring import ruptures
from alliance.monitoring.detection import (
    NOT_HELD,
    SessionAlliance,
    alliance_by_session,
    rupture_series,
)
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode

WIDTH = 720
LEFT, RIGHT = 48, 24
TOP_Y0, TOP_Y1 = 24, 214  # alliance panel (0–6)
PHQ_Y0, PHQ_Y1 = 262, 372  # PHQ-9 panel (0–27)
HEIGHT = 410


@dataclass
class TimelineChart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top_y0: int = TOP_Y0
    top_y1: int = TOP_Y1
    phq_y0: int = PHQ_Y0
    phq_y1: int = PHQ_Y1
    sessions: list[dict[str, Any]] = field(default_factory=list)
    client_path: str = ""
    therapist_path: str = ""
    phq_path: str = ""
    client_points: list[dict[str, Any]] = field(default_factory=list)
    therapist_points: list[dict[str, Any]] = field(default_factory=list)
    phq_points: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    phq_ticks: list[dict[str, Any]] = field(default_factory=list)
    cutoff_y: float | None = None
    has_therapist: bool = False
    has_phq9: bool = False
    plot_width: int = WIDTH - LEFT - RIGHT


def _path(points: list[dict[str, Any]]) -> str:
    """A line through consecutive sessions; a session without a rating breaks the line."""
    return svg_path(gaps_between([(p["index"], (p["x"], p["y"])) for p in points]))


def build_chart(
    rows: dict[int, SessionAlliance], episodes: list[RuptureEpisode], cutoff: float | None
) -> TimelineChart:
    chart = TimelineChart()
    numbers = sorted(rows)
    n = len(numbers)
    step = (chart.right - chart.left) / max(n, 1)

    def x(i: int) -> float:
        return round(chart.left + step * (i + 0.5), 1)

    def ya(v: float) -> float:
        return round(TOP_Y1 - v / 6 * (TOP_Y1 - TOP_Y0), 1)

    def yp(v: float) -> float:
        return round(PHQ_Y1 - v / 27 * (PHQ_Y1 - PHQ_Y0), 1)

    index = {num: i for i, num in enumerate(numbers)}
    for i, num in enumerate(numbers):
        r = rows[num]
        missed = r.status in NOT_HELD
        chart.sessions.append(
            {
                "number": num,
                "x": x(i),
                "missed": missed,
                "status": r.status,
                "markers": r.transcript_markers,
                "concern": r.concern,
                "task_not_working": r.task_not_working,
            }
        )
        if r.client is not None:
            chart.client_points.append(
                {
                    "index": i,
                    "x": x(i),
                    "y": ya(r.client),
                    "value": fmt_number(r.client),
                    "session": num,
                    "felt_off": r.felt_off,
                }
            )
        if r.therapist is not None:
            chart.therapist_points.append(
                {
                    "index": i,
                    "x": x(i),
                    "y": ya(r.therapist),
                    "value": fmt_number(r.therapist),
                    "session": num,
                }
            )
        if r.phq9 is not None:
            chart.phq_points.append(
                {
                    "index": i,
                    "x": x(i),
                    "y": yp(r.phq9),
                    "value": fmt_number(r.phq9),
                    "session": num,
                }
            )
    chart.client_path = _path(chart.client_points)
    chart.therapist_path = _path(chart.therapist_points)
    chart.phq_path = _path(chart.phq_points)
    chart.has_therapist = bool(chart.therapist_points)
    chart.has_phq9 = bool(chart.phq_points)
    chart.y_ticks = [{"value": v, "y": ya(v)} for v in range(0, 7)]
    chart.phq_ticks = [{"value": v, "y": yp(v)} for v in (0, 5, 10, 15, 20, 27)]
    chart.cutoff_y = ya(cutoff) if cutoff is not None else None
    for e in episodes:
        first = index.get(e.start_session)
        last_num = max((num for num in numbers if num <= e.last_session), default=e.start_session)
        last = index.get(last_num)
        if first is None or last is None:
            continue
        x0 = round(chart.left + step * first, 1)
        chart.episodes.append(
            {
                "id": e.pk,
                "status": e.status,
                "x": x0,
                "width": round(step * (last - first + 1), 1),
                "label": _("%(status)s rupture, sessions %(start)s–%(last)s")
                % {
                    "status": e.get_status_display(),
                    "start": e.start_session,
                    "last": e.last_session,
                },
                "short": {
                    "repaired": _("repaired"),
                    "unrepaired": _("unrepaired"),
                    "open": _("open"),
                }[e.status],
            }
        )
    return chart


def summary(
    rows: dict[int, SessionAlliance],
    episodes: list[RuptureEpisode],
    report: ruptures.RuptureReport,
    settings: MonitoringSettings,
) -> list[str]:
    """The chart in sentences ("Alliance dipped at session 7 after ...; back to baseline by session 9")."""
    rated = [(n, r) for n, r in rows.items() if r.client is not None]
    if not rated:
        return [_("No session alliance ratings from the client yet.")]
    out = []
    n_last, r_last = rated[-1]
    out.append(
        ngettext(
            "The client rated the alliance in %(n)d session; the latest rating is %(latest)s of 6 "
            "at session %(session)s.",
            "The client rated the alliance in %(n)d sessions; the latest rating is %(latest)s of 6 "
            "at session %(session)s.",
            len(rated),
        )
        % {"n": len(rated), "latest": fmt_number(r_last.client), "session": n_last}
    )
    missed = [n for n, r in rows.items() if r.status in NOT_HELD]
    if missed:
        out.append(
            ngettext(
                "Missed or cancelled: session %(sessions)s.",
                "Missed or cancelled: sessions %(sessions)s.",
                len(missed),
            )
            % {"sessions": ", ".join(map(str, missed))}
        )
    for e in episodes:
        start = rows.get(e.start_session)
        cause = ""
        if start is not None and start.concern_topics:
            cause = " " + _("after the client raised a concern (“%(topic)s”)") % {
                "topic": start.concern_topics[0]
            }
        elif start is not None and start.felt_off:
            cause = " " + _("after the client said something felt off")
        elif start is not None and start.task_not_working:
            cause = " " + _("after the client said again that a task isn't working for them")
        lowest = (e.evidence or {}).get("lowest_score")
        low = (
            " "
            + _("(lowest %(score)s at session %(session)s)")
            % {"score": fmt_number(lowest), "session": e.lowest_session}
            if lowest is not None
            else ""
        )
        if e.status == RuptureEpisode.Status.REPAIRED:
            outcome = _("back to baseline by session %(session)s") % {"session": e.end_session}
        elif e.status == RuptureEpisode.Status.UNREPAIRED:
            window = (e.rule_settings or {}).get("repair_window", settings.repair_window)
            outcome = _("not back to the earlier level within %(window)s sessions (unrepaired)") % {
                "window": window
            }
            if e.recovered_session:
                outcome += _("; recovered at session %(session)s") % {
                    "session": e.recovered_session
                }
        else:
            window = (e.rule_settings or {}).get("repair_window", settings.repair_window)
            outcome = _("watching for a return to the earlier level until session %(session)s") % {
                "session": e.start_session + window
            }
        out.append(
            _("Alliance dipped at session %(session)s%(cause)s%(low)s; %(outcome)s.")
            % {"session": e.start_session, "cause": cause, "low": low, "outcome": outcome}
        )
    gaps = [
        n
        for n, r in rows.items()
        if r.gap is not None and r.gap >= settings.disagreement_gap - 1e-9
    ]
    if gaps:
        out.append(
            ngettext(
                "The therapist rated session %(sessions)s at least %(gap)s points higher than the "
                "client did.",
                "The therapist rated sessions %(sessions)s at least %(gap)s points higher than the "
                "client did.",
                len(gaps),
            )
            % {"sessions": ", ".join(map(str, gaps)), "gap": fmt_number(settings.disagreement_gap)}
        )
    if report.low_information and report.low_information_reason:
        out.append(_("Low information:") + " " + report.low_information_reason)
    return out


def build_timeline(client: ClientRecord) -> dict[str, Any]:
    ms = MonitoringSettings.for_clinic(client.clinic)
    rows = alliance_by_session(client, with_phq9=True)
    report = ruptures.detect_ruptures(rupture_series(rows), ms.rupture_settings())
    episodes = list(
        RuptureEpisode.objects.filter(client=client).select_related(
            "acknowledged_by", "alert", "unrepaired_alert"
        )
    )
    for r in rows.values():
        r.disagreement = r.gap is not None and r.gap >= ms.disagreement_gap - 1e-9  # type: ignore[attr-defined]
    episode_by_session: dict[int, RuptureEpisode] = {}
    for e in episodes:
        for n in rows:
            if e.start_session <= n <= e.last_session:
                episode_by_session.setdefault(n, e)
    table = [{"row": r, "episode": episode_by_session.get(n)} for n, r in rows.items()]
    return {
        "chart": build_chart(rows, episodes, ms.cutoff) if rows else None,
        "summary": summary(rows, episodes, report, ms),
        "episodes": episodes,
        "table": table,
        "report": report,
        "settings": ms,
    }
