"""The supervisor's view of each supervisee: counts everywhere, detail only where shared and
consented, and skill-metric trends against the MITI fair/good lines."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from statistics import fmean
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.alerts.models import OPEN_STATUSES, Alert, AlertKind
from alliance.clients.models import CareTeamMember, ClientRecord, Consent
from alliance.lib.charts import LineChart, RefLine, Series
from alliance.monitoring.models import MonitoringSettings
from alliance.nlp.metrics import THRESHOLDS
from alliance.supervision.content import SKILL_METRICS
from alliance.supervision.models import SharedItem
from alliance.transcripts.models import Transcript


def consented_client_ids(clinic: Any, client_ids: Any) -> set[Any]:
    """The clients, among ``client_ids``, whose current supervision consent is granted: one
    query (``ClientRecord.has_consent("supervision")`` for many clients)."""
    latest: dict[Any, bool] = {}
    for client_id, granted, withdrawn_at in (
        Consent.objects.filter(clinic=clinic, client_id__in=client_ids, kind="supervision")
        .order_by("client_id", "-recorded_at")
        .values_list("client_id", "granted", "withdrawn_at")
    ):
        latest.setdefault(client_id, granted and withdrawn_at is None)
    return {client_id for client_id, active in latest.items() if active}


def alert_counts_for(
    clinic: Any, therapists: list[Any], now: dt.datetime | None = None
) -> dict[Any, dict[str, Any]]:
    """For each supervisee (by id): open safety alerts older than the clinic's escalation time,
    unrepaired ruptures and not-on-track clients among their active clients (ids kept for the
    consented detail). Three queries for any number of supervisees and clients."""
    now = now or timezone.now()
    hours = MonitoringSettings.for_clinic(clinic).escalation_hours
    clients_of: dict[Any, set[Any]] = {t.pk: set() for t in therapists}
    for therapist_id, client_id in CareTeamMember.objects.filter(
        clinic=clinic, therapist__in=therapists, client__status=ClientRecord.Status.ACTIVE
    ).values_list("therapist_id", "client_id"):
        clients_of[therapist_id].add(client_id)
    overdue_before = now - dt.timedelta(hours=hours)
    safety: set[Any] = set()
    unrepaired: dict[Any, int] = defaultdict(int)
    not_on_track: set[Any] = set()
    for client_id, kind, created_at in Alert.objects.filter(
        clinic=clinic,
        client__in=ClientRecord.objects.filter(
            clinic=clinic,
            status=ClientRecord.Status.ACTIVE,
            care_team__therapist__in=therapists,
        ),
        status__in=OPEN_STATUSES,
        kind__in=(AlertKind.SAFETY, AlertKind.UNREPAIRED_RUPTURE, AlertKind.NOT_ON_TRACK),
    ).values_list("client_id", "kind", "created_at"):
        if kind == AlertKind.SAFETY and created_at < overdue_before:
            safety.add(client_id)
        elif kind == AlertKind.UNREPAIRED_RUPTURE:
            unrepaired[client_id] += 1
        elif kind == AlertKind.NOT_ON_TRACK:
            not_on_track.add(client_id)
    out = {}
    for t in therapists:
        mine = clients_of[t.pk]
        out[t.pk] = {
            "available": True,
            "escalation_hours": hours,
            "safety_overdue": len(mine & safety),
            "unrepaired_ruptures": sum(unrepaired[c] for c in mine if c in unrepaired),
            "not_on_track": len(mine & not_on_track),
            "flagged_client_ids": mine & (safety | set(unrepaired) | not_on_track),
            "active_clients": len(mine),
        }
    return out


def consented_details(
    supervisor: Any, flagged: dict[Any, set[Any]]
) -> dict[Any, list[dict[str, Any]]]:
    """For each supervisee (by id): their flagged clients about whom they shared something and
    consent is on file now. Two queries for any number of supervisees."""
    wanted = set().union(*flagged.values()) if flagged else set()
    out: dict[Any, list[dict[str, Any]]] = {therapist_id: [] for therapist_id in flagged}
    if not wanted:
        return out
    items = list(
        SharedItem.objects.visible_to(supervisor)
        .filter(therapist_id__in=list(flagged), client_id__in=wanted, unshared_at__isnull=True)
        .select_related("client")
    )
    consented = consented_client_ids(
        supervisor.membership.clinic, {item.client_id for item in items}
    )
    grouped: dict[Any, dict[Any, list[SharedItem]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        if item.client_id in flagged[item.therapist_id] and item.client_id in consented:
            grouped[item.therapist_id][item.client].append(item)
    for therapist_id, by_client in grouped.items():
        out[therapist_id] = [
            {"client": client, "items": shared}
            for client, shared in sorted(by_client.items(), key=lambda kv: kv[0].full_name)
        ]
    return out


def _monthly(rows: Any, labels: list[str]) -> dict[str, dict[str, list[float]]]:
    values: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k, _l in SKILL_METRICS}
    for _uploader, scheduled_at, metrics in rows:
        month = timezone.localtime(scheduled_at).strftime("%Y-%m")
        for key, _label in SKILL_METRICS:
            v = ((metrics or {}).get(key) or {}).get("value")
            if v is not None:
                values[key][month].append(float(v))
    return values


def _month_labels(now: dt.datetime, months: int) -> list[str]:
    labels = []
    y, m = now.year, now.month
    for _i in range(months):
        labels.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    labels.reverse()
    return labels


def skill_trends(
    therapist: Any, months: int = 6, now: dt.datetime | None = None, clinic_context: bool = False
) -> dict[str, Any]:
    """Monthly means of the three MITI-style summary scores over the therapist's analysed
    transcripts, each against its fair and good lines (and the clinic's mean as context)."""
    clinic = therapist.membership.clinic
    rows = list(_done_transcripts(Transcript.objects.filter(clinic=clinic, uploaded_by=therapist)))
    clinic_rows = (
        list(_done_transcripts(Transcript.objects.filter(clinic=clinic)))
        if clinic_context
        else None
    )
    return _trends(rows, clinic_rows, _month_labels(now or timezone.now(), months))


def skill_trends_for(
    clinic: Any, therapists: list[Any], months: int = 6, now: dt.datetime | None = None
) -> dict[Any, dict[str, Any]]:
    """``skill_trends`` for several supervisees from one query: therapist id -> trends."""
    by_therapist: dict[Any, list[Any]] = {t.pk: [] for t in therapists}
    for row in _done_transcripts(
        Transcript.objects.filter(clinic=clinic, uploaded_by__in=therapists)
    ):
        by_therapist[row[0]].append(row)
    labels = _month_labels(now or timezone.now(), months)
    return {t.pk: _trends(by_therapist[t.pk], None, labels) for t in therapists}


def _done_transcripts(transcripts: Any) -> Any:
    """(uploader, session time, metrics) of analysed transcripts: numbers only, nothing
    encrypted is read."""
    return transcripts.filter(status="done").values_list(
        "uploaded_by_id", "session__scheduled_at", "metrics"
    )


def _trends(rows: list[Any], clinic_rows: list[Any] | None, labels: list[str]) -> dict[str, Any]:
    values = _monthly(rows, labels)
    clinic_values = _monthly(clinic_rows, labels) if clinic_rows is not None else None
    metrics = []
    for key, label in SKILL_METRICS:
        means = [
            round(fmean(values[key][lab]), 2) if values[key].get(lab) else None for lab in labels
        ]
        th = THRESHOLDS[key]
        series = [Series(_("Mine") if clinic_values else str(label), means)]
        clinic_means: list[float | None] = []
        if clinic_values is not None:
            clinic_means = [
                round(fmean(clinic_values[key][lab]), 2) if clinic_values[key].get(lab) else None
                for lab in labels
            ]
            series.append(Series(_("Clinic average"), clinic_means, "series-b"))
        top = max([th["good"] * 1.5] + [v for s in series for v in s.values if v is not None])
        chart = LineChart(
            title=_("%(metric)s, monthly mean") % {"metric": label},
            x_labels=labels,
            series=series,
            y_min=0,
            y_max=round(top, 1),
            ref_lines=[
                RefLine(_("fair %(value)s") % {"value": f"{th['fair']:g}"}, th["fair"], "ref-fair"),
                RefLine(_("good %(value)s") % {"value": f"{th['good']:g}"}, th["good"], "ref-good"),
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
    return {"available": True, "metrics": metrics, "n_transcripts": len(rows)}
