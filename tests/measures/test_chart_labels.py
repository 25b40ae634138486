"""Severity band labels fit beside the PHQ-9 chart: the words on one line, the range on the
next, so "moderately severe (15–19)" is never cut at the chart's edge."""

from __future__ import annotations

import re
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import timezone

from alliance.measures.charts import RIGHT, build_chart

# system-ui at 11 px averages under 6.2 px a character; the label starts 6 px past the plot.
MAX_CHARS_PER_LINE = int((RIGHT - 6) / 6.2)


def _chart_html(instrument_id: str) -> str:
    responses = [
        SimpleNamespace(
            total=t,
            completed_at=timezone.now(),
            session_number=i,
            severity="",
            item9_positive=False,
            total_display=str(t),
        )
        for i, t in enumerate([18, 12], start=1)
    ]
    chart = build_chart(instrument_id, responses, 6)
    return render_to_string("measures/_chart.html", {"chart": chart})


def test_every_band_label_line_fits_the_margin():
    for instrument_id in ("phq9", "gad7"):
        html = _chart_html(instrument_id)
        labels = re.findall(r'<text class="band-label"[^>]*>(.*?)</text>', html, flags=re.S)
        assert labels
        for label in labels:
            words, rng = re.match(r"(.*?)<tspan[^>]*>(.*?)</tspan>", label).groups()
            assert len(words) <= MAX_CHARS_PER_LINE and len(rng) <= MAX_CHARS_PER_LINE, label
    assert "moderately severe<tspan" in _chart_html("phq9")
