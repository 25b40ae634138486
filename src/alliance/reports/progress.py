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

from alliance.measures import expected, registry
from alliance.measures.charts import build_chart
from alliance.measures.models import OUTCOME_INSTRUMENTS, MeasureSettings, Response

ABOUT = {"phq9": "low mood", "gad7": "worry and anxiety"}


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
        f"{inst.short_name} measures {ABOUT.get(iid, 'symptoms')} (0 to {inst.scoring.max:g}; lower is better). "
        f"It was {_num(first.total)} ({first.severity}) on {timezone.localdate(first.completed_at):%-d %B %Y}"
    )
    if len(scored) > 1:
        change = last.total - first.total
        direction = "lower" if change < 0 else "higher" if change > 0 else "the same"
        amount = f"{_num(abs(change))} points {direction}" if change else "the same"
        words += (
            f" and {_num(last.total)} ({last.severity}) on {timezone.localdate(last.completed_at):%-d %B %Y}: "
            f"{amount}, over {len(scored)} scores."
        )
        if rc:
            if -change >= rc:
                words += f" That is a reliable improvement (a fall of at least {_num(rc)} points)."
            elif change >= rc:
                words += f" That is a reliable worsening (a rise of at least {_num(rc)} points)."
            else:
                words += f" That is within the range of no reliable change (±{_num(rc)} points)."
    else:
        words += ", the only score in this period."
    return {
        "instrument": inst,
        "words": words,
        "chart": chart,
        "expected": chart.expected_words if chart else "",
    }


def build(client: Any, generated_by: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Everything the report shows for ``client`` between ``start`` and ``end`` (local dates)."""
    from alliance.checkins.models import CheckIn
    from alliance.goals.models import GasRating, Goal, gas_history

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
            "words": (
                f"The client rated {len(ratings)} session{'s' if len(ratings) != 1 else ''} on the Session Alliance Check "
                f"(0 to 6, higher is better; not a validated instrument): {rows[0]['rating']} first, {rows[-1]['rating']} "
                f"most recently, {mean:.1f} on average; {low} below 4."
            ),
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
            who = "the client's" if rater == "client" else "the therapist's"
            gas_words += (
                f"Goal attainment (GAS T-score, 50 = the expected outcome), {who} ratings: "
                f"{_num(points[0].t_score)} first, {_num(points[-1].t_score)} most recently. "
            )

    check_ins = CheckIn.objects.filter(client=client, due_at__gte=since, due_at__lt=until)
    done = check_ins.filter(status=CheckIn.Status.COMPLETED).count()
    missed = check_ins.filter(status=CheckIn.Status.MISSED).count()
    due = done + missed
    completion = (
        f"{done} of {due} check-ins completed ({round(100 * done / due)}%), {missed} missed."
        if due
        else "No check-ins were due in this period."
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
