"""Server-rendered inline SVG line charts and the path helpers every chart uses (no script, no inline style: strict CSP).

Every chart is shown beside a data table, and series are told apart by line pattern and point
shape as well as colour, so they read without colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Point = tuple[float, float]


def polyline(points: Iterable[Point], places: int | None = None) -> str:
    """SVG ``points`` for a polyline: "x,y x,y ..." (to ``places`` decimals when given)."""
    if places is None:
        return " ".join(f"{x},{y}" for x, y in points)
    return " ".join(f"{x:.{places}f},{y:.{places}f}" for x, y in points)


def svg_path(points: Iterable[Point | None]) -> str:
    """SVG path data through ``points``: "Mx,y Lx,y ...". A None breaks the line, so the next
    point starts a new segment (a session without a rating leaves a gap, not a bridge)."""
    out: list[str] = []
    joined = False
    for point in points:
        if point is None:
            joined = False
            continue
        out.append(f"{'L' if joined else 'M'}{point[0]},{point[1]}")
        joined = True
    return " ".join(out)


def gaps_between(points: Sequence[tuple[int, Point]]) -> list[Point | None]:
    """``(index, point)`` pairs as ``svg_path`` input: a None wherever the index skips."""
    out: list[Point | None] = []
    prev: int | None = None
    for index, point in points:
        if prev is not None and index != prev + 1:
            out.append(None)
        out.append(point)
        prev = index
    return out


@dataclass
class Series:
    label: str
    values: list[float | None]
    css: str = "series-a"  # classes in supervision.css (colour + dash pattern)


@dataclass
class RefLine:
    label: str
    value: float
    css: str = "ref-fair"


@dataclass
class Marker:
    index: int  # position on the x axis
    label: str


@dataclass
class LineChart:
    title: str
    x_labels: list[str]
    series: list[Series]
    y_min: float
    y_max: float
    ref_lines: list[RefLine] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    y_label: str = ""
    width: int = 640
    height: int = 240
    left: int = 48
    right: int = 110
    top: int = 16
    bottom: int = 40

    def _x(self, i: int) -> float:
        n = max(len(self.x_labels) - 1, 1)
        return round(self.left + (self.width - self.left - self.right) * i / n, 1)

    def _y(self, v: float) -> float:
        span = (self.y_max - self.y_min) or 1
        frac = (min(max(v, self.y_min), self.y_max) - self.y_min) / span
        return round(self.top + (self.height - self.top - self.bottom) * (1 - frac), 1)

    def render(self) -> dict[str, object]:
        plotted = []
        for s in self.series:
            pts = [
                (self._x(i), self._y(v), v, self.x_labels[i])
                for i, v in enumerate(s.values)
                if v is not None
            ]
            plotted.append(
                {
                    "label": s.label,
                    "css": s.css,
                    "polyline": polyline((x, y) for x, y, _v, _l in pts),
                    "points": [{"x": x, "y": y, "v": v, "l": lab} for x, y, v, lab in pts],
                }
            )
        ticks = []
        steps = 4
        for k in range(steps + 1):
            v = self.y_min + (self.y_max - self.y_min) * k / steps
            ticks.append({"y": self._y(v), "label": f"{v:g}"})
        every = max(1, len(self.x_labels) // 8)
        xticks = [
            {"x": self._x(i), "label": lab} for i, lab in enumerate(self.x_labels) if i % every == 0
        ]
        return {
            "title": self.title,
            "width": self.width,
            "height": self.height,
            "plot_left": self.left,
            "plot_right": self.width - self.right,
            "plot_bottom": self.height - self.bottom,
            "label_x": self.width - self.right + 6,
            "xaxis_y": self.height - self.bottom + 16,
            "series": plotted,
            "ticks": ticks,
            "xticks": xticks,
            "refs": [
                {"y": self._y(r.value), "label": r.label, "css": r.css, "value": r.value}
                for r in self.ref_lines
            ],
            "markers": [
                {"x": self._x(m.index), "y": self.height - self.bottom, "label": m.label}
                for m in self.markers
                if 0 <= m.index < len(self.x_labels)
            ],
            "y_label": self.y_label,
        }
