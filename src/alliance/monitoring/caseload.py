"""The therapist's caseload, ordered by what needs attention first, with a status per client.

A fixed number of queries whatever the caseload size: the clients with their latest scores,
last and next session and not-on-track outcome as subqueries; their open alerts; their PHQ-9,
GAD-7 and alliance scores (for the sparklines, the intake and the status); the clinic's measure
settings; the clinic's expected-change reference (cached).

Status, one per client, the first that holds (docs/monitoring.md, "Caseload status"):
1. **safety** — an open safety alert (PHQ-9 item 9 above 0).
2. **off track** — the latest PHQ-9 or GAD-7 of the ongoing episode is reliably worse than its
   first score (Jacobson & Truax 1991), or an unrepaired rupture is open.
3. **not on track** — the outcome rules say so (``OutcomeResult.not_on_track``), or the latest
   PHQ-9 is worse than the expected band (``measures.expected``).
4. **too early** — fewer than two PHQ-9 scores in the ongoing episode.
5. **on track** — none of the above.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.alerts.models import Alert, AlertKind
from alliance.clients.models import ClientRecord, TherapySession
from alliance.lib.charts import polyline
from alliance.measures import expected
from alliance.measures.models import MeasureSettings, OutcomeResult, Response

NO_ALERT = 1000
SPARK_POINTS = 12  # the most recent scores a sparkline shows

STATUSES = (
    ("safety", gettext_lazy("Safety")),
    ("off_track", gettext_lazy("Off track")),
    ("not_on_track", gettext_lazy("Not on track")),
    ("too_early", gettext_lazy("Too early")),
    ("on_track", gettext_lazy("On track")),
)
STATUS_LABELS = dict(STATUSES)
STATUS_ORDER = {key: i for i, (key, _label) in enumerate(STATUSES)}


def fmt_score(x: float | None, decimals: int = 0) -> str:
    """One way to print a score: whole questionnaire totals without decimals (a prorated one
    with one), alliance means always with one decimal."""
    if x is None:
        return "–"
    if decimals:
        return f"{x:.{decimals}f}"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def headline(reason: str, limit: int = 80) -> str:
    """The first clause of an alert's reason, for the list row: the part before the first colon
    or full stop, which names what happened without the numbers behind it. Never cut mid-word."""
    cut = len(reason)
    for mark in (": ", ". "):
        i = reason.find(mark)
        if 0 < i < cut:
            cut = i
    text = reason[:cut].strip().rstrip(".")
    if len(text) <= limit:
        return text
    space = text.rfind(" ", 0, limit)
    return text[: space if space > 0 else limit].rstrip(" ,;(") + "…"


@dataclass
class Sparkline:
    """An inline SVG polyline (viewBox 0 0 100 24) of the latest scores."""

    label: str
    points: str = ""
    last_x: float = 0.0
    last_y: float = 0.0
    values: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls, label: str, values: list[float], lo: float, hi: float, decimals: int = 0
    ) -> Sparkline | None:
        values = values[-SPARK_POINTS:]
        if not values:
            return None
        n = len(values)
        coords = []
        for i, v in enumerate(values):
            x = round(2 + 96 * (i / (n - 1) if n > 1 else 0.5), 1)
            y = round(22 - 20 * (v - lo) / (hi - lo), 1)
            coords.append((x, y))
        return cls(
            label=label,
            points=polyline(coords),
            last_x=coords[-1][0],
            last_y=coords[-1][1],
            values=[fmt_score(v, decimals) for v in values],
        )

    @property
    def description(self) -> str:
        return _("%(label)s, oldest to latest: %(values)s") % {
            "label": self.label,
            "values": ", ".join(self.values),
        }


@dataclass
class ScoreHistory:
    """One instrument's scores for a client: all of them, and those of the ongoing episode."""

    scores: list[tuple[float, str, int]] = field(default_factory=list)  # (total, severity, session)
    episode_scores: list[tuple[float, str, int]] = field(default_factory=list)

    @property
    def latest(self) -> tuple[float, str, int] | None:
        return self.scores[-1] if self.scores else None

    @property
    def intake(self) -> float | None:
        return self.episode_scores[0][0] if self.episode_scores else None


