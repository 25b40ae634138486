"""A client's progress report: what a therapist hands to the client, a supervisor or a referrer.

One dict feeds the print page and the PDF: PHQ-9 and GAD-7 with their bands, the expected range
and the reliable-change lines (the same charts as the client page), the alliance over time,
goals with their latest Goal Attainment Scaling levels and T-score, and check-in completion,
in plain words, for a date range, with the clinic's name and who generated it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alliance.checkins.models import CheckIn
from alliance.goals.models import GasRating, Goal, gas_history
from alliance.measures import expected, registry
from alliance.measures.charts import build_chart
from alliance.measures.models import OUTCOME_INSTRUMENTS, MeasureSettings, Response

ABOUT = {"phq9": gettext_lazy("low mood"), "gad7": gettext_lazy("worry and anxiety")}


def _num(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _measure(
    client: Any, iid: str, responses: list[Any], settings: MeasureSettings
) -> dict[str, Any] | None:
    scored = [r for r in responses if r.instrument_id == iid and r.total is not None]
    if not scored:
        return None
    inst = registry.load(iid)
    outcome = settings.outcome_settings(iid).resolved()
    rc = outcome.reliable_change
    band = None
    if rc:
        band = expected.band_for(
            expected.for_clinic(client.clinic, iid),
            iid,
            scored[0].total,
            rc,
            outcome.response_fraction,
            outcome.no_improvement_by_session or 6,
        )
    chart = build_chart(iid, scored, rc, band)
    first, last = scored[0], scored[-1]
    words = (
        _("%(instrument)s measures %(about)s (0 to %(max)s; lower is better).")
        % {
            "instrument": inst.short_name,
            "about": ABOUT.get(iid, _("symptoms")),
            "max": f"{inst.scoring.max:g}",
        }
        + " "
        + _("It was %(total)s (%(severity)s) on %(date)s")
        % {
            "total": _num(first.total),
            "severity": first.severity,
            "date": f"{timezone.localdate(first.completed_at):%-d %B %Y}",
        }
    )
    if len(scored) > 1:
        change = last.total - first.total
        if change < 0:
            amount = _("%(points)s points lower") % {"points": _num(abs(change))}
        elif change > 0:
            amount = _("%(points)s points higher") % {"points": _num(abs(change))}
        else:
            amount = _("the same")
        words += " " + _(
            "and %(total)s (%(severity)s) on %(date)s: %(amount)s, over %(n)s scores."
        ) % {
            "total": _num(last.total),
            "severity": last.severity,
            "date": f"{timezone.localdate(last.completed_at):%-d %B %Y}",
            "amount": amount,
            "n": len(scored),
        }
        if rc:
            if -change >= rc:
                words += " " + _(
                    "That is a reliable improvement (a fall of at least %(rc)s points)."
                ) % {"rc": _num(rc)}
            elif change >= rc:
                words += " " + _(
                    "That is a reliable worsening (a rise of at least %(rc)s points)."
                ) % {"rc": _num(rc)}
            else:
                words += " " + _(
                    "That is within the range of no reliable change (±%(rc)s points)."
                ) % {"rc": _num(rc)}
    else:
        words += _(", the only score in this period.")
    return {
        "instrument": inst,
        "words": words,
        "chart": chart,
        "expected": chart.expected_words if chart else "",
    }


def build(client: Any, generated_by: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Everything the report shows for ``client`` between ``start`` and ``end`` (local dates)."""

    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    responses = list(
        Response.objects.filter(
            client=client, completed_at__gte=since, completed_at__lt=until
        ).order_by("completed_at")
    )
    settings = MeasureSettings.for_clinic(client.clinic)
    measures = [
        m for m in (_measure(client, iid, responses, settings) for iid in OUTCOME_INSTRUMENTS) if m
    ]

    ratings = [
        (r, float(r.total))
        for r in responses
        if r.instrument_id == "sac_client" and r.total is not None
    ]
    alliance: dict[str, Any] = {"rows": [], "words": ""}
    if ratings:
        rows = [
            {
                "session": r.session_number or i + 1,
                "date": timezone.localdate(r.completed_at),
                "rating": f"{total:.1f}",
            }
            for i, (r, total) in enumerate(ratings)
        ]
        mean = sum(total for _r, total in ratings) / len(ratings)
        low = sum(1 for _r, total in ratings if total < 4)
        alliance = {
            "rows": rows,
            "words": ngettext(
                "The client rated %(n)d session on the Session Alliance Check (0 to 6, higher is "
                "better; not a validated instrument): %(first)s first, %(last)s most recently, "
                "%(mean)s on average; %(low)s below 4.",
                "The client rated %(n)d sessions on the Session Alliance Check (0 to 6, higher is "
                "better; not a validated instrument): %(first)s first, %(last)s most recently, "
                "%(mean)s on average; %(low)s below 4.",
                len(ratings),
            )
            % {
                "n": len(ratings),
                "first": rows[0]["rating"],
                "last": rows[-1]["rating"],
                "mean": f"{mean:.1f}",
                "low": low,
            },
        }

    goals = []
    latest: dict[tuple[Any, str], int] = {}
    for rating in GasRating.objects.filter(goal__client=client, rated_on__lte=end).order_by(
        "rated_on"
    ):
        latest[(rating.goal_id, rating.rater)] = rating.level
    for goal in (
        Goal.objects.filter(client=client)
        .exclude(status=Goal.Status.DROPPED)
        .order_by("created_at")
    ):
        goals.append(
            {
                "wording": goal.wording,
                "status": goal.get_status_display(),
                "client_level": latest.get((goal.pk, "client")),
                "therapist_level": latest.get((goal.pk, "therapist")),
            }
        )
    history = [p for p in gas_history(client) if start <= p.rated_on <= end]
    gas_words = ""
    for rater in ("client", "therapist"):
        points = [p for p in history if p.rater == rater]
        if points:
            sentence = (
                _(
                    "Goal attainment (GAS T-score, 50 = the expected outcome), the client's "
                    "ratings: %(first)s first, %(last)s most recently."
                )
                if rater == "client"
                else _(
                    "Goal attainment (GAS T-score, 50 = the expected outcome), the therapist's "
                    "ratings: %(first)s first, %(last)s most recently."
                )
            )
            gas_words += (
                sentence % {"first": _num(points[0].t_score), "last": _num(points[-1].t_score)}
                + " "
            )

    check_ins = CheckIn.objects.filter(client=client, due_at__gte=since, due_at__lt=until)
    done = check_ins.filter(status=CheckIn.Status.COMPLETED).count()
    missed = check_ins.filter(status=CheckIn.Status.MISSED).count()
    due = done + missed
    completion = (
        _("%(done)s of %(due)s check-ins completed (%(percent)s%%), %(missed)s missed.")
        % {"done": done, "due": due, "percent": round(100 * done / due), "missed": missed}
        if due
        else _("No check-ins were due in this period.")
    )
    return {
        "client": client,
        "clinic": client.clinic,
        "start": start,
        "end": end,
        "generated_by": generated_by,
        "generated_at": timezone.localtime(),
        "measures": measures,
        "alliance": alliance,
        "goals": goals,
        "gas_words": gas_words.strip(),
        "check_ins": {"done": done, "missed": missed, "words": completion},
    }
