"""Turning stored ratings, sessions, concerns and check-ins into findings and alerts.

- Ruptures: the client's Session Alliance Check series (plus concerns raised between sessions)
  goes through the pure detector ``alliance.monitoring.ruptures.detect_ruptures`` with the
  clinic's ``MonitoringSettings``; each episode is stored as a ``RuptureEpisode`` with its
  evidence and settings, and kept in step with its ``rupture`` / ``unrepaired_rupture`` alert.
- Disagreement: the therapist rated a session clearly higher than the client did (therapists
  tend to overrate the alliance); the gap is a clinic setting stored with the finding.
- Disengagement: missed or cancelled sessions, long gaps, falling check-in completion and a
  low alliance in the first sessions, each with its reason in words (design choices).

``monitoring.receivers`` calls ``on_alliance_rating`` after every Session Alliance Check
(``measures.signals.response_recorded``), ``on_concern`` when a concern is raised
(``checkins.signals.concern_raised``) and ``on_task_not_working`` (``goals.signals``);
``check_disengagement`` runs from the worker (``alliance check_monitoring``) and after each rating.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.alerts.models import OPEN_STATUSES, SEVERITY, Alert, AlertKind
from alliance.checkins.models import CheckIn, Concern
from alliance.clients.models import ClientRecord, TherapySession
from alliance.goals.models import NOT_WORKING_RUPTURE_SIGNAL, TaskUpdate
from alliance.lib.text import fmt_number
from alliance.measures.models import Response
from alliance.monitoring import notices, ruptures, tasks
from alliance.monitoring.models import MonitoringSettings, RuptureEpisode
from alliance.transcripts.models import Transcript

logger = logging.getLogger(__name__)

CLIENT_SAC = "sac_client"
THERAPIST_SAC = "sac_therapist"
ALLIANCE_INSTRUMENTS = (CLIENT_SAC, THERAPIST_SAC)
NOT_HELD = (TherapySession.Status.MISSED, TherapySession.Status.CANCELLED)


# --- Session numbers --------------------------------------------------------------------------


def held_sessions(client: ClientRecord) -> list[TherapySession]:
    return list(
        TherapySession.objects.filter(client=client)
        .exclude(status__in=NOT_HELD)
        .order_by("scheduled_at")
    )


def session_for(when: dt.datetime, sessions: list[TherapySession]) -> int | None:
    """The number of the latest held (or scheduled) session that started by ``when``."""
    number = None
    for s in sessions:
        if s.scheduled_at <= when:
            number = s.number
    return number


@dataclass
class SessionAlliance:
    """Everything known about the alliance in one session (triangulation)."""

    session: int
    date: Any = None
    status: str = ""  # the TherapySession's status, "" when there is no session row
    client: float | None = None
    therapist: float | None = None
    felt_off: bool = False
    therapist_felt_off: bool = False
    concern: bool = False
    concern_topics: list[str] = field(default_factory=list)
    task_not_working: bool = False  # a repeated "this task isn't working for me" before it
    transcript_markers: int | None = None  # None: no analysed transcript
    transcript_types: list[str] = field(default_factory=list)
    phq9: float | None = None

    @property
    def gap(self) -> float | None:
        if self.client is None or self.therapist is None:
            return None
        return round(self.therapist - self.client, 2)


def _numbered(responses: Iterable[Any], sessions: list[TherapySession]) -> list[tuple[int, Any]]:
    """(session number, response), one per session (the first), in session order.

    A response without a stored number takes the session it was given in, or the next number.
    """
    out: dict[int, Any] = {}
    last = 0
    for r in responses:
        number = r.session_number or session_for(r.completed_at, sessions) or last + 1
        last = max(last, number)
        out.setdefault(number, r)
    return sorted(out.items())


def alliance_by_session(
    client: ClientRecord, *, with_phq9: bool = False
) -> dict[int, SessionAlliance]:
    """Client and therapist ratings, concerns, transcript markers (and PHQ-9) per session."""
    all_sessions = list(TherapySession.objects.filter(client=client).order_by("number"))
    sessions = [s for s in all_sessions if s.status not in NOT_HELD]
    rows: dict[int, SessionAlliance] = {}

    def row(n: int) -> SessionAlliance:
        if n not in rows:
            rows[n] = SessionAlliance(session=n)
        return rows[n]

    for s in all_sessions:
        r = row(s.number)
        r.date, r.status = s.scheduled_at, s.status
    instruments = [*ALLIANCE_INSTRUMENTS, *(["phq9"] if with_phq9 else [])]
    responses = list(
        Response.objects.filter(
            client=client, instrument_id__in=instruments, total__isnull=False
        ).order_by("completed_at")
    )
    for instrument in instruments:
        for n, resp in _numbered((x for x in responses if x.instrument_id == instrument), sessions):
            r = row(n)
            r.date = r.date or resp.completed_at
            felt_off = bool((resp.answers or {}).get("felt_off")) or bool(
                (resp.result or {}).get("rupture_reported")
            )
            if instrument == CLIENT_SAC:
                r.client, r.felt_off = resp.total, felt_off
            elif instrument == THERAPIST_SAC:
                r.therapist, r.therapist_felt_off = resp.total, felt_off
            else:
                r.phq9 = resp.total
    for concern_session, topic in _concerns(client, rows):
        r = row(concern_session)
        r.concern = True
        r.concern_topics.append(topic)
    for task_session in _task_signals(client, rows):
        row(task_session).task_not_working = True
    for n, types in _transcript_markers(client).items():
        r = row(n)
        r.transcript_markers = len(types)
        r.transcript_types = types
    return dict(sorted(rows.items()))


def _between_sessions(rows: dict[int, SessionAlliance]) -> Callable[[dt.datetime], int]:
    """Numbers a signal raised between sessions: the session after the last one held (or
    rated) before it."""
    anchors = sorted(
        (r.date, n) for n, r in rows.items() if r.date is not None and r.status not in NOT_HELD
    )

    def number(when: dt.datetime) -> int:
        return max((n for at, n in anchors if at <= when), default=0) + 1

    return number


def _concerns(client: ClientRecord, rows: dict[int, SessionAlliance]) -> list[tuple[int, str]]:
    """Each concern belongs to the session after the last one held (or rated) before it."""
    number = _between_sessions(rows)
    return [
        (number(c.raised_at), c.get_topic_display())
        for c in Concern.objects.filter(client=client).order_by("raised_at")
    ]


def _task_signals(client: ClientRecord, rows: dict[int, SessionAlliance]) -> set[int]:
    """Sessions before which the client said, for the second time or more about one task, that
    it isn't working for them (a repeated "this isn't working" is a rupture signal).
    Numbered like concerns; the client's words are not read."""
    number = _between_sessions(rows)
    seen: dict[Any, int] = {}
    out: set[int] = set()
    updates = TaskUpdate.objects.filter(task__client=client, not_working=True).order_by(
        "created_at"
    )
    for task_id, when in updates.values_list("task_id", "created_at"):
        seen[task_id] = seen.get(task_id, 0) + 1
        if seen[task_id] >= NOT_WORKING_RUPTURE_SIGNAL:
            out.add(number(when))
    return out


