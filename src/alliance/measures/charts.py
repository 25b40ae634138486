"""Server-rendered SVG charts of scores over time: severity bands, the reliable-change band
around the baseline, and session markers. Shapes are computed here and drawn by the
``measures/_chart.html`` template with SVG presentation attributes and CSS classes (the
content security policy forbids inline styles). Bands carry text labels and patterns so the
chart reads without colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from alliance.lib.charts import polyline, svg_path
from alliance.measures import registry
from alliance.measures.models import SEVERITY_WORDS

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 130, 16, 36


@dataclass
class Chart:
    instrument: str
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bands: list[dict[str, Any]] = field(default_factory=list)
    rc_band: dict[str, Any] | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM
    plot_top: int = TOP
    # Expected change (alliance.measures.expected): band polygon, expected line, what it is.
    expected_band: str = ""
    expected_path: str = ""
    expected_label: str = ""
    expected_words: str = ""
    # Reference lines: the clinical cut-off and reliable change from the first score.
    lines: list[dict[str, Any]] = field(default_factory=list)


def build_chart(
    instrument_id: str, responses: list[Any], reliable_change: float | None, expected: Any = None
) -> Chart | None:
    """A chart for ``responses`` (with ``.total`` and ``.completed_at``), or None without scores.

    ``expected`` (an ``expected.ExpectedBand`` for the episode's intake score) adds the expected
    curve with its tolerance band; with ``reliable_change`` the chart also draws the cut-off
    and the reliable improvement and deterioration lines.
    """
    scored = [r for r in responses if r.total is not None]
    if not scored:
        return None
    inst = registry.load(instrument_id)
    lo, hi = inst.scoring.min, inst.scoring.max
    chart = Chart(
        instrument=instrument_id, title=_("%(name)s over time") % {"name": inst.short_name}
    )
    x0, x1 = LEFT, WIDTH - RIGHT
    y0, y1 = HEIGHT - BOTTOM, TOP

    def y(v: float) -> float:
        return round(y0 - (v - lo) / (hi - lo) * (y0 - y1), 1)

    n = len(scored)

    def x(i: int) -> float:
        return round(x0 + (x1 - x0) * (i / (n - 1) if n > 1 else 0.5), 1)

    for index, band in enumerate(inst.bands):
        top = y(band.max + (0.5 if band.max < hi else 0))
        bottom = y(band.min - (0.5 if band.min > lo else 0))
        chart.bands.append(
            {
                "label": str(SEVERITY_WORDS.get(band.label, band.label)),
                "y": top,
                "height": round(bottom - top, 1),
                "label_y": round((top + bottom) / 2 + 4, 1),
                "css": f"band band-{index}",
                "range": f"{band.min:g}–{band.max:g}",
            }
        )
    for tick in range(int(lo), int(hi) + 1, 5 if hi - lo > 10 else 1):
        chart.y_ticks.append({"value": tick, "y": y(tick)})
    baseline = scored[0].total
    if reliable_change:
        top = y(min(hi, baseline + reliable_change))
        bottom = y(max(lo, baseline - reliable_change))
        chart.rc_band = {
            "y": top,
            "height": round(bottom - top, 1),
            "text": _("no reliable change: %(low)s to %(high)s")
            % {"low": f"{baseline - reliable_change:g}", "high": f"{baseline + reliable_change:g}"},
        }
    for i, r in enumerate(scored):
        chart.points.append(
            {
                "x": x(i),
                "y": y(r.total),
                "total": r.total_display,
                "date": timezone.localdate(r.completed_at),
                "session": r.session_number or i + 1,
                "severity": str(SEVERITY_WORDS.get(r.severity, r.severity)),
                "item9": r.item9_positive,
            }
        )
    chart.path = svg_path((p["x"], p["y"]) for p in chart.points)
    if reliable_change:
        if inst.cutoff is not None:
            chart.lines.append(
                {
                    "y": y(inst.cutoff.value),
                    "css": "ref-line cutoff-line",
                    "label": _("cut-off %(value)s") % {"value": f"{inst.cutoff.value:g}"},
                }
            )
        if baseline - reliable_change >= lo:
            chart.lines.append(
                {
                    "y": y(baseline - reliable_change),
                    "css": "ref-line rc-line",
                    "label": _("reliable improvement ≤ %(value)s")
                    % {"value": f"{baseline - reliable_change:g}"},
                }
            )
        if baseline + reliable_change <= hi:
            chart.lines.append(
                {
                    "y": y(baseline + reliable_change),
                    "css": "ref-line rc-line",
                    "label": _("reliable deterioration ≥ %(value)s")
                    % {"value": f"{baseline + reliable_change:g}"},
                }
            )
    if expected is not None and n >= 2:
        edges = [(p["x"], expected.at(p["session"])) for p in chart.points]
        better = [(px, y(b)) for px, (b, _m, _w) in edges]
        worse = [(px, y(w)) for px, (_b, _m, w) in reversed(edges)]
        chart.expected_band = polyline(better + worse)
        chart.expected_path = svg_path((px, y(m)) for px, (_b, m, _w) in edges)
        chart.expected_label = expected.label
        last_session = chart.points[-1]["session"]
        b, m, w = expected.at(last_session)
        where = (
            _("worse than the expected range: not on track")
            if expected.is_worse(last_session, scored[-1].total)
            else _("above the expected path, which counts as not on track from session %(session)s")
            % {"session": expected.by_session}
            if expected.above(last_session, scored[-1].total)
            else _("better than the expected range")
            if scored[-1].total < b
            else _("within the expected range")
        )
        chart.expected_words = _(
            "At session %(session)s the expected range is %(low)s to %(high)s (expected "
            "%(mid)s); the latest score is %(where)s. %(label)s."
        ) % {
            "session": last_session,
            "low": f"{b:g}",
            "high": f"{w:g}",
            "mid": f"{m:g}",
            "where": where,
            "label": expected.label,
        }
    first, last = chart.points[0], chart.points[-1]
    if n == 1:
        chart.summary = _("One %(name)s score so far: %(total)s (%(severity)s) on %(date)s.") % {
            "name": inst.short_name,
            "total": first["total"],
            "severity": first["severity"],
            "date": date_format(first["date"], "j M Y"),
        }
    else:
        chart.summary = _(
            "%(name)s went from %(first)s (%(first_severity)s) on %(first_date)s to %(last)s "
            "(%(last_severity)s) on %(last_date)s, over %(n)s scores."
        ) % {
            "name": inst.short_name,
            "first": first["total"],
            "first_severity": first["severity"],
            "first_date": date_format(first["date"], "j M Y"),
            "last": last["total"],
            "last_severity": last["severity"],
            "last_date": date_format(last["date"], "j M Y"),
            "n": n,
        }
    return chart


def plain_words(instrument_id: str, responses: list[Any]) -> str:
    """What a client reads about their own scores: no jargon, lower is better for PHQ-9/GAD-7."""
    scored = [r for r in responses if r.total is not None]
    if not scored:
        return ""
    inst = registry.load(instrument_id)
    about = _("low mood") if instrument_id == "phq9" else _("worry and anxiety")
    first, last = scored[0], scored[-1]
    if len(scored) == 1:
        return _(
            "Your first %(name)s score is %(total)s out of %(max)s. Lower scores mean less %(about)s."
        ) % {
            "name": inst.short_name,
            "total": last.total_display,
            "max": f"{inst.scoring.max:g}",
            "about": about,
        }
    if last.total < first.total:
        trend = _("lower than when you started, which usually means things are easing")
    elif last.total > first.total:
        trend = _("higher than when you started; this is worth talking about with your therapist")
    else:
        trend = _("the same as when you started")
    return _(
        "Your %(name)s score was %(first)s at the start and %(last)s most recently (out of "
        "%(max)s; lower scores mean less %(about)s). That is %(trend)s."
    ) % {
        "name": inst.short_name,
        "first": first.total_display,
        "last": last.total_display,
        "max": f"{inst.scoring.max:g}",
        "about": about,
        "trend": trend,
    }


def alliance_words(responses: list[Any]) -> str:
    """The client's own session-check ratings in plain words (higher is better, 0 to 6)."""
    scored = [r for r in responses if r.instrument_id == "sac_client" and r.total is not None]
    if not scored:
        return ""
    last = scored[-1]
    text = _("You rated how your last session went %(rating)s out of 6.") % {
        "rating": f"{last.total:.1f}"
    }
    if len(scored) >= 2:
        earlier = [r.total for r in scored[:-1]][-3:]
        mean = sum(earlier) / len(earlier)
        if last.total >= mean + 0.5:
            text += " " + _("That is higher than your recent sessions.")
        elif last.total <= mean - 0.5:
            text += " " + _(
                "That is lower than your recent sessions; your therapist will want to hear what "
                "felt off."
            )
        else:
            text += " " + _("That is about the same as your recent sessions.")
    return text + " " + _("Your honest ratings help your therapist adjust how you work together.")
