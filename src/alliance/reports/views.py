"""Clinic outcome reports (aggregate, small cells suppressed), CSV and print-ready export, report
settings, and the therapist's own development page."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alliance.accounts.models import Role
from alliance.clients.access import CLINICAL_ROLES, client_or_404, clinical_staff
from alliance.core import audit
from alliance.core.access import signed_in_user, staff, staff_membership
from alliance.lib.charts import LineChart, RefLine, Series
from alliance.reports import compute, progress
from alliance.reports.forms import ReportSettingsForm
from alliance.reports.models import ReportSettings
from alliance.reports.stats import MIN_CELL
from alliance.supervision import dashboard
from alliance.supervision.models import SupervisionLink

audit.register_record_type("clinic_report", gettext_noop("the clinic's aggregate outcome report"))
audit.register_record_type(
    "progress_report", gettext_noop("a progress report about you (printed or PDF)")
)


def _granularity(request: HttpRequest) -> tuple[str, int]:
    if request.GET.get("period") == "month":
        return "month", 6
    return "quarter", 4


def _table(report: compute.Report) -> list[dict[str, Any]]:
    """Rows of the report table: label, one cell per period."""
    rows = [
        {
            "label": _("PHQ-9 episodes classified"),
            "cells": [report.episodes.get(p) for p in report.periods],
        }
    ]
    for key, label in compute.OUTCOME_ROWS:
        rows.append(
            {
                "label": _("PHQ-9 %(outcome)s") % {"outcome": label.lower()},
                "cells": [report.outcomes.get(key, {}).get(p) for p in report.periods],
            }
        )
    rows.append(
        {
            "label": _("Average session alliance (0–6)"),
            "cells": [report.alliance.get(p) for p in report.periods],
        }
    )
    rows.append(
        {"label": _("Rupture-repair rate"), "cells": [report.repair.get(p) for p in report.periods]}
    )
    if report.check_ins:
        rows.append(
            {
                "label": _("Check-in completion"),
                "cells": [report.check_ins.get(p) for p in report.periods],
            }
        )
    return rows


def _charts(report: compute.Report) -> list[dict[str, object]]:
    def values(cells: dict[str, Any]) -> list[float | None]:
        return [
            None if cells.get(p) is None or cells[p].suppressed else cells[p].value
            for p in report.periods
        ]

    outcome = LineChart(
        # xgettext:no-python-format
        title=_("PHQ-9 reliable improvement and deterioration (% of classified episodes)"),
        x_labels=report.periods,
        series=[
            Series(
                _("Reliable improvement"), values(report.outcomes.get("reliable_improvement", {}))
            ),
            Series(
                _("Reliable deterioration"),
                values(report.outcomes.get("reliable_deterioration", {})),
                "series-b",
            ),
        ],
        y_min=0,
        y_max=100,
    )
    alliance = LineChart(
        title=_("Average session alliance (0–6)"),
        x_labels=report.periods,
        series=[Series(_("Average alliance"), values(report.alliance))],
        y_min=0,
        y_max=6,
        ref_lines=[RefLine(_("cut-off 4"), 4.0)],
    )
    return [outcome.render(), alliance.render()]


def _clinic_data(clinic: Any, granularity: str, n: int) -> compute.ClinicData:
    """One read of the clinic's rows for every report on a page (the clinic's, each
    therapist's): the page's query count does not grow with clients or supervisees."""
    periods = compute.recent_periods(timezone.localdate(), n, granularity)
    return compute.ClinicData.load(
        clinic, alerts_since=compute.period_start(periods[0], granularity)
    )


def _therapist_sections(
    request: HttpRequest, granularity: str, n: int, data: compute.ClinicData
) -> list[dict[str, Any]]:
    """Per-therapist figures for a supervisor, only when the clinic allows it: the supervisor's
    own supervisees, in alphabetical order (never sorted by a figure: not a ranking)."""
    user = signed_in_user(request)
    if user.role != Role.SUPERVISOR:
        return []
    clinic = staff_membership(request).clinic
    if not ReportSettings.for_clinic(clinic).supervisors_see_therapist_figures:
        return []
    therapists = list(SupervisionLink.supervisees_of(user).order_by("full_name"))
    clients = compute.primary_clients(clinic, therapists)
    sections = []
    for therapist in therapists:
        r = compute.build_report(
            clinic,
            client_ids=clients[therapist.pk],
            granularity=granularity,
            n_periods=n,
            data=data,
        )
        sections.append({"therapist": therapist, "report": r, "table": _table(r)})
    return sections


def _context(request: HttpRequest) -> dict[str, Any]:
    clinic = staff_membership(request).clinic
    granularity, n = _granularity(request)
    data = _clinic_data(clinic, granularity, n)
    report = compute.build_report(clinic, granularity=granularity, n_periods=n, data=data)
    return {
        "clinic": clinic,
        "report": report,
        "table": _table(report),
        "charts": _charts(report),
        "granularity": granularity,
        "min_cell": MIN_CELL,
        "published_r": compute.PUBLISHED_R,
        "therapist_sections": _therapist_sections(request, granularity, n, data),
    }


@staff(Role.ADMIN, Role.SUPERVISOR)
def clinic_report(request: HttpRequest) -> HttpResponse:
    audit.record_request(request, "view", "clinic_report")
    return render(request, "reports/clinic_report.html", _context(request))


@staff(Role.ADMIN, Role.SUPERVISOR)
def clinic_report_print(request: HttpRequest) -> HttpResponse:
    """Print-ready page: the browser's "Save as PDF" makes the PDF (no PDF library needed)."""
    audit.record_request(request, "export", "clinic_report", note="print")
    return render(request, "reports/clinic_report.html", {**_context(request), "print": True})


