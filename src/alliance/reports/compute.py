"""Clinic outcome figures, computed from the stored responses, alerts and check-ins.

Everything is aggregate: every figure carries the number of distinct clients it describes and
is suppressed below ``stats.MIN_CELL``. Rules and their sources:
- PHQ-9 reliable improvement / deterioration, response, remission, recovery: classified per
  episode of care by ``alliance.measures.outcomes.classify`` with the clinic's settings
  (Jacobson & Truax 1991; Kroenke et al. 2001). An episode counts in the period of its latest
  PHQ-9 score, once it has two scores. Remission is over episodes that started at or above the
  remission threshold, recovery over those that started at or above the clinical cut-off.
- Average alliance: mean Session Alliance Check (0–6; not a validated instrument) per period.
- Rupture-repair rate: repaired / (repaired + unrepaired) rupture episodes, by the period of the
  rupture's first session (design-choice rule, docs/clinical-reference.md).
- Check-in completion: completed / (completed + missed) check-ins due in the period.
- Alerts per rule: alerts opened in the period; "acted on" is the share acknowledged with what was
  done recorded; "useful" is the share clinicians marked useful among those they rated.
- Alliance–outcome correlation: per episode, mean alliance vs PHQ-9 improvement (first − latest);
  Pearson r with a Fisher-z 95% CI. Published meta-analytic r = .278 (Flückiger et al. 2018).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.alerts.models import Alert, AlertKind
from alliance.checkins.models import CheckIn
from alliance.clients.models import CareTeamMember, ClientRecord
from alliance.measures.models import MeasureSettings, Response
from alliance.measures.outcomes import classify
from alliance.reports.stats import Cell, Correlation, correlation, count_cell, mean_cell, rate
from alliance.supervision import alliance as alliance_data

OUTCOME_ROWS = [
    ("reliable_improvement", gettext_lazy("Reliable improvement")),
    ("recovery", gettext_lazy("Recovery (reliable and clinically significant)")),
    ("reliable_deterioration", gettext_lazy("Reliable deterioration")),
    # xgettext:no-python-format
    ("response", gettext_lazy("Response (≥ 50% reduction)")),
    ("remission", gettext_lazy("Remission")),
]
PUBLISHED_R = 0.278  # Flückiger et al. 2018, 295 studies


def period_of(day: dt.date, granularity: str = "quarter") -> str:
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def recent_periods(today: dt.date, n: int, granularity: str = "quarter") -> list[str]:
    out = []
    y, m = today.year, today.month
    step = 1 if granularity == "month" else 3
    if granularity == "quarter":
        m = ((m - 1) // 3) * 3 + 1
    for _i in range(n):
        out.append(period_of(dt.date(y, m, 1), granularity))
        m -= step
        if m <= 0:
            y, m = y - 1, m + 12
    return list(reversed(out))


@dataclass
class Report:
    periods: list[str]
    outcomes: dict[str, dict[str, Cell]] = field(default_factory=dict)  # row -> period -> cell
    episodes: dict[str, Cell] = field(default_factory=dict)
    alliance: dict[str, Cell] = field(default_factory=dict)
    repair: dict[str, Cell] = field(default_factory=dict)
    check_ins: dict[str, Cell] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    correlation: Correlation | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _local(value: dt.datetime) -> dt.date:
    return timezone.localdate(value)


@dataclass
class ClinicData:
    """What a clinic's reports read, fetched by clinic with one query per table, so a report
    costs the same number of queries for 5 clients or 500. One ``ClinicData`` can serve several
    reports of the same clinic (the clinic's, each therapist's): they pick their clients from it.

    Rows are tuples, not model instances: nothing encrypted is read or decrypted.
    """

    clinic: Any
    client_ids: list[Any]  # every client of the clinic, in the clinic's client order
    phq9: list[
        tuple[Any, Any, int | None, dt.datetime, float | None]
    ]  # client, episode, session, at, total
    alliance: dict[Any, list[alliance_data.AlliancePoint]]  # client -> series
    alliance_rows: dict[Any, list[tuple[dt.datetime, float]]]  # client -> (at, total), time order
    check_ins: list[tuple[dt.datetime, str, Any]] | None  # due at, status, client
    alerts: list[tuple[str, dt.datetime | None, bool | None, Any, dt.datetime]] | None
    outcome_settings: Any = None
    rupture_settings: Any = None
    alerts_since: dt.date | None = None

    @classmethod
    def load(cls, clinic: Any, alerts_since: dt.date | None = None) -> ClinicData:
        """``alerts_since``: the first day of the earliest period a report will show."""
        client_ids = list(ClientRecord.objects.filter(clinic=clinic).values_list("pk", flat=True))
        data = cls(
            clinic=clinic,
            client_ids=client_ids,
            phq9=[],
            alliance={},
            alliance_rows={},
            check_ins=None,
            alerts=None,
            alerts_since=alerts_since,
        )
        data.outcome_settings = MeasureSettings.for_clinic(clinic).outcome_settings("phq9")
        data.rupture_settings = alliance_data.rupture_settings(clinic)
        data.phq9 = list(
            Response.objects.filter(
                clinic=clinic, instrument_id="phq9", total__isnull=False, episode__isnull=False
            )
            .order_by("completed_at")
            .values_list("client_id", "episode_id", "session_number", "completed_at", "total")
        )
        rows: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
        for client_id, *row in (
            Response.objects.filter(
                clinic=clinic,
                instrument_id=alliance_data.ALLIANCE_INSTRUMENT,
                total__isnull=False,
            )
            .order_by("completed_at")
            .values_list("client_id", *alliance_data.SERIES_FIELDS)
        ):
            rows[client_id].append(tuple(row))
        data.alliance = {c: alliance_data.series_from_rows(r) for c, r in rows.items()}
        # (session, total, at, answers) -> (at, total): every rating, repeats included.
        data.alliance_rows = {c: [(r[2], r[1]) for r in rs] for c, rs in rows.items()}
        data.check_ins = list(
            CheckIn.objects.filter(
                clinic=clinic,
                status__in=[CheckIn.Status.COMPLETED, CheckIn.Status.MISSED],
            ).values_list("due_at", "status", "client_id")
        )
        alerts = Alert.objects.filter(clinic=clinic)
        if alerts_since is not None:
            alerts = alerts.filter(created_at__date__gte=alerts_since)
        data.alerts = list(
            alerts.values_list("kind", "acknowledged_at", "useful", "client_id", "created_at")
        )
        return data


def _phq9_episodes(data: ClinicData, wanted: set[Any]) -> list[dict[str, Any]]:
    by_episode: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for client_id, episode_id, session_number, completed_at, total in data.phq9:
        if client_id in wanted:
            by_episode[(client_id, episode_id)].append((session_number, completed_at, total))
    out = []
    for (client_id, episode_id), responses in by_episode.items():
        if len(responses) < 2:
            continue
        points = [
            (number or n, _local(completed_at), total)
            for n, (number, completed_at, total) in enumerate(responses, start=1)
        ]
        c = classify(points, data.outcome_settings)
        out.append(
            {
                "client": client_id,
                "episode": episode_id,
                "start": responses[0][1],
                "end": responses[-1][1],
                "first": c.first.score if c.first else None,
                "latest": c.latest.score if c.latest else None,
                "c": c,
            }
        )
    return out


def _episode_alliance(
    data: ClinicData, client_id: Any, start: dt.datetime, end: dt.datetime
) -> list[float]:
    first, last = _local(start), _local(end)
    return [
        float(total)
        for at, total in data.alliance_rows.get(client_id, ())
        if first <= _local(at) <= last
    ]


def build_report(
    clinic: Any,
    *,
    clients: QuerySet[ClientRecord] | None = None,
    client_ids: list[Any] | None = None,
    granularity: str = "quarter",
    n_periods: int = 4,
    today: dt.date | None = None,
    data: ClinicData | None = None,
) -> Report:
    """The report for ``clients`` or ``client_ids`` (default: every client of the clinic).

    ``data`` (``ClinicData.load``) lets several reports of one clinic share one read; it must
    cover alerts since the start of this report's first period.
    """
    today = today or timezone.localdate()
    periods = recent_periods(today, n_periods, granularity)
    start = min(period_start(p, granularity) for p in periods)
    if data is None:
        data = ClinicData.load(clinic, alerts_since=start)
    if client_ids is None:
        if clients is None:
            client_ids = data.client_ids
        else:
            client_ids = list(clients.filter(clinic=clinic).values_list("pk", flat=True))
    wanted = set(client_ids)
    report = Report(periods=periods)
    in_range = set(periods)

    def bucket(value: dt.datetime) -> str | None:
        p = period_of(_local(value), granularity)
        return p if p in in_range else None

    # --- PHQ-9 outcomes ------------------------------------------------------------------
    episodes = _phq9_episodes(data, wanted)
    if episodes:
        report.settings = dict(episodes[0]["c"].settings)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ep in episodes:
        p = bucket(ep["end"])
        if p:
            grouped[p].append(ep)
    remission_at = report.settings.get("remission_below") or 5
    recovery_at = report.settings.get("recovery_cutoff") or 10
    for key, _label in OUTCOME_ROWS:
        report.outcomes[key] = {}
    for p in periods:
        eps = grouped.get(p, [])
        n_clients = len({e["client"] for e in eps})
        report.episodes[p] = count_cell(len(eps), n_clients)
        for key, _label in OUTCOME_ROWS:
            pool = eps
            if key == "remission":
                pool = [e for e in eps if e["first"] is not None and e["first"] >= remission_at]
            elif key == "recovery":
                pool = [e for e in eps if e["first"] is not None and e["first"] >= recovery_at]
            hits = sum(1 for e in pool if getattr(e["c"], key))
            report.outcomes[key][p] = rate(hits, len(pool), len({e["client"] for e in pool}))

    # --- Alliance and rupture repair ------------------------------------------------------
    alliance_values: dict[str, list[float]] = defaultdict(list)
    alliance_clients: dict[str, set[Any]] = defaultdict(set)
    repair_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    repair_clients: dict[str, set[Any]] = defaultdict(set)
    for client_id in client_ids:
        points = data.alliance.get(client_id, [])
        by_session = {}
        for pt in points:
            by_session[pt.session] = pt
            p = bucket(pt.date)
            if p:
                alliance_values[p].append(pt.score)
                alliance_clients[p].add(client_id)
        for episode in alliance_data.ruptures(points, settings=data.rupture_settings):
            if episode["status"] not in ("repaired", "unrepaired"):
                continue
            first_point = by_session.get(episode["start_session"])
            p = bucket(first_point.date) if first_point else None
            if p:
                repair_counts[p][0 if episode["status"] == "repaired" else 1] += 1
                repair_clients[p].add(client_id)
    for p in periods:
        report.alliance[p] = mean_cell(alliance_values.get(p, []), len(alliance_clients.get(p, ())))
        repaired, unrepaired = repair_counts.get(p, [0, 0])
        report.repair[p] = rate(repaired, repaired + unrepaired, len(repair_clients.get(p, ())))

    # --- Check-ins ------------------------------------------------------------------------
    if data.check_ins is None:
        report.notes.append(_("Check-ins are not installed: completion is missing."))
    else:
        done: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        who: dict[str, set[Any]] = defaultdict(set)
        for due_at, status, client_id in data.check_ins:
            if client_id not in wanted:
                continue
            p = bucket(due_at)
            if p:
                done[p][0 if status == "completed" else 1] += 1
                who[p].add(client_id)
        for p in periods:
            c, m = done.get(p, [0, 0])
            report.check_ins[p] = rate(c, c + m, len(who.get(p, ())))

    # --- Alerts per rule -------------------------------------------------------------------
    if data.alerts is None:
        report.notes.append(_("Monitoring is not installed: alert counts are missing."))
    else:
        if data.alerts_since is not None and data.alerts_since > start:
            raise ValueError("The clinic data was read for a later start than this report's.")
        rows: dict[str, dict[str, Any]] = {}
        for kind, acknowledged_at, useful, client_id, created in data.alerts:
            if client_id not in wanted or not bucket(created):
                continue
            row = rows.setdefault(
                kind, {"n": 0, "acted": 0, "rated": 0, "useful": 0, "clients": set()}
            )
            row["n"] += 1
            row["acted"] += 1 if acknowledged_at is not None else 0
            if useful is not None:
                row["rated"] += 1
                row["useful"] += 1 if useful else 0
            row["clients"].add(client_id)
        for kind, label in AlertKind.choices:
            row = rows.get(kind, {"n": 0, "acted": 0, "rated": 0, "useful": 0, "clients": set()})
            report.alerts.append(
                {
                    "kind": kind,
                    "label": label,
                    "count": count_cell(row["n"], len(row["clients"])),
                    "acted_on": rate(row["acted"], row["n"], len(row["clients"])),
                    "useful": rate(row["useful"], row["rated"], len(row["clients"])),
                }
            )

    # --- Alliance–outcome correlation (all episodes in the report's range) ----------------
    xs, ys = [], []
    for ep in episodes:
        if not bucket(ep["end"]) or ep["first"] is None or ep["latest"] is None:
            continue
        values = _episode_alliance(data, ep["client"], ep["start"], ep["end"])
        if values:
            xs.append(sum(values) / len(values))
            ys.append(ep["first"] - ep["latest"])
    report.correlation = correlation(xs, ys)
    return report


def period_start(label: str, granularity: str) -> dt.date:
    if granularity == "month":
        y, m = label.split("-")
        return dt.date(int(y), int(m), 1)
    y, q = label.split("-Q")
    return dt.date(int(y), (int(q) - 1) * 3 + 1, 1)


def clients_of(therapist: Any) -> QuerySet[ClientRecord]:
    """Per-therapist figures describe the clients for whom they are the primary therapist."""
    return ClientRecord.objects.filter(
        care_team__therapist=therapist, care_team__is_primary=True
    ).distinct()


def primary_clients(clinic: Any, therapists: list[Any]) -> dict[Any, list[Any]]:
    """``clients_of`` for several therapists of one clinic in one query: therapist id -> ids."""

    out: dict[Any, list[Any]] = {t.pk: [] for t in therapists}
    for therapist_id, client_id in (
        CareTeamMember.objects.filter(clinic=clinic, therapist__in=therapists, is_primary=True)
        .order_by()
        .values_list("therapist_id", "client_id")
        .distinct()
    ):
        out[therapist_id].append(client_id)
    return out


def csv_rows(report: Report, scope: str) -> list[list[str]]:
    rows = [
        ["scope", "measure", "period", "value", "numerator", "denominator", "clients", "suppressed"]
    ]

    def add(measure: str, period: str, cell: Cell) -> None:
        if cell.suppressed:
            rows.append([scope, measure, period, "", "", "", f"<{5}", "yes"])
            return
        value = "" if cell.value is None else f"{cell.value:.2f}"
        num = "" if cell.numerator is None else f"{cell.numerator:g}"
        den = "" if cell.denominator is None else str(cell.denominator)
        rows.append([scope, measure, period, value, num, den, str(cell.clients), "no"])

    for p in report.periods:
        if p in report.episodes:
            add("phq9_episodes_classified", p, report.episodes[p])
        for key, _label in OUTCOME_ROWS:
            if p in report.outcomes.get(key, {}):
                add(f"phq9_{key}_percent", p, report.outcomes[key][p])
        if p in report.alliance:
            add("alliance_mean_0_6", p, report.alliance[p])
        if p in report.repair:
            add("rupture_repair_percent", p, report.repair[p])
        if p in report.check_ins:
            add("check_in_completion_percent", p, report.check_ins[p])
    period_range = f"{report.periods[0]}..{report.periods[-1]}" if report.periods else ""
    for a in report.alerts:
        add(f"alerts_{a['kind']}_count", period_range, a["count"])
        add(f"alerts_{a['kind']}_acted_on_percent", period_range, a["acted_on"])
        add(f"alerts_{a['kind']}_useful_percent", period_range, a["useful"])
    c = report.correlation
    if c is not None:
        if c.suppressed:
            rows.append([scope, "alliance_outcome_r", period_range, "", "", "", "<5", "yes"])
        else:
            for name, v in (
                ("alliance_outcome_r", c.r),
                ("alliance_outcome_r_ci95_low", c.low),
                ("alliance_outcome_r_ci95_high", c.high),
            ):
                rows.append(
                    [
                        scope,
                        name,
                        period_range,
                        "" if v is None else f"{v:.3f}",
                        "",
                        "",
                        str(c.n),
                        "no",
                    ]
                )
    return rows
