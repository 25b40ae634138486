"""Small-cell suppression, rates and the correlation with its confidence interval (Django-free)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Cells describing fewer than this many distinct clients are suppressed (a common disclosure
# control for health statistics; a design choice, not configurable below 5).
MIN_CELL = 5


@dataclass(frozen=True)
class Cell:
    """One reported figure with the number of distinct clients it describes."""

    value: float | None  # None when suppressed or undefined
    numerator: float | None
    denominator: int | None
    clients: int
    suppressed: bool
    unit: str = "%"

    @property
    def display(self) -> str:
        if self.suppressed:
            return f"suppressed (< {MIN_CELL} clients)"
        return format_figure(self.value, self.unit)

    def to_dict(self) -> dict[str, Any]:
        if self.suppressed:
            return {"value": None, "numerator": None, "denominator": None, "suppressed": True}
        return {
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "suppressed": False,
        }


def format_figure(value: float | None, unit: str) -> str:
    """One figure as a reader expects it: a count is a whole number ("12", never "12.00"), a
    rate a whole percentage, a mean two decimals. Every page, print view and PDF goes through
    ``Cell.display``, so they agree."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "count":
        return f"{round(value):d}"
    return f"{value:.2f}"


def suppressed_cell(clients: int, unit: str = "%") -> Cell:
    return Cell(None, None, None, clients, True, unit)


def rate(numerator: int, denominator: int, clients: int) -> Cell:
    """A percentage, suppressed when it describes fewer than MIN_CELL clients."""
    if clients < MIN_CELL:
        return suppressed_cell(clients)
    value = 100.0 * numerator / denominator if denominator else None
    return Cell(value, numerator, denominator, clients, False)


def mean_cell(values: list[float], clients: int) -> Cell:
    if clients < MIN_CELL:
        return suppressed_cell(clients, unit="mean")
    value = sum(values) / len(values) if values else None
    return Cell(value, None, len(values), clients, False, unit="mean")


def count_cell(count: int, clients: int) -> Cell:
    if clients < MIN_CELL:
        return suppressed_cell(clients, unit="count")
    return Cell(float(count), float(count), None, clients, False, unit="count")


@dataclass(frozen=True)
class Correlation:
    n: int
    r: float | None
    low: float | None
    high: float | None
    suppressed: bool

    @property
    def display(self) -> str:
        if self.suppressed:
            return f"suppressed (< {MIN_CELL} clients)"
        if self.r is None:
            return "not defined (no variation)"
        ci = f", 95% CI {self.low:.2f} to {self.high:.2f}" if self.low is not None else ""
        return f"r = {self.r:.2f}{ci} (n = {self.n})"


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def correlation(xs: list[float], ys: list[float], z: float = 1.959964) -> Correlation:
    """Pearson r with a 95% confidence interval by Fisher's z transform (needs n > 3)."""
    n = len(xs)
    if n < MIN_CELL:
        return Correlation(n, None, None, None, True)
    r = pearson(xs, ys)
    if r is None:
        return Correlation(n, None, None, None, False)
    clipped = max(min(r, 0.999999), -0.999999)
    zr = math.atanh(clipped)
    se = 1 / math.sqrt(n - 3)
    return Correlation(n, r, math.tanh(zr - z * se), math.tanh(zr + z * se), False)