@dataclass
class CaseloadRow:
    client: Any
    alerts: list[Alert] = field(default_factory=list)
    series: dict[str, ScoreHistory] = field(default_factory=lambda: defaultdict(ScoreHistory))
    status: str = "on_track"
    status_reason: str = ""
    band_not_on_track: bool = False
    expected: Any = None  # the PHQ-9 expected band for the intake score (measures.expected)

    @property
    def expected_now(self) -> dict[str, Any] | None:
        """The expected PHQ-9 range at the latest score's session, in display form."""
        scores = self.series["phq9"].episode_scores
        if self.expected is None or not scores:
            return None
        session = scores[-1][2]
        better, mid, worse = self.expected.at(session)
        return {
            "session": session,
            "better": fmt_score(better),
            "mid": fmt_score(mid),
            "worse": fmt_score(worse),
            "label": self.expected.label,
        }

    @property
    def gad7_text(self) -> str:
        latest = self.series["gad7"].latest
        return "" if latest is None else f"{fmt_score(latest[0])} {latest[1]}".strip()

    @property
    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == Alert.Status.OPEN]

    @property
    def snoozed_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == Alert.Status.SNOOZED]

    @property
    def open_items(self) -> list[tuple[Alert, str]]:
        """Open alerts with the headline the row shows; the full reason is one click away."""
        return [(a, headline(a.reason)) for a in self.open_alerts]

    @property
    def top_severity(self) -> int:
        return min((a.severity for a in self.open_alerts), default=NO_ALERT)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def not_on_track(self) -> bool:
        return bool(self.client.not_on_track) or self.band_not_on_track

    @property
    def phq9(self) -> float | None:
        return self.client.phq9_latest

    @property
    def phq9_text(self) -> str:
        latest = self.series["phq9"].latest
        return "" if latest is None else fmt_score(latest[0])

    @property
    def phq9_band(self) -> str:
        latest = self.series["phq9"].latest
        return "" if latest is None else latest[1]

    @property
    def phq9_trend(self) -> str:
        """In words, with an arrow that is not the only cue: lower PHQ-9 is better."""
        latest, previous = self.client.phq9_latest, self.client.phq9_previous
        if latest is None or previous is None:
            return _("first score") if latest is not None else ""
        delta = latest - previous
        if delta < 0:
            return _("↓ %(change)s lower (better) than before") % {"change": fmt_score(-delta)}
        if delta > 0:
            return _("↑ %(change)s higher (worse) than before") % {"change": fmt_score(delta)}
        return _("→ same as before")

    @property
    def phq9_spark(self) -> Sparkline | None:
        return Sparkline.of("PHQ-9", [s[0] for s in self.series["phq9"].scores], 0, 27)

    @property
    def alliance_spark(self) -> Sparkline | None:
        return Sparkline.of(
            _("Client's alliance rating (0–6)"),
            [s[0] for s in self.series["sac_client"].scores],
            0,
            6,
            1,
        )

    @property
    def alliance_client(self) -> str:
        return fmt_score(self.client.sac_client_latest, 1)

    @property
    def alliance_therapist(self) -> str:
        return fmt_score(self.client.sac_therapist_latest, 1)

    @property
    def low_alliance(self) -> bool:
        v = self.client.sac_client_latest
        return v is not None and v < 4

    def sort_key(self) -> tuple[Any, ...]:
        c = self.client
        return (
            self.top_severity,
            0 if self.not_on_track else 1,
            0 if self.low_alliance else 1,
            -len(self.open_alerts),
            c.next_session_at or dt.datetime.max.replace(tzinfo=dt.UTC),
            c.full_name,
        )


def _status(row: CaseloadRow, rc: dict[str, float], band: Any) -> tuple[str, str]:
    """(status, reason in words) by the documented precedence; ``band`` is the expected band
    for the client's PHQ-9 intake, or None."""
    kinds = {a.kind for a in row.open_alerts}
    if AlertKind.SAFETY in kinds:
        return (
            "safety",
            _(
                "A safety alert is open: PHQ-9 item 9 was answered above 0. Contact the client "
                "and record what was done."
            ),
        )
    for iid, name in (("phq9", "PHQ-9"), ("gad7", "GAD-7")):
        s = row.series[iid]
        if len(s.episode_scores) >= 2 and s.intake is not None:
            latest = s.episode_scores[-1][0]
            if latest - s.intake >= rc[iid]:
                return "off_track", (
                    _(
                        "%(instrument)s is reliably worse than at the start of this episode: "
                        "%(latest)s, up %(change)s from %(intake)s (reliable change is %(rc)s)."
                    )
                    % {
                        "instrument": name,
                        "latest": fmt_score(latest),
                        "change": fmt_score(latest - s.intake),
                        "intake": fmt_score(s.intake),
                        "rc": fmt_score(rc[iid]),
                    }
                )
    if AlertKind.UNREPAIRED_RUPTURE in kinds:
        return (
            "off_track",
            _("A rupture in the alliance was not repaired within the clinic's repair window."),
        )
    phq = row.series["phq9"]
    band_reason = ""
    if band is not None and phq.episode_scores:
        score, _sev, session = phq.episode_scores[-1]
        if band.is_worse(session, score):
            better, _mid, worse = band.at(session)
            row.band_not_on_track = True
            band_reason = _(
                "PHQ-9 %(score)s at session %(session)s is worse than the expected range "
                "(%(better)s to %(worse)s) for an intake of %(intake)s. %(band)s."
            ) % {
                "score": fmt_score(score),
                "session": session,
                "better": fmt_score(better),
                "worse": fmt_score(worse),
                "intake": fmt_score(phq.intake),
                "band": band.label,
            }
    if row.client.not_on_track:
        reason = next((a.reason for a in row.alerts if a.kind == AlertKind.NOT_ON_TRACK), "")
        reason = reason or _("The outcome rules say this episode is not on track.")
        return "not_on_track", f"{reason} {band_reason}".strip()
    if band_reason:
        return "not_on_track", band_reason
    if len(phq.episode_scores) < 2:
        n = len(phq.episode_scores)
        return "too_early", (
            _("No PHQ-9 score in this episode yet.")
            if n == 0
            else _("One PHQ-9 score in this episode so far: change needs two.")
        )
    return (
        "on_track",
        _(
            "No safety alert, no reliable worsening, and the outcome rules and the expected "
            "range raise nothing."
        ),
    )