@staff(Role.ADMIN, Role.SUPERVISOR)
def clinic_report_pdf(request: HttpRequest) -> HttpResponse:
    # reportlab is heavy: loaded only when a PDF is asked for.
    from alliance.reports.pdf import render_pdf  # noqa: PLC0415

    context = _context(request)
    audit.record_request(request, "export", "clinic_report", note="pdf")
    clinic = staff_membership(request).clinic
    response = HttpResponse(
        render_pdf(context["report"], clinic.name, context["therapist_sections"]),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = 'attachment; filename="clinic-outcomes.pdf"'
    return response


@staff(Role.ADMIN, Role.SUPERVISOR)
def clinic_report_csv(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    audit.record_request(request, "export", "clinic_report", note="csv")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="clinic-outcomes.csv"'
    writer = csv.writer(response)
    for row in compute.csv_rows(context["report"], "clinic"):
        writer.writerow(row)
    for section in context["therapist_sections"]:
        for row in compute.csv_rows(
            section["report"], f"therapist:{section['therapist'].full_name}"
        )[1:]:
            writer.writerow(row)
    return response


@staff(Role.ADMIN)
def report_settings(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    form = ReportSettingsForm(request.POST or None, instance=ReportSettings.for_clinic(clinic))
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record_request(request, "update", "clinic_report", note="settings")
        messages.success(request, _("Report settings saved."))
        return redirect("report_settings")
    return render(request, "reports/settings.html", {"form": form})


@clinical_staff
def development(request: HttpRequest) -> HttpResponse:
    """The therapist's own skill metrics and client outcomes over time, with the clinic's
    figures as context. Only ever their own."""
    clinic = staff_membership(request).clinic
    granularity, n = _granularity(request)
    data = _clinic_data(clinic, granularity, n)
    mine = compute.build_report(
        clinic,
        client_ids=compute.primary_clients(clinic, [request.user])[request.user.pk],
        granularity=granularity,
        n_periods=n,
        data=data,
    )
    everyone = compute.build_report(clinic, granularity=granularity, n_periods=n, data=data)
    rows = []
    for mine_row, clinic_row in zip(_table(mine), _table(everyone), strict=True):
        rows.append(
            {
                "label": mine_row["label"],
                "pairs": list(zip(mine_row["cells"], clinic_row["cells"], strict=True)),
            }
        )
    return render(
        request,
        "reports/development.html",
        {
            "periods": mine.periods,
            "rows": rows,
            "mine": mine,
            "everyone": everyone,
            "skills": dashboard.skill_trends(request.user, clinic_context=True),
            "granularity": granularity,
            "min_cell": MIN_CELL,
        },
    )


# --- A client's progress report (print page and PDF) ---------------------------------------


def _report_range(request: HttpRequest, client: Any) -> tuple[Any, Any, str]:
    """(start, end, error) from ``?from=&to=`` (YYYY-MM-DD); defaults: the ongoing episode's
    start (or 90 days ago) to today. A bad value keeps the defaults and says why."""

    today = timezone.localdate()
    episode = client.episodes.order_by("-started").first()
    start, end = (episode.started if episode else today - dt.timedelta(days=90)), today
    error = ""
    try:
        if request.GET.get("from"):
            start = dt.date.fromisoformat(request.GET["from"])
        if request.GET.get("to"):
            end = dt.date.fromisoformat(request.GET["to"])
    except ValueError:
        return (
            (episode.started if episode else today - dt.timedelta(days=90)),
            today,
            _("Dates must look like 2026-03-31."),
        )
    if start > end:
        return (
            (episode.started if episode else today - dt.timedelta(days=90)),
            today,
            _("The start date must come before the end date."),
        )
    return start, end, error


@staff(*CLINICAL_ROLES, Role.ADMIN)
def progress_report(request: HttpRequest, client_id: str) -> HttpResponse:
    """Print-ready progress report for one client; access and audit as the client page."""

    client = client_or_404(
        request, client_id, record_type="progress_report", action="export", note="print"
    )
    start, end, error = _report_range(request, client)
    context = progress.build(client, signed_in_user(request), start, end)
    return render(
        request,
        "reports/progress_report.html",
        {**context, "error": error},
        status=400 if error else 200,
    )


@staff(*CLINICAL_ROLES, Role.ADMIN)
def progress_report_pdf(request: HttpRequest, client_id: str) -> HttpResponse:
    # reportlab is heavy: loaded only when a PDF is asked for.
    from alliance.reports.progress_pdf import render_progress_pdf  # noqa: PLC0415

    client = client_or_404(
        request, client_id, record_type="progress_report", action="export", note="pdf"
    )
    start, end, error = _report_range(request, client)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        render_progress_pdf(progress.build(client, signed_in_user(request), start, end)),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="progress-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    )
    return response