def _transcript_markers(client: ClientRecord) -> dict[int, list[str]]:
    """Rupture moments the (experimental) transcript analysis found, per session number."""
    out: dict[int, list[str]] = {}
    for t in Transcript.objects.filter(client=client, status="done").select_related("session"):
        moments = (t.metrics or {}).get("rupture_moments")
        if moments is None:
            continue
        out[t.session.number] = [str(m.get("type", "")).replace("rupture_", "") for m in moments]
    return out


# --- Ruptures ---------------------------------------------------------------------------------


def rupture_series(by_session: dict[int, SessionAlliance]) -> list[ruptures.SessionRating]:
    return [
        ruptures.SessionRating(n, r.client, r.felt_off, r.concern, r.task_not_working)
        for n, r in by_session.items()
        if r.client is not None or r.felt_off or r.concern or r.task_not_working
    ]


def detect_for(client: ClientRecord) -> tuple[ruptures.RuptureReport, dict[int, SessionAlliance]]:
    settings = MonitoringSettings.for_clinic(client.clinic).rupture_settings()
    by_session = alliance_by_session(client)
    return ruptures.detect_ruptures(rupture_series(by_session), settings), by_session


def _alert_evidence(episode: RuptureEpisode) -> dict[str, Any]:
    ev = episode.evidence or {}
    return {
        "episode": str(episode.pk),
        "start_session": episode.start_session,
        "rules": list(episode.rules),
        "scores": ev.get("scores", []),
        "threshold": ev.get("threshold"),
        "baseline_mean": ev.get("baseline_mean"),
        "explanation": ev.get("explanation", ""),
        "settings": episode.rule_settings,
    }


