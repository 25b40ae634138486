"""GAS T-score over time as server-rendered SVG (no script; strict CSP allows it).

Client and therapist series differ by line style and marker shape as well as colour, so the
chart reads without colour; a data table sits beside it for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from alliance.goals.models import CLIENT, GasPoint
from alliance.lib.charts import polyline

WIDTH, HEIGHT, PAD = 320, 180, 28
T_MIN, T_MAX = 20.0, 80.0


@dataclass
class RaterLine:
    """One rater's T-scores as chart points (not a ``lib.charts.Series``: these carry the point)."""

    rater: str
    label: str
    points: list[tuple[float, float, GasPoint]]

    @property
    def polyline(self) -> str:
        return polyline(((x, y) for x, y, _ in self.points), places=1)


def gas_chart(history: list[GasPoint]) -> dict | None:
    if not history:
        return None
    days = sorted({p.rated_on for p in history})
    span = max((days[-1] - days[0]).days, 1)

    def x(day) -> float:  # noqa: ANN001
        return PAD + (WIDTH - 2 * PAD) * ((day - days[0]).days / span if len(days) > 1 else 0.5)

    def y(t: float) -> float:
        t = min(max(t, T_MIN), T_MAX)
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (t - T_MIN) / (T_MAX - T_MIN)

    series = []
    for rater, label in ((CLIENT, _("Client's rating")), ("therapist", _("Therapist's rating"))):
        pts = [(x(p.rated_on), y(p.t_score), p) for p in history if p.rater == rater]
        if pts:
            series.append(RaterLine(rater, str(label), pts))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "series": series,
        "y50": y(50),
        "y40": y(40),
        "y60": y(60),
        "left": PAD,
        "right": WIDTH - PAD,
        "first": days[0],
        "last": days[-1],
    }
