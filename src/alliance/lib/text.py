"""Small text helpers for numbers in sentences and for the PDFs' built-in fonts."""

from __future__ import annotations

DASH = "–"


def fmt_number(x: float | None, places: int | None = 2, none: str = DASH) -> str:
    """A number as a sentence shows it: at most ``places`` decimals, no trailing zeros.

    ``fmt_number(2.0)`` is "2", ``fmt_number(1.236)`` is "1.24", ``fmt_number(None)`` is "–".
    With ``places=None`` the value is not rounded first (``format(x, "g")``).
    """
    if x is None:
        return none
    return f"{x:g}" if places is None else f"{round(x, places):g}"


def latin(text: str) -> str:
    """``text`` with the few symbols outside WinAnsi spelled out.

    The PDFs use ReportLab's built-in fonts, which cover WinAnsi only.
    """
    return text.replace("≥", ">=").replace("≤", "<=").replace("−", "-")