def _rupture_reason(episode: RuptureEpisode) -> str:
    why = episode.explanation.split(": ", 1)[-1] or "a rupture signal"
    return (
        f"Possible rupture at session {episode.start_session}: {why}. "
        "Open the alliance timeline and record how you address it."
    )[:300]


def _unrepaired_reason(episode: RuptureEpisode, window: int, to_supervisor: bool) -> str:
    base = f"The rupture from session {episode.start_session} is not repaired: the client's rating has not returned to the earlier level within {window} sessions."
    if to_supervisor:
        return (
            base
            + " Shared with the clinic's supervisors (the client consented to supervision sharing)."
        )[:300]
    return (
        base
        + " Raise it with the client directly next session: name the dip, ask what felt off and "
        "acknowledge your part. (No supervision consent, so it stays with you.)"
    )[:300]


def sync_ruptures(client: ClientRecord) -> list[RuptureEpisode]:
    """Run detection over the client's whole series and bring episodes and alerts in line."""
    settings_row = MonitoringSettings.for_clinic(client.clinic)
    report, _rows = detect_for(client)
    now = timezone.now()
    existing = {
        e.start_session: e
        for e in RuptureEpisode.objects.filter(client=client, instrument_id=CLIENT_SAC)
    }
    kept: list[RuptureEpisode] = []
    for found in report.episodes:
        episode = existing.pop(found.start_session, None)
        previous = None if episode is None else episode.status
        if episode is None:
            episode = RuptureEpisode(
                clinic=client.clinic,
                client=client,
                instrument_id=CLIENT_SAC,
                start_session=found.start_session,
                opened_at=now,
            )
        episode.lowest_session = found.lowest_session
        episode.end_session = found.end_session
        episode.recovered_session = found.recovered_session
        episode.status = found.status
        episode.rules = list(found.rules)
        episode.evidence = found.evidence
        episode.rule_settings = dict(report.settings)
        if found.status != RuptureEpisode.Status.OPEN and episode.closed_at is None:
            episode.closed_at = now
        if found.status == RuptureEpisode.Status.OPEN:
            episode.closed_at = None
        episode.save()
        _sync_alerts(client, episode, previous, settings_row.repair_window)
        kept.append(episode)
    for orphan in existing.values():
        # The history changed (a rating entered late): an episode nobody has acted on goes.
        if orphan.acknowledged_at is None:
            for alert in (orphan.alert, orphan.unrepaired_alert):
                if (
                    alert is not None
                    and alert.needs_attention
                    and not alert.rupture_episodes.exclude(pk=orphan.pk).exists()
                ):
                    alert.close("The ratings no longer show this rupture (history updated).")
            orphan.delete()
    return kept


