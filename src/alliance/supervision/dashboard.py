"""The supervisor's view of each supervisee: counts everywhere, detail only where shared and
consented, and skill-metric trends against the MITI fair/good lines."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from statistics import fmean
from typing import Any

from django.utils import timezone

from alliance.clients.models import ClientRecord
from alliance.nlp.metrics import THRESHOLDS
from alliance.reports.charts import LineChart, RefLine, Series
from alliance.supervision.content import SKILL_METRICS
from alliance.supervision.models import SharedItem


def supervisee_clients(therapist: Any) -> Any:
    return ClientRecord.objects.filter(
        care_team__therapist=therapist, status=ClientRecord.Status.ACTIVE
    ).distinct()


def alert_counts(therapist: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open safety alerts older than the clinic's escalation time, unrepaired ruptures and
    not-on-track clients among the supervisee's clients (ids kept for the consented detail)."""
    now = now or timezone.now()
    clients = supervisee_clients(therapist)
    try:
        from alliance.measures.models import MeasureSettings
        from alliance.monitoring.models import OPEN_STATUSES, Alert, AlertKind
    except ImportError:
        return {"available": False}
    clinic = therapist.membership.clinic
    hours = MeasureSettings.for_clinic(clinic).escalation_hours
    open_alerts = Alert.objects.filter(client__in=clients, status__in=OPEN_STATUSES)
    safety = open_alerts.filter(
        kind=AlertKind.SAFETY, created_at__lt=now - dt.timedelta(hours=hours)
    )
    unrepaired = open_alerts.filter(kind=AlertKind.UNREPAIRED_RUPTURE)
    not_on_track = open_alerts.filter(kind=AlertKind.NOT_ON_TRACK)
    return {
        "available": True,
        "escalation_hours": hours,
        "safety_overdue": safety.values("client").distinct().count(),
        "unrepaired_ruptures": unrepaired.count(),
        "not_on_track": not_on_track.values("client").distinct().count(),
        "flagged_client_ids": set(safety.values_list("client_id", flat=True))
        | set(unrepaired.values_list("client_id", flat=True))
        | set(not_on_track.values_list("client_id", flat=True)),
        "active_clients": clients.count(),
    }


def consented_detail(supervisor: Any, therapist: Any, client_ids: set[Any]) -> list[dict[str, Any]]:
    """Flagged clients about whom the supervisee shared something and consent is on file now."""
    items = (
        SharedItem.objects.visible_to(supervisor)
        .filter(therapist=therapist, client_id__in=client_ids, unshared_at__isnull=True)
        .select_related("client")
    )
    by_client: dict[Any, list[SharedItem]] = defaultdict(list)
    for item in items:
        by_client[item.client].append(item)
    return [
        {"client": client, "items": shared}
        for client, shared in sorted(by_client.items(), key=lambda kv: kv[0].full_name)
        if client.has_consent("supervision")
    ]


def _monthly(rows: Any, labels: list[str]) -> dict[str, dict[str, list[float]]]:
    values: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k, _l in SKILL_METRICS}
    for t in rows:
        month = timezone.localtime(t.session.scheduled_at).strftime("%Y-%m")
        for key, _label in SKILL_METRICS:
            v = ((t.metrics or {}).get(key) or {}).get("value")
            if v is not None:
                values[key][month].append(float(v))
    return values


def skill_trends(
    therapist: Any, months: int = 6, now: dt.datetime | None = None, clinic_context: bool = False
) -> dict[str, Any]:
    """Monthly means of the three MITI-style summary scores over the therapist's analysed
    transcripts, each against its fair and good lines (and the clinic's mean as context)."""
    try:
        from alliance.transcripts.models import Transcript
    except ImportError:
        return {"available": False}
    now = now or timezone.now()
    labels = []
    y, m = now.year, now.month
    for _ in range(months):
        labels.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    labels.reverse()
    rows = Transcript.objects.filter(uploaded_by=therapist, status="done").select_related("session")
    values = _monthly(rows, labels)
    clinic_values = None
    if clinic_context:
        clinic_rows = Transcript.objects.filter(
            clinic=therapist.membership.clinic, status="done"
        ).select_related("session")
        clinic_values = _monthly(clinic_rows, labels)
    metrics = []
    for key, label in SKILL_METRICS:
        means = [
            round(fmean(values[key][lab]), 2) if values[key].get(lab) else None for lab in labels
        ]
        th = THRESHOLDS[key]
        series = [Series("Mine" if clinic_values else label, means)]
        clinic_means: list[float | None] = []
        if clinic_values is not None:
            clinic_means = [
                round(fmean(clinic_values[key][lab]), 2) if clinic_values[key].get(lab) else None
                for lab in labels
            ]
            series.append(Series("Clinic average", clinic_means, "series-b"))
        top = max([th["good"] * 1.5] + [v for s in series for v in s.values if v is not None])
        chart = LineChart(
            title=f"{label}, monthly mean",
            x_labels=labels,
            series=series,
            y_min=0,
            y_max=round(top, 1),
            ref_lines=[
                RefLine(f"fair {th['fair']:g}", th["fair"], "ref-fair"),
                RefLine(f"good {th['good']:g}", th["good"], "ref-good"),
            ],
        )
        metrics.append(
            {
                "key": key,
                "label": label,
                "source": th["source"],
                "fair": th["fair"],
                "good": th["good"],
                "rows": [
                    {
                        "month": lab,
                        "value": v,
                        "n": len(values[key].get(lab, [])),
                        "clinic": clinic_means[i] if clinic_means else None,
                    }
                    for i, (lab, v) in enumerate(zip(labels, means, strict=True))
                ],
                "chart": chart.render(),
            }
        )
    return {"available": True, "metrics": metrics, "n_transcripts": rows.count()}