def caseload_rows(user: Any, now: dt.datetime | None = None, only: Any = None) -> list[CaseloadRow]:
    """Rows for every active client ``user`` may see (or only the client with pk ``only``)."""
    now = now or timezone.now()

    def latest(instrument: str, offset: int = 0) -> Subquery:
        return Subquery(
            Response.objects.filter(
                client=OuterRef("pk"), instrument_id=instrument, total__isnull=False
            )
            .order_by("-completed_at")
            .values("total")[offset : offset + 1]
        )

    upcoming = TherapySession.objects.upcoming(now).filter(client=OuterRef("pk"))
    held = TherapySession.objects.filter(
        client=OuterRef("pk"), status=TherapySession.Status.ATTENDED, scheduled_at__lt=now
    ).order_by("-scheduled_at")
    clients = list(
        ClientRecord.objects.visible_to(user)
        .filter(status=ClientRecord.Status.ACTIVE, **({"pk": only} if only is not None else {}))
        .select_related("clinic")
        .annotate(
            phq9_latest=latest("phq9"),
            phq9_previous=latest("phq9", 1),
            sac_client_latest=latest("sac_client"),
            sac_therapist_latest=latest("sac_therapist"),
            next_session_at=Subquery(upcoming.values("scheduled_at")[:1]),
            next_session_number=Subquery(upcoming.values("number")[:1]),
            last_session_at=Subquery(held.values("scheduled_at")[:1]),
            last_session_number=Subquery(held.values("number")[:1]),
            not_on_track=Exists(
                OutcomeResult.objects.filter(
                    client=OuterRef("pk"), not_on_track=True, episode__ended__isnull=True
                )
            ),
        )
    )
    rows = {c.pk: CaseloadRow(c) for c in clients}
    if not rows:
        return []
    for alert in (
        Alert.objects.filter(client_id__in=list(rows))
        .needing_attention()
        .order_by("severity", "created_at")
    ):
        rows[alert.client_id].alerts.append(alert)
    scores = (
        Response.objects.filter(
            client_id__in=list(rows),
            instrument_id__in=("phq9", "gad7", "sac_client"),
            total__isnull=False,
        )
        .order_by("completed_at")
        .values_list(
            "client_id", "instrument_id", "total", "severity", "session_number", "episode__ended"
        )
    )
    for client_id, iid, total, severity, session, ended in scores:
        if total is None:  # filtered out above; keeps the type checker honest
            continue
        s = rows[client_id].series[iid]
        point = (float(total), severity, session or len(s.episode_scores) + 1)
        s.scores.append(point)
        if ended is None and iid != "sac_client":
            s.episode_scores.append(point)
    # Every client on one therapist's caseload is in their clinic.
    clinic = clients[0].clinic
    ms = MeasureSettings.for_clinic(clinic)
    outcome = {iid: ms.outcome_settings(iid).resolved() for iid in ("phq9", "gad7")}
    rc = {iid: float(o.reliable_change or 0) or float("inf") for iid, o in outcome.items()}
    reference = expected.for_clinic(clinic, "phq9")
    for row in rows.values():
        intake = row.series["phq9"].intake
        band = None
        if intake is not None:
            band = expected.band_for(
                reference,
                "phq9",
                intake,
                rc["phq9"],
                outcome["phq9"].response_fraction,
                outcome["phq9"].no_improvement_by_session or 6,
            )
        row.expected = band
        row.status, row.status_reason = _status(row, rc, band)
    return sorted(rows.values(), key=CaseloadRow.sort_key)


def filter_rows(rows: list[CaseloadRow], query: str, status: str) -> list[CaseloadRow]:
    """Search by name (any part, any case) and keep one status; both optional."""
    words = query.casefold().split()
    out = [r for r in rows if all(w in r.client.full_name.casefold() for w in words)]
    if status in STATUS_LABELS:
        out = [r for r in out if r.status == status]
    return out