def _sync_alerts(
    client: ClientRecord, episode: RuptureEpisode, previous: str | None, window: int
) -> None:
    status = episode.status
    fields: list[str] = []
    if status == RuptureEpisode.Status.OPEN:
        alert = episode.alert
        changed = previous is None or (alert is not None and set(episode.rules) - set(alert.rules))
        # A new alert when there is none open; an open one is raised again only when new rules
        # joined and nobody is acting on it yet.
        if (
            alert is None
            or alert.status == Alert.Status.CLOSED
            or (changed and alert.needs_attention)
        ):
            alert, _ = Alert.raise_for(
                client,
                AlertKind.RUPTURE,
                _rupture_reason(episode),
                _alert_evidence(episode),
                rules=list(episode.rules),
            )
            episode.alert = alert
            fields.append("alert")
    elif status == RuptureEpisode.Status.REPAIRED and previous != status:
        if episode.alert is not None and episode.alert.status != Alert.Status.CLOSED:
            episode.alert.close(
                f"Repaired: the client's rating was back at the earlier level at session {episode.end_session}."
            )
    elif status == RuptureEpisode.Status.UNREPAIRED:
        if previous != status and episode.recovered_session is None:
            if episode.alert is not None and episode.alert.needs_attention:
                episode.alert.close(
                    "Not repaired within the window: see the unrepaired-rupture alert."
                )
            to_supervisor = client.has_consent("supervision")
            alert, _ = Alert.raise_for(
                client,
                AlertKind.UNREPAIRED_RUPTURE,
                _unrepaired_reason(episode, window, to_supervisor),
                {
                    **_alert_evidence(episode),
                    "escalated_to": "supervisor" if to_supervisor else "therapist",
                },
                rules=["unrepaired"],
            )
            alert.escalated_to = "supervisor" if to_supervisor else "therapist"
            if to_supervisor and alert.escalated_at is None:
                alert.escalated_at = timezone.now()
                alert_id = str(alert.pk)
                transaction.on_commit(lambda: tasks.notify_unrepaired_rupture.enqueue(alert_id))
            alert.save(update_fields=["escalated_to", "escalated_at"])
            episode.unrepaired_alert = alert
            episode.escalated_to = alert.escalated_to
            fields += ["unrepaired_alert", "escalated_to"]
        if episode.recovered_session is not None:
            for alert in (episode.alert, episode.unrepaired_alert):
                if (
                    alert is not None
                    and alert.status != Alert.Status.CLOSED
                    and alert.needs_attention
                ):
                    alert.close(
                        f"The client's rating recovered at session {episode.recovered_session}, after the repair window."
                    )
    if fields:
        episode.save(update_fields=fields)


# --- Disagreement -----------------------------------------------------------------------------


def check_disagreement(
    client: ClientRecord, session: int, by_session: dict[int, SessionAlliance] | None = None
) -> Alert | None:
    """A ``disagreement`` alert when the therapist rated ``session`` clearly higher than the client."""
    by_session = by_session if by_session is not None else alliance_by_session(client)
    row = by_session.get(session)
    if row is None or row.gap is None:
        return None
    ms = MonitoringSettings.for_clinic(client.clinic)
    if row.gap < ms.disagreement_gap - 1e-9:
        return None
    open_alert = Alert.objects.filter(
        client=client, kind=AlertKind.DISAGREEMENT, status__in=OPEN_STATUSES
    ).first()
    if open_alert is not None and any(e.get("session") == session for e in open_alert.evidence):
        return open_alert
    alert, _ = Alert.raise_for(
        client,
        AlertKind.DISAGREEMENT,
        f"Session {session}: the therapist rated the alliance {fmt_number(row.therapist)}, the client {fmt_number(row.client)} "
        f"(gap {fmt_number(row.gap)}, flagged from {fmt_number(ms.disagreement_gap)}). Ask the client how the session really went.",
        {
            "session": session,
            "client": row.client,
            "therapist": row.therapist,
            "gap": row.gap,
            "settings": ms.disagreement_settings(),
        },
        rules=["disagreement"],
    )
    return alert


# --- Disengagement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DisengagementReason:
    rule: str
    words: str
    data: dict[str, Any]


