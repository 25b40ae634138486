"""Demo clinic: supervisors may see their supervisees' own figures (never a ranking). The report
itself is computed from the measures, alliance checks, check-ins and alerts seeded before."""

from __future__ import annotations

from alliance.core.seeding import DemoContext
from alliance.reports import compute
from alliance.reports.models import ReportSettings


def seed(ctx: DemoContext) -> None:
    ReportSettings.objects.create(clinic=ctx.clinic, supervisors_see_therapist_figures=True)
    report = compute.build_report(ctx.clinic)
    shown = sum(1 for cells in report.outcomes.values() for c in cells.values() if not c.suppressed)
    ctx.notes.append(
        f"Reports: the clinic outcome report shows {shown} PHQ-9 outcome figures this year "
        f"(smaller cells suppressed); alliance–outcome {report.correlation.display if report.correlation else 'n/a'}."
    )
