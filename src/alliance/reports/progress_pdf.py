"""The client's progress report as a PDF (reportlab), from the dict the print page shows.

Charts are drawn with reportlab's vector shapes from the same chart geometry as the web page
(bands, reliable-change and cut-off lines, the expected band and line, the scores). Built-in
fonts only, as in :mod:`alliance.reports.pdf`; all text is escaped before it becomes markup.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from alliance.lib.text import latin

SCALE = 0.72  # the 640 px web chart fits the A4 text width


def _p(text: str) -> str:
    return escape(latin(str(text))).replace("–", "-").replace("−", "-")


def _points(spec: str) -> list[float]:
    out: list[float] = []
    for pair in spec.split():
        x, y = pair.replace("M", "").replace("L", "").split(",")
        out += [float(x), float(y)]
    return out


def _chart(chart: Any) -> Drawing:
    """The web chart's geometry, flipped (PDF y grows upwards) and scaled."""
    h = chart.height
    d = Drawing(chart.width * SCALE, h * SCALE)

    def y(v: float) -> float:
        return (h - v) * SCALE

    width = (chart.plot_right - chart.plot_left) * SCALE
    for i, band in enumerate(chart.bands):
        d.add(
            Rect(
                chart.plot_left * SCALE,
                y(band["y"] + band["height"]),
                width,
                band["height"] * SCALE,
                fillColor=colors.HexColor("#f4f6f8" if i % 2 == 0 else "#e4e8ee"),
                strokeColor=colors.HexColor("#c5ccd6"),
                strokeWidth=0.3,
            )
        )
        d.add(
            String(
                chart.plot_right * SCALE + 3,
                y(band["label_y"]),
                latin(f"{band['label']} ({band['range']})"),
                fontSize=6.5,
            )
        )
    if chart.expected_band:
        pts = _points(chart.expected_band)
        d.add(
            Polygon(
                [v * SCALE if i % 2 == 0 else y(v) for i, v in enumerate(pts)],
                fillColor=colors.Color(0.18, 0.49, 0.31, alpha=0.2),
                strokeColor=colors.HexColor("#2e7d4f"),
                strokeWidth=0.5,
            )
        )
        line = _points(chart.expected_path)
        d.add(
            PolyLine(
                [v * SCALE if i % 2 == 0 else y(v) for i, v in enumerate(line)],
                strokeColor=colors.HexColor("#2e7d4f"),
                strokeWidth=1,
                strokeDashArray=[4, 3],
            )
        )
    for ref in chart.lines:
        d.add(
            Line(
                chart.plot_left * SCALE,
                y(ref["y"]),
                chart.plot_right * SCALE,
                y(ref["y"]),
                strokeColor=colors.HexColor("#5b6472"),
                strokeWidth=0.6,
                strokeDashArray=[2, 2],
            )
        )
        d.add(String(chart.plot_left * SCALE + 3, y(ref["y"]) + 2, latin(ref["label"]), fontSize=6))
    for t in chart.y_ticks:
        d.add(
            String(
                chart.plot_left * SCALE - 4,
                y(t["y"]) - 2,
                str(t["value"]),
                fontSize=6.5,
                textAnchor="end",
            )
        )
    path = _points(chart.path)
    if len(path) >= 4:
        d.add(
            PolyLine(
                [v * SCALE if i % 2 == 0 else y(v) for i, v in enumerate(path)],
                strokeColor=colors.black,
                strokeWidth=1.2,
            )
        )
    for p in chart.points:
        d.add(
            Circle(p["x"] * SCALE, y(p["y"]), 2.5, fillColor=colors.black, strokeColor=colors.white)
        )
        d.add(
            String(p["x"] * SCALE, y(p["y"]) + 5, str(p["total"]), fontSize=7, textAnchor="middle")
        )
        d.add(
            String(
                p["x"] * SCALE,
                y(chart.plot_bottom) - 9,
                f"S{p['session']}",
                fontSize=6,
                textAnchor="middle",
            )
        )
    return d


def _table(header: list[str], rows: list[list[str]]) -> Table:
    table = Table(
        [[latin(c) for c in header], *[[latin(c) for c in r] for r in rows]],
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_progress_pdf(report: dict[str, Any]) -> bytes:
    styles = getSampleStyleSheet()
    normal, h1, h2, h3 = styles["Normal"], styles["Title"], styles["Heading2"], styles["Heading3"]
    story: list[Any] = [
        Paragraph(_p(report["clinic"].name), styles["Heading4"]),
        Paragraph(_p(_("Progress report: %(name)s") % {"name": report["client"].full_name}), h1),
        Paragraph(
            _p(
                _("From %(start)s to %(end)s. Generated by %(name)s on %(at)s.")
                % {
                    "start": f"{report['start']:%-d %B %Y}",
                    "end": f"{report['end']:%-d %B %Y}",
                    "name": report["generated_by"].full_name,
                    "at": f"{report['generated_at']:%-d %B %Y, %H:%M}",
                }
            ),
            normal,
        ),
        Paragraph(_p(_("How things have been going")), h2),
    ]
    for m in report["measures"]:
        story += [Paragraph(_p(m["instrument"].short_name), h3), Paragraph(_p(m["words"]), normal)]
        if m["chart"] is not None:
            story += [Spacer(1, 2 * mm), _chart(m["chart"])]
            if m["expected"]:
                story.append(
                    Paragraph(
                        _p(_("Green band: %(expected)s") % {"expected": m["expected"]}),
                        styles["Italic"],
                    )
                )
    if not report["measures"]:
        story.append(Paragraph(_p(_("No PHQ-9 or GAD-7 scores in this period.")), normal))
    story.append(Paragraph(_p(_("Working together (alliance)")), h2))
    alliance = report["alliance"]
    if alliance["rows"]:
        story += [
            Paragraph(_p(alliance["words"]), normal),
            Spacer(1, 2 * mm),
            _table(
                [_("Session"), _("Date"), _("Rating (0-6)")],
                [
                    [str(r["session"]), f"{r['date']:%-d %b %Y}", r["rating"]]
                    for r in alliance["rows"]
                ],
            ),
        ]
    else:
        story.append(Paragraph(_p(_("No session ratings in this period.")), normal))
    story.append(Paragraph(_p(_("Goals")), h2))
    if report["goals"]:
        if report["gas_words"]:
            story.append(Paragraph(_p(report["gas_words"]), normal))

        def level(v: int | None) -> str:
            return "-" if v is None else f"{v:+d}" if v else "0"

        story += [
            Spacer(1, 2 * mm),
            _table(
                [_("Goal"), _("Status"), _("Client's level"), _("Therapist's level")],
                [
                    [
                        g["wording"],
                        g["status"],
                        level(g["client_level"]),
                        level(g["therapist_level"]),
                    ]
                    for g in report["goals"]
                ],
            ),
            Paragraph(
                _p(
                    _(
                        "Levels run from -2 (much less than expected) through 0 (the expected "
                        "outcome) to +2."
                    )
                ),
                styles["Italic"],
            ),
        ]
    else:
        story.append(Paragraph(_p(_("No goals yet.")), normal))
    story += [
        Paragraph(_p(_("Check-ins between sessions")), h2),
        Paragraph(_p(report["check_ins"]["words"]), normal),
        Spacer(1, 4 * mm),
        Paragraph(
            _p(_("Scores support a conversation; they are not a diagnosis or a risk assessment.")),
            styles["Italic"],
        ),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=latin(_("Progress report: %(name)s") % {"name": report["client"].full_name}),
        author=latin(report["clinic"].name),
    )
    doc.build(story)
    return buffer.getvalue()