def disengagement_reasons(
    client: ClientRecord,
    now: dt.datetime | None = None,
    by_session: dict[int, SessionAlliance] | None = None,
) -> list[DisengagementReason]:
    """Signs the client may be drifting away (barriers: resistance and mistrust); design choices,
    every threshold a clinic setting."""
    now = now or timezone.now()
    ms = MonitoringSettings.for_clinic(client.clinic)
    sessions = list(TherapySession.objects.filter(client=client).order_by("-scheduled_at"))

    def early_ratings() -> list[tuple[int, float]]:
        rows = by_session if by_session is not None else alliance_by_session(client)
        return [(n, r.client) for n, r in rows.items() if r.client is not None]

    return reasons_from(
        ms, now, sessions, _check_in_rows([client.pk], now).get(client.pk, []), early_ratings
    )


def reasons_from(
    ms: MonitoringSettings,
    now: dt.datetime,
    sessions: list[Any],
    check_ins: list[tuple[dt.datetime, str]],
    early_ratings: Callable[[], list[tuple[int, float]]],
) -> list[DisengagementReason]:
    """The disengagement rules over one client's rows, already read.

    ``sessions`` newest first; ``check_ins`` (due_at, status) of completed and missed check-ins
    in the last 8 weeks; ``early_ratings`` (session number, client rating) in session order,
    called only when the early-alliance rule is on.
    """
    out: list[DisengagementReason] = []
    past = [
        s for s in sessions if s.scheduled_at <= now and s.status != TherapySession.Status.SCHEDULED
    ]
    recent = past[: ms.missed_window]
    missed = [s for s in recent if s.status in NOT_HELD]
    if ms.missed_threshold and len(missed) >= ms.missed_threshold:
        numbers = ", ".join(str(s.number) for s in sorted(missed, key=lambda s: s.number))
        out.append(
            DisengagementReason(
                "missed_sessions",
                f"{len(missed)} of the last {len(recent)} sessions were missed or cancelled (sessions {numbers})",
                {"missed": len(missed), "of": len(recent), "sessions": [s.number for s in missed]},
            )
        )
    attended = [s for s in past if s.status == TherapySession.Status.ATTENDED]
    upcoming = [
        s for s in sessions if s.scheduled_at > now and s.status == TherapySession.Status.SCHEDULED
    ]
    if attended and not upcoming and ms.long_gap_days:
        days = (now - attended[0].scheduled_at).days
        if days >= ms.long_gap_days:
            out.append(
                DisengagementReason(
                    "long_gap",
                    f"no session for {days} days (last attended: session {attended[0].number}) and none is booked",
                    {"days": days, "last_session": attended[0].number},
                )
            )
    out.extend(_check_in_reason(check_ins, now, ms))
    if ms.cutoff is not None and ms.early_sessions:
        low = [(n, v) for n, v in early_ratings() if n <= ms.early_sessions and v < ms.cutoff]
        if low:
            n, v = low[0]
            out.append(
                DisengagementReason(
                    "low_early_alliance",
                    f"low alliance early in therapy: {fmt_number(v)} at session {n} (below {fmt_number(ms.cutoff)} in the first {ms.early_sessions} sessions)",
                    {"sessions": [x for x, _ in low], "scores": [y for _, y in low]},
                )
            )
    return out


CHECK_IN_WEEKS = dt.timedelta(days=28)


def _check_in_rows(
    client_ids: list[Any], now: dt.datetime
) -> dict[Any, list[tuple[dt.datetime, str]]]:
    """(due_at, status) of each client's completed and missed check-ins in the last 8 weeks."""
    out: dict[Any, list[tuple[dt.datetime, str]]] = {}
    rows = CheckIn.objects.filter(
        client_id__in=client_ids,
        due_at__gte=now - 2 * CHECK_IN_WEEKS,
        due_at__lt=now,
        status__in=("completed", "missed"),
    ).values_list("client_id", "due_at", "status")
    for client_id, due, status in rows:
        out.setdefault(client_id, []).append((due, status))
    return out


