"""The client's data export as a PDF (reportlab), built from the same dict as the JSON and HTML.

Built-in PDF fonts only (as in :mod:`alliance.reports.pdf`): they cover WinAnsi, so characters
outside it (for example Chinese or Arabic script, emoji) show as a placeholder glyph in the PDF;
the JSON and HTML copies carry them exactly. Every piece of client text is escaped before it goes
into Paragraph markup, so ``<`` and ``&`` are printed, not parsed.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from alliance.exports.data import client_zone, readable_time, side_words, you_facts
from alliance.lib.text import latin

TITLE = _("Everything we hold about you")


def _text(value: Any) -> str:
    """Plain text as Paragraph markup: symbols spelled out, markup escaped, line breaks kept."""
    text = "" if value is None else str(value)
    return escape(latin(text)).replace("\r\n", "\n").replace("\n", "<br/>")


class _Story:
    def __init__(self, time_zone: str = "UTC") -> None:
        self.tz = client_zone({"you": {"time_zone": time_zone}})
        styles = getSampleStyleSheet()
        self.title = styles["Title"]
        self.h2 = styles["Heading2"]
        self.h3 = styles["Heading3"]
        self.normal = styles["Normal"]
        self.small = ParagraphStyle("small", parent=styles["Normal"], fontSize=9, leading=11)
        self.muted = ParagraphStyle(
            "muted", parent=self.small, textColor=colors.HexColor("#444444")
        )
        self.bullet = ParagraphStyle(
            "bullet", parent=styles["Normal"], leftIndent=10, bulletIndent=0
        )
        self.crisis = ParagraphStyle(
            "crisis",
            parent=styles["Normal"],
            borderColor=colors.black,
            borderWidth=1,
            borderPadding=4,
            spaceBefore=4,
            spaceAfter=6,
        )
        self.items: list[Any] = []

    def when(self, value: str | None) -> str:
        return readable_time(value, self.tz)

    def para(self, markup: str, style: ParagraphStyle | None = None) -> None:
        self.items.append(Paragraph(markup, style or self.normal))

    def heading(self, text: str) -> None:
        self.items.append(Paragraph(_text(text), self.h2))

    def bullets(self, lines: list[str], empty: str) -> None:
        """``lines`` are already markup (built with :func:`_text`)."""
        if not lines:
            self.para(_text(empty), self.muted)
        for line in lines:
            self.items.append(Paragraph(line, self.bullet, bulletText="•"))

    def table(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        cell = self.small
        data = [[Paragraph(f"<b>{_text(h)}</b>", cell) for h in header]]
        data += [[Paragraph(_text(c), cell) for c in r] for r in rows]
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        self.items.append(table)


def _fact(label: str, value: Any) -> str:
    return f"<b>{_text(label)}</b>: {_text(value)}"


def _facts(data: dict[str, Any]) -> list[str]:
    lines = [f"<b>{_text(label)}</b>: {_text(value)}" for label, value in you_facts(data)]
    lines.append(f"<b>{_text(gettext('Care team'))}</b>: {_text(', '.join(data['care_team']))}")
    return lines


def _questionnaire(s: _Story, q: dict[str, Any]) -> None:
    head = f"{q['questionnaire']}, {s.when(q['date'])}"
    block: list[Any] = [Paragraph(_text(head), s.h3)]
    total = gettext("no total") if q["total"] is None else str(q["total"])
    if q["total"] is not None and q["score_range"]:
        total += " " + gettext("(possible range %(range)s)") % {"range": q["score_range"]}
    if q["severity"]:
        total += f", {q['severity']}"
    facts = [
        _fact(gettext("Questionnaire"), q["full_name"]),
        _fact(gettext("Entered by"), q["entered_by"]),
    ]
    if q["session"]:
        facts.append(_fact(gettext("Session"), q["session"]))
    facts.append(_fact(gettext("Score"), total))
    for line in facts:
        block.append(Paragraph(line, s.normal))
    s.items.append(KeepTogether(block))
    if "support_now" in q:
        support = q["support_now"]
        s.para(
            f"<b>{_text(gettext('Please reach out now if you need support.'))}</b> "
            f"{_text(support['message'])}<br/><br/>"
            f"{_text(support['crisis_resources'])}<br/><br/><b>{_text(support['note'])}</b>",
            s.crisis,
        )
    for note in q["notes"]:
        s.para(_text(note), s.small)
    if "about_this_questionnaire" in q:
        s.para(_text(q["about_this_questionnaire"]), s.muted)
    if q["answers"]:
        if "about_the_questions" in q:
            s.para(_text(q["about_the_questions"]), s.muted)
            s.table(
                ["#", gettext("Your answer")],
                [[a["number"], a["answer"]] for a in q["answers"]],
                [12 * mm, 80 * mm],
            )
        else:
            s.table(
                ["#", gettext("Question"), gettext("Your answer")],
                [[a["number"], a.get("question", ""), a["answer"]] for a in q["answers"]],
                [10 * mm, 105 * mm, 60 * mm],
            )
    else:
        s.para(
            _text(
                gettext(
                    "Only the total was recorded; there are no answers to individual questions."
                )
            ),
            s.muted,
        )
    s.items.append(Spacer(1, 3 * mm))


def story(data: dict[str, Any]) -> list[Flowable]:
    """The PDF's content, in the active language: see :func:`render_pdf`."""
    s = _Story(data["you"].get("time_zone") or "UTC")
    s.para(_text(TITLE), s.title)
    s.para(
        _text(
            gettext("Made on %(made)s (%(zone)s).")
            % {"made": s.when(data["exported_at"]), "zone": s.tz.key}
            + " "
            + data["about_scores"]
        ),
        s.normal,
    )
    s.para(
        _text(
            gettext("In crisis? %(crisis_line)s Messages here are not watched in real time.")
            % {"crisis_line": data["crisis_line"]}
        ),
        s.small,
    )

    s.heading(gettext("You"))
    s.bullets(_facts(data), "")

    s.heading(gettext("Your sessions"))
    s.bullets(
        [
            _text(
                gettext("Session %(number)s, %(date)s: %(status)s")
                % {"number": x["number"], "date": s.when(x["date"]), "status": x["status"]}
            )
            for x in data["sessions"]
        ],
        gettext("No sessions."),
    )

    s.heading(gettext("Consents"))
    consents = []
    for c in data["consents"]:
        if c["withdrawn"]:
            state = gettext("withdrawn %(when)s") % {"when": s.when(c["withdrawn"])}
        elif c["granted"]:
            state = gettext("given %(when)s") % {"when": s.when(c["recorded"])}
        else:
            state = gettext("not given")
        version = gettext("(text version %(version)s)") % {"version": c["text_version"]}
        consents.append(_text(f"{c['consent']}: {state} {version}"))
    s.bullets(consents, gettext("None recorded."))

    s.heading(gettext("Goals"))
    if not data["goals"]:
        s.para(_text(gettext("No goals.")), s.muted)
    for g in data["goals"]:
        s.para(f"<b>{_text(g['wording'])}</b>", s.normal)
        status = g["status"] + (f" ({g['reason']})" if g["reason"] else "")
        lines = [_text(status)]
        lines += [_text(f"{level}: {words}") for level, words in g["levels"].items() if words]
        if g["ratings"]:
            lines.append(
                _text(
                    gettext("Ratings:")
                    + " "
                    + "; ".join(
                        f"{r['date']} ({side_words(r['by'])}) {r['level']:+d}" for r in g["ratings"]
                    )
                )
            )
        s.bullets(lines, "")

    s.heading(gettext("Goal attainment over time"))
    s.bullets(
        [
            _text(
                gettext("%(date)s, rated by %(who)s: T-score %(score)s")
                % {"date": p["date"], "who": side_words(p["rated_by"]), "score": p["t_score"]}
            )
            for p in data["goal_attainment"]
        ],
        gettext("No ratings."),
    )

    s.heading(gettext("Tasks"))
    s.bullets(
        [
            _text(
                gettext("%(task)s — why it helps: %(why)s (%(status)s, %(progress)s%%)")
                % {
                    "task": t["task"],
                    "why": t["why_this_helps"],
                    "status": t["status"],
                    "progress": t["progress"],
                }
            )
            for t in data["tasks"]
        ],
        gettext("No tasks."),
    )

    s.heading(gettext("Check-ins"))
    check_ins = []
    for c in data["check_ins"]:
        line = f"{s.when(c['due'])}: {c['what']}, {c['status']}"
        if c.get("mood") is not None:
            line += ", " + gettext("mood %(mood)s") % {"mood": c["mood"]}
        if c.get("anything_to_know"):
            line += f': "{c["anything_to_know"]}"'
        check_ins.append(_text(line))
    s.bullets(check_ins, gettext("None."))

    s.heading(gettext("Questionnaires"))
    s.para(_text(data["about_scores"]), s.muted)
    if not data["questionnaires"]:
        s.para(_text(gettext("None.")), s.muted)
    for q in data["questionnaires"]:
        _questionnaire(s, q)

    s.heading(gettext("Concerns"))
    concerns = []
    for c in data["concerns"]:
        line = f"{s.when(c['raised'])}: {c['about']}"
        if c["detail"]:
            line += f' — "{c["detail"]}"'
        if c["read_by_therapist"]:
            line += " " + gettext("(read %(when)s)") % {"when": s.when(c["read_by_therapist"])}
        concerns.append(_text(line))
    s.bullets(concerns, gettext("None."))

    s.heading(gettext("Who accessed your record"))
    s.bullets(
        [_text(f"{s.when(e['when'])}: {e['what']}") for e in data["who_accessed_your_record"]],
        gettext("Nobody yet."),
    )
    return s.items


def render_pdf(data: dict[str, Any], *, compress: bool = True) -> bytes:
    """``data`` is :func:`alliance.exports.data.client_data`, built in the same language that
    is active here (the view overrides both with the client's). ``compress=False`` writes
    uncompressed, invariant page streams (so tests can read the text)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{TITLE} — {data['you']['name']}",
        lang=translation.get_language() or "en",
        pageCompression=1 if compress else 0,
        invariant=0 if compress else 1,
    )
    doc.build(story(data))
    return buffer.getvalue()
