"""The clinic outcome report as a PDF (reportlab): aggregate figures only, small cells suppressed."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from alliance.lib.text import latin
from alliance.reports.compute import OUTCOME_ROWS, Report
from alliance.reports.stats import MIN_CELL

NOTE = gettext_lazy(
    "Aggregate figures for quality improvement. Cells describing fewer than %(n)s clients are "
    "suppressed. Figures are not a diagnosis, not a risk assessment and not a ranking of staff."
)


def _table(header: list[str], rows: list[list[str]]) -> Table:
    data = [[latin(str(c)) for c in r] for r in [header, *rows]]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _period_rows(report: Report) -> list[list[str]]:
    rows: list[list[str]] = []

    def row(label: str, cells: dict[str, Any]) -> None:
        rows.append([label, *[cells[p].display if p in cells else "—" for p in report.periods]])

    row(_("PHQ-9 episodes classified"), report.episodes)
    for key, label in OUTCOME_ROWS:
        row(_("PHQ-9 %(outcome)s") % {"outcome": label}, report.outcomes.get(key, {}))
    row(_("Average client alliance (0–6)"), report.alliance)
    row(_("Rupture repair rate"), report.repair)
    row(_("Check-in completion"), report.check_ins)
    return rows


def render_pdf(report: Report, clinic_name: str, sections: list[dict[str, Any]]) -> bytes:
    """``sections``: per-therapist reports already filtered by who may see them."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Clinic outcomes — %(clinic)s") % {"clinic": clinic_name},
    )
    styles = getSampleStyleSheet()
    story: list[Any] = [
        Paragraph(_("Clinic outcomes — %(clinic)s") % {"clinic": clinic_name}, styles["Title"]),
        Paragraph(
            _("Generated %(at)s (%(zone)s).")
            % {
                "at": f"{timezone.localtime():%Y-%m-%d %H:%M}",
                "zone": timezone.get_current_timezone_name(),
            }
            + " "
            + NOTE % {"n": MIN_CELL},
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        _table([_("Measure"), *report.periods], _period_rows(report)),
        Spacer(1, 6 * mm),
        Paragraph(_("Alerts per rule"), styles["Heading2"]),
        _table(
            [
                _("Rule"),
                _("Alerts"),
                _("Acknowledged with what was done"),
                _("Marked useful (of those rated)"),
            ],
            [
                [a["label"], a["count"].display, a["acted_on"].display, a["useful"].display]
                for a in report.alerts
            ],
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            _("Alliance–outcome correlation in this clinic (co-occurrence, not cause):")
            + " "
            + (report.correlation.display if report.correlation else _("no data")),
            styles["Normal"],
        ),
    ]
    for note in report.notes:
        story.append(Paragraph(note, styles["Italic"]))
    for section in sections:
        story += [
            Spacer(1, 8 * mm),
            Paragraph(
                _("%(name)s (not a ranking)") % {"name": section["therapist"].full_name},
                styles["Heading2"],
            ),
            _table([_("Measure"), *section["report"].periods], _period_rows(section["report"])),
        ]
    doc.build(story)
    return buffer.getvalue()