def _check_in_reason(
    rows: list[tuple[dt.datetime, str]], now: dt.datetime, ms: MonitoringSettings
) -> list[DisengagementReason]:
    four_weeks = CHECK_IN_WEEKS
    cur = [st for due, st in rows if due >= now - four_weeks]
    prev = [st for due, st in rows if due < now - four_weeks]
    if len(cur) < 3 or len(prev) < 3:
        return []
    cur_rate = cur.count("completed") / len(cur)
    prev_rate = prev.count("completed") / len(prev)
    if (prev_rate - cur_rate) * 100 >= ms.check_in_drop_points - 1e-9:
        return [
            DisengagementReason(
                "check_ins_falling",
                f"check-ins completed fell from {prev_rate:.0%} to {cur_rate:.0%} over the last 4 weeks",
                {
                    "previous": round(prev_rate, 3),
                    "current": round(cur_rate, 3),
                    "due_previous": len(prev),
                    "due_current": len(cur),
                },
            )
        ]
    return []


CLOSED_NO_SIGNAL = "No disengagement signal holds any more."


def _disengagement_text(reasons: list[DisengagementReason]) -> str:
    return "Possible disengagement: " + "; ".join(r.words for r in reasons) + "."


def _disengagement_evidence(
    reasons: list[DisengagementReason], ms: MonitoringSettings
) -> dict[str, Any]:
    return {
        "reasons": [{"rule": r.rule, "words": r.words, **r.data} for r in reasons],
        "settings": ms.disengagement_settings(),
    }


def check_disengagement(
    client: ClientRecord,
    now: dt.datetime | None = None,
    by_session: dict[int, SessionAlliance] | None = None,
) -> Alert | None:
    """Raise (or update) the client's ``disengagement`` alert when any signal holds."""
    if client.status != ClientRecord.Status.ACTIVE:
        return None
    reasons = disengagement_reasons(client, now, by_session)
    open_alert = Alert.objects.filter(
        client=client, kind=AlertKind.DISENGAGEMENT, status__in=OPEN_STATUSES
    ).first()
    if not reasons:
        if open_alert is not None:
            # The client is back (a session booked or attended, check-ins resumed): an alert
            # about a signal that no longer holds is only noise on the caseload.
            open_alert.close(CLOSED_NO_SIGNAL)
        return None
    text = _disengagement_text(reasons)
    if open_alert is not None and open_alert.reason == text[:300]:
        return open_alert  # nothing new: no extra evidence, no noise
    alert, _ = Alert.raise_for(
        client,
        AlertKind.DISENGAGEMENT,
        text,
        _disengagement_evidence(reasons, MonitoringSettings.for_clinic(client.clinic)),
        rules=[r.rule for r in reasons],
    )
    return alert


# Clients per batch of the daily pass: each batch reads its rows in a fixed number of queries,
# so a run costs (clients / BATCH_SIZE) x that number, whatever the clinic sizes.
BATCH_SIZE = 500


