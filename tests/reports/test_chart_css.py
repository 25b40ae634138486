"""Chart lines are never filled: a CSS fill on a series class paints the area under a polyline
(CSS outranks the element's fill="none"), which drew the client's alliance chart as a blob."""

from __future__ import annotations

import re
from pathlib import Path

import alliance

CSS = Path(alliance.__file__).parent / "static" / "alliance" / "supervision.css"
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
LINE_CLASSES = {"line", "series-a", "series-b"}


def _rules_for_the_line() -> list[tuple[str, str]]:
    """Rules whose last compound selector can match <polyline class="line series-x">."""
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    found = []
    for selectors, body in RULE.findall(css):
        for selector in selectors.split(","):
            last = selector.split()[-1] if selector.split() else ""
            element = re.match(r"^[a-z]+", last)
            classes = set(re.findall(r"\.([\w-]+)", last))
            if (
                classes
                and classes <= LINE_CLASSES
                and (element is None or element.group() == "polyline")
            ):
                found.append((selector.strip(), body))
    return found


def test_no_rule_fills_a_chart_line():
    rules = _rules_for_the_line()
    assert rules, "the chart's line rules were not found"
    for selector, body in rules:
        fill = re.search(r"(?<![-\w])fill\s*:\s*([^;]+)", body)
        assert fill is None or fill.group(1).strip() == "none", (
            f"{selector} fills the line: {fill.group(1)}"
        )


def test_the_line_rule_says_fill_none():
    assert any(
        re.search(r"(?<![-\w])fill\s*:\s*none", body)
        for selector, body in _rules_for_the_line()
        if ".line" in selector
    )