def check_all(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """The periodic pass: wake snoozed alerts whose time has come; disengagement for every client.

    Set-based: active clients are taken ``batch_size`` at a time in primary-key order (keyset
    pagination, so no batch re-reads an earlier one and memory stays bounded); each batch reads
    its sessions, check-ins, ratings and open alerts in one query each and writes its alert
    changes in bulk. Clinic settings are read once per clinic per run. The outcome is the same
    as ``check_disengagement`` for each client, and a second run changes nothing.
    """
    woken = Alert.wake_expired(now)
    now = now or timezone.now()
    raised = 0
    settings_by_clinic: dict[Any, MonitoringSettings] = {}
    last_pk = None
    while True:
        batch = ClientRecord.objects.filter(status=ClientRecord.Status.ACTIVE).order_by("pk")
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        clients = list(batch.only("pk", "clinic_id", "status")[:batch_size])
        if not clients:
            break
        last_pk = clients[-1].pk
        _load_settings(settings_by_clinic, {c.clinic_id for c in clients})
        with transaction.atomic():
            raised += _check_batch(clients, now, settings_by_clinic)
        if len(clients) < batch_size:
            break
    return {"woken": woken, "disengagement": raised}


def _load_settings(cache: dict[Any, MonitoringSettings], clinic_ids: set[Any]) -> None:
    missing = clinic_ids - cache.keys()
    if not missing:
        return
    for ms in MonitoringSettings.objects.filter(clinic_id__in=missing):
        cache[ms.clinic_id] = ms
    for clinic_id in missing - cache.keys():  # a clinic that never opened its settings page
        cache[clinic_id], _ = MonitoringSettings.objects.get_or_create(clinic_id=clinic_id)


class _Session(NamedTuple):
    number: int
    scheduled_at: dt.datetime
    status: str


class _Rating(NamedTuple):
    session_number: int | None
    completed_at: dt.datetime
    total: float


def _check_batch(
    clients: list[ClientRecord], now: dt.datetime, settings_by_clinic: dict[Any, MonitoringSettings]
) -> int:
    ids = [c.pk for c in clients]
    sessions: dict[Any, list[Any]] = {}
    rows = (
        TherapySession.objects.filter(client_id__in=ids)
        .order_by("client_id", "-scheduled_at")
        .values_list("client_id", "number", "scheduled_at", "status")
    )
    for client_id, number, scheduled_at, status in rows:  # tuples: no model instances per row
        sessions.setdefault(client_id, []).append(_Session(number, scheduled_at, status))
    check_ins = _check_in_rows(ids, now)
    ratings: dict[Any, list[_Rating]] = {}
    if any(ms.cutoff is not None and ms.early_sessions for ms in settings_by_clinic.values()):
        ratings_rows = (
            Response.objects.filter(
                client_id__in=ids, instrument_id=CLIENT_SAC, total__isnull=False
            )
            .order_by("client_id", "completed_at")
            .values_list("client_id", "session_number", "completed_at", "total")
        )
        for client_id, session_number, completed_at, total in ratings_rows:
            # ``or 0.0`` only satisfies the type: the filter leaves out ratings without a total.
            ratings.setdefault(client_id, []).append(
                _Rating(session_number, completed_at, total or 0.0)
            )
    open_alerts = {
        a.client_id: a
        for a in Alert.objects.select_for_update().filter(
            client_id__in=ids, kind=AlertKind.DISENGAGEMENT, status__in=OPEN_STATUSES
        )
    }
    stamp = timezone.now()
    to_close: list[Any] = []
    to_update: list[Alert] = []
    to_create: dict[Any, tuple[str, dict[str, Any], list[str]]] = {}
    raised = 0
    for client in clients:
        ms = settings_by_clinic[client.clinic_id]
        mine = sessions.get(client.pk, [])

        def early(mine: list[Any] = mine, client_id: Any = client.pk) -> list[tuple[int, float]]:
            held = sorted((s for s in mine if s.status not in NOT_HELD), key=lambda s: s.number)
            return [(n, r.total) for n, r in _numbered(ratings.get(client_id, []), held)]

        reasons = reasons_from(ms, now, mine, check_ins.get(client.pk, []), early)
        open_alert = open_alerts.get(client.pk)
        if not reasons:
            if open_alert is not None:
                to_close.append(open_alert.pk)
            continue
        raised += 1
        text = _disengagement_text(reasons)
        if open_alert is not None and open_alert.reason == text[:300]:
            continue
        evidence = _disengagement_evidence(reasons, ms)
        rules = [r.rule for r in reasons]
        if open_alert is None:
            to_create[client.pk] = (text, evidence, rules)
            continue
        open_alert.evidence = [*open_alert.evidence, {"at": stamp.isoformat(), **evidence}]
        open_alert.reason = text[:300]
        open_alert.updated_at = stamp
        open_alert.rules = [*open_alert.rules, *(r for r in rules if r not in open_alert.rules)]
        to_update.append(open_alert)
    if to_close:
        Alert.objects.filter(pk__in=to_close, status__in=OPEN_STATUSES).update(
            status=Alert.Status.CLOSED,
            closed_at=stamp,
            close_reason=CLOSED_NO_SIGNAL,
            updated_at=stamp,
        )
    if to_update:
        Alert.objects.bulk_update(to_update, ["evidence", "reason", "updated_at", "rules"])
    if to_create:
        _create_alerts(clients, to_create, stamp)
    return raised


def _create_alerts(
    clients: list[ClientRecord],
    new: dict[Any, tuple[str, dict[str, Any], list[str]]],
    stamp: dt.datetime,
) -> None:
    """One INSERT for the batch's new alerts; when another writer opened one of them meanwhile
    (the one-open-alert constraint), each goes through ``Alert.raise_for``, which attaches."""
    rows = [
        Alert(
            clinic_id=c.clinic_id,
            client_id=c.pk,
            kind=AlertKind.DISENGAGEMENT,
            severity=SEVERITY[AlertKind.DISENGAGEMENT],
            reason=new[c.pk][0][:300],
            evidence=[{"at": stamp.isoformat(), **new[c.pk][1]}],
            rules=list(dict.fromkeys(new[c.pk][2])),
            created_at=stamp,
            updated_at=stamp,
        )
        for c in clients
        if c.pk in new
    ]
    try:
        with transaction.atomic():
            Alert.objects.bulk_create(rows)
    except IntegrityError:
        for c in clients:
            if c.pk in new:
                text, evidence, rules = new[c.pk]
                Alert.raise_for(c, AlertKind.DISENGAGEMENT, text, evidence, rules=rules)


# --- Hooks ------------------------------------------------------------------------------------


def on_alliance_rating(response: Any) -> None:
    """After a Session Alliance Check (client or therapist) is stored: number it, run rupture
    detection, the disagreement check and the early-alliance signal. Runs inside the caller's
    transaction."""
    client = response.client
    if response.session_number is None:
        number = session_for(response.completed_at, held_sessions(client))
        taken = (
            number is not None
            and type(response)
            .objects.filter(
                client=client, instrument_id=response.instrument_id, session_number=number
            )
            .exclude(pk=response.pk)
            .exists()
        )
        if number is not None and not taken:
            type(response).objects.filter(pk=response.pk).update(session_number=number)
            response.session_number = number
    if response.instrument_id == CLIENT_SAC:
        sync_ruptures(client)
    by_session = alliance_by_session(client)
    session = response.session_number
    if session is None:
        same = (
            type(response)
            .objects.filter(
                client=client, instrument_id=response.instrument_id, total__isnull=False
            )
            .order_by("completed_at")
        )
        session = next(
            (n for n, r in _numbered(same, held_sessions(client)) if r.pk == response.pk), None
        )
    if session is not None:
        check_disagreement(client, session, by_session)
    if response.instrument_id == CLIENT_SAC:
        check_disengagement(client, by_session=by_session)


def on_concern(concern: Any) -> RuptureEpisode | None:
    """A concern raised between sessions is a rupture signal: open or join the episode. The
    treating therapist (and on-call) is told at once, whether or not it opens an episode."""
    episode = _episode_for_signal(concern.client, "concern")
    notices.notify(concern.client, "concern", concern.pk, episode.alert if episode else None)
    return episode


def on_task_not_working(task: Any) -> RuptureEpisode | None:
    """The client said again that a task isn't working for them: a rupture signal that opens or
    joins the episode (and its alert), like a concern. None when it is not yet a signal."""
    return _episode_for_signal(task.client, "task_not_working")


def _episode_for_signal(client: ClientRecord, signal: str) -> RuptureEpisode | None:
    """Bring episodes in line, then the episode the latest ``signal`` session opened or joined."""
    sync_ruptures(client)
    rows = alliance_by_session(client)
    session = max((n for n, r in rows.items() if getattr(r, signal)), default=None)
    if session is None:
        return None
    episode = (
        RuptureEpisode.objects.filter(
            client=client, instrument_id=CLIENT_SAC, start_session__lte=session
        )
        .order_by("-start_session")
        .first()
    )
    if episode is None:
        return None
    active = episode.status == RuptureEpisode.Status.OPEN or (
        episode.status == RuptureEpisode.Status.UNREPAIRED and episode.recovered_session is None
    )
    return episode if active or session <= episode.last_session else None
