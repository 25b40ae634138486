"""The caseload, the care team's alert list (acknowledge, snooze, "was this useful?"), the client's alliance
timeline, recording a rupture repair, the therapist's own session rating, the per-clinic
usefulness report and the clinic's monitoring settings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from alliance.accounts.models import Role
from alliance.alerts.models import OPEN_STATUSES, RULE_LABELS, Alert, AlertKind
from alliance.clients.access import CLINICAL_ROLES, client_or_404, clinical_staff, owned_or_404
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core import audit
from alliance.core.access import signed_in_user, staff, staff_membership
from alliance.goals.models import Goal
from alliance.measures import registry, scoring
from alliance.measures.models import Response
from alliance.measures.services import record_response
from alliance.monitoring import notices, ruptures
from alliance.monitoring.caseload import STATUS_LABELS, STATUSES, caseload_rows, filter_rows
from alliance.monitoring.models import (
    MonitoringSettings,
    RepairApproach,
    RuptureEpisode,
    SafetyNotice,
)
from alliance.monitoring.timeline import build_timeline

if TYPE_CHECKING:
    from alliance.accounts.models import User


def alerts_needing_attention(user: User) -> tuple[list[Alert], list[Alert]]:
    """The alerts a staff member's alert list puts at the top, in order of urgency, and the
    alerts escalated to them (supervisors and admins; shown by pseudonym only).

    A snoozed alert whose time has come reads as open (without writing). Shared by the HTML
    alert list and the JSON API (``GET /api/v1/alerts``) so both show the same set.
    """
    needing = list(
        Alert.objects.visible_to(user)
        .needing_attention()
        .by_urgency()
        .select_related("client", "acknowledged_by", "snoozed_by")
    )
    escalated: list[Alert] = []
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        # Overdue safety alerts, and unrepaired ruptures of clients who consented to
        # supervision sharing: by pseudonym, the care team is the way to the client.
        escalated = list(
            Alert.objects.filter(
                clinic=user.clinic,
                kind__in=(AlertKind.SAFETY, AlertKind.UNREPAIRED_RUPTURE),
                escalated_at__isnull=False,
            )
            .needing_attention()
            .exclude(pk__in=[a.pk for a in needing])
            .select_related("client")
            .order_by("severity", "created_at")
        )
    return needing, escalated


@staff(*CLINICAL_ROLES, Role.ADMIN)
def alert_list(request: HttpRequest) -> HttpResponse:
    """Alerts needing attention first (safety at the top), then recently acknowledged ones.

    Supervisors and admins also see safety alerts of their clinic that were escalated to
    them, by pseudonym only: they reach the client through the care team or emergency access.
    """
    user = signed_in_user(request)
    needing, escalated = alerts_needing_attention(user)
    open_alerts = [a for a in needing if a.status == Alert.Status.OPEN]
    snoozed = [a for a in needing if a.status == Alert.Status.SNOOZED]
    done = list(
        Alert.objects.visible_to(user)
        .exclude(status__in=OPEN_STATUSES)
        .select_related("client", "acknowledged_by", "snoozed_by", "useful_marked_by")
        .order_by("-updated_at")[:20]
    )
    return render(
        request,
        "monitoring/alert_list.html",
        {
            "open_alerts": open_alerts,
            "snoozed_alerts": snoozed,
            "done_alerts": done,
            "escalated": escalated,
            "monitoring_kinds": MONITORING_KINDS,
        },
    )


# Kinds whose detail lives on the alliance timeline.
MONITORING_KINDS = (
    AlertKind.RUPTURE,
    AlertKind.UNREPAIRED_RUPTURE,
    AlertKind.DISAGREEMENT,
    AlertKind.DISENGAGEMENT,
)


def _alert_record_type(alert: Alert) -> str:
    return "safety_alert" if alert.kind == AlertKind.SAFETY else "alert"


def _next_or(request: HttpRequest, fallback: str) -> HttpResponse:
    nxt = request.POST.get("next", "") or request.GET.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect(fallback)


SNOOZE_CHOICES = [
    (1, gettext_lazy("1 day")),
    (3, gettext_lazy("3 days")),
    (7, gettext_lazy("1 week")),
    (14, gettext_lazy("2 weeks")),
]


@clinical_staff
def alert_snooze(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    """Snooze an alert for a while, with a reason; it comes back by itself when the time is up."""
    alert, client = owned_or_404(
        request,
        Alert,
        alert_id,
        record_type=_alert_record_type,
        action="view" if request.method == "GET" else "",
    )
    error = ""
    if alert.kind == AlertKind.SAFETY:
        error = _("Safety alerts cannot be snoozed: acknowledge them with what was done.")
    elif request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        try:
            days = int(request.POST.get("days", ""))
            if days not in dict(SNOOZE_CHOICES):
                raise ValueError
        except ValueError:
            error = _("Choose for how long.")
        else:
            try:
                with transaction.atomic():
                    alert.snooze(
                        signed_in_user(request), timezone.now() + dt.timedelta(days=days), reason
                    )
                    audit.record_request(
                        request, "update", "alert", client=client, note=f"snoozed {days} day(s)"
                    )
            except ValueError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    _("Snoozed until %(until)s.")
                    % {"until": f"{timezone.localtime(alert.snoozed_until):%Y-%m-%d %H:%M}"},
                )
                return _next_or(request, "alert_list")
    return render(
        request,
        "monitoring/alert_snooze.html",
        {
            "alert": alert,
            "client": client,
            "error": error,
            "choices": SNOOZE_CHOICES,
            "next": request.POST.get("next", "") or request.GET.get("next", ""),
        },
        status=400 if error and request.method == "POST" else 200,
    )


@clinical_staff
@require_POST
def alert_useful(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    """ "Was this useful?" yes / no from a clinician, for the per-rule usefulness report."""
    alert, client = owned_or_404(request, Alert, alert_id, record_type=_alert_record_type)
    value = request.POST.get("useful", "")
    if value not in ("yes", "no"):
        messages.error(request, _("Say whether the alert was useful."))
    else:
        alert.mark_useful(signed_in_user(request), value == "yes")
        audit.record_request(request, "update", "alert", client=client, note=f"useful={value}")
        messages.success(request, _("Thank you: this helps tune the rules."))
    return _next_or(request, "alert_list")


@staff(*CLINICAL_ROLES, Role.ADMIN)
def alert_acknowledge(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    """Acknowledge an alert; recording what was done is required. The software does not
    judge the risk: the clinician's note is the record."""
    alert, client = owned_or_404(
        request,
        Alert,
        alert_id,
        record_type=_alert_record_type,
        action="view" if request.method == "GET" else "",
    )
    error = ""
    if request.method == "POST":
        action_taken = request.POST.get("action_taken", "").strip()
        if not alert.needs_attention:
            messages.info(request, _("This alert was already acknowledged."))
            return redirect("alert_list")
        if not action_taken:
            error = _(
                "Please record what was done (for example: called the client, safety plan "
                "reviewed) before acknowledging."
            )
        else:
            with transaction.atomic():
                alert.acknowledge(signed_in_user(request), action_taken[:4000])
                audit.record_request(
                    request,
                    "acknowledge",
                    _alert_record_type(alert),
                    client=client,
                    note=alert.kind,
                )
            messages.success(request, _("Alert acknowledged and what was done is recorded."))
            nxt = request.POST.get("next", "")
            if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                return redirect(nxt)
            return redirect("alert_list")
    return render(
        request,
        "monitoring/alert_acknowledge.html",
        {"alert": alert, "client": client, "error": error, "next": request.GET.get("next", "")},
        status=400 if error else 200,
    )


def client_alerts_panel(request: HttpRequest, client: ClientRecord) -> dict[str, object] | None:
    """The alerts section at the top of the clinician's client page."""
    alerts = list(Alert.objects.filter(client=client).needing_attention().by_urgency())
    recent = list(
        Alert.objects.filter(client=client, status="acknowledged")
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at")[:3]
    )
    if not alerts and not recent:
        return None
    return {"alerts": alerts, "recent": recent, "client": client}


def client_alliance_panel(request: HttpRequest, client: ClientRecord) -> dict[str, object] | None:
    """A short alliance section on the client page: open episodes and links to the timeline."""
    episodes = list(
        RuptureEpisode.objects.filter(
            client=client, status__in=(RuptureEpisode.Status.OPEN, RuptureEpisode.Status.UNREPAIRED)
        ).order_by("-start_session")[:3]
    )
    return {"client": client, "episodes": episodes}


# --- Alliance timeline and rupture repair ------------------------------------------------------


@clinical_staff
def alliance_timeline(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Client and therapist ratings per session, rupture episodes, PHQ-9, missed sessions;
    the episodes with evidence and repair notes; a data table and a summary in words."""
    client = client_or_404(request, client_id, record_type="alliance_timeline")
    data = build_timeline(client)
    return render(
        request,
        "monitoring/timeline.html",
        {
            "client": client,
            **data,
            "approaches": RepairApproach.choices,
            "rule_labels": RULE_LABELS,
        },
    )


@clinical_staff
def episode_repair(request: HttpRequest, episode_id: uuid.UUID) -> HttpResponse:
    """Acknowledge a rupture and record the repair approach used (and a private note)."""
    episode, client = owned_or_404(
        request,
        RuptureEpisode,
        episode_id,
        record_type="rupture_episode",
        action="view" if request.method == "GET" else "",
    )
    error = ""
    chosen: list[str] = []
    if request.method == "POST":
        chosen = request.POST.getlist("approach")
        note = request.POST.get("note", "")
        try:
            with transaction.atomic():
                episode.record_repair(signed_in_user(request), chosen, note)
                audit.record_request(
                    request, "update", "rupture_episode", client=client, note="repair recorded"
                )
        except ValueError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _(
                    "Repair recorded. The episode closes as repaired when the client's rating "
                    "returns to the earlier level."
                ),
            )
            return redirect(f"{_timeline_url(client)}#episode-{episode.pk}")
    return render(
        request,
        "monitoring/episode_repair.html",
        {
            "episode": episode,
            "client": client,
            "approaches": RepairApproach.choices,
            "chosen": chosen or episode.repair_approaches,
            "error": error,
        },
        status=400 if error else 200,
    )


def _timeline_url(client: ClientRecord) -> str:
    return reverse("alliance_timeline", args=[client.pk])


@clinical_staff
def therapist_rating(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """The therapist's own Session Alliance Check for one session with this client."""
    client = client_or_404(request, client_id, write=True, record_type="alliance_check", action="")
    inst = registry.load("sac_therapist")
    rated = set(
        Response.objects.filter(client=client, instrument_id="sac_therapist").values_list(
            "session_number", flat=True
        )
    )
    sessions = [
        s
        for s in TherapySession.objects.filter(
            client=client, scheduled_at__lte=timezone.now() + dt.timedelta(hours=12)
        )
        .exclude(status__in=(TherapySession.Status.MISSED, TherapySession.Status.CANCELLED))
        .order_by("-number")
        if s.number not in rated
    ]
    error = ""
    answers: dict[str, str] = {}
    if request.method == "POST":
        try:
            number = int(request.POST.get("session", ""))
        except ValueError:
            number = None
        answers = {i.id: request.POST.get(i.id, "") for i in inst.items if i.id != "do_differently"}
        if number is None or number not in {s.number for s in sessions}:
            error = _("Choose the session you are rating.")
        else:
            try:
                result = scoring.score(inst, answers)
                if result.total is None or any(
                    answers.get(i.id) in (None, "") for i in inst.scored_items
                ):
                    raise scoring.ScoringError(_("Answer all four statements."))
            except scoring.ScoringError as exc:
                error = str(exc)
            else:
                session = next(s for s in sessions if s.number == number)
                record_response(
                    client=client,
                    instrument_id="sac_therapist",
                    result=result,
                    answers={k: v for k, v in answers.items() if v not in (None, "")},
                    source=Response.Source.FORM,
                    actor=request.user,
                    request=request,
                    session_number=number,
                    completed_at=max(
                        session.scheduled_at, timezone.now() - dt.timedelta(days=3650)
                    ),
                )
                messages.success(
                    request,
                    _("Your rating of session %(number)s is recorded.") % {"number": number},
                )
                return redirect(_timeline_url(client))
    return render(
        request,
        "monitoring/therapist_rating.html",
        {
            "client": client,
            "instrument": inst,
            "sessions": sessions,
            "error": error,
            "answers": answers,
            "scale": list(range(0, 7)),
        },
        status=400 if error else 200,
    )


# --- Usefulness report and settings ------------------------------------------------------------


@staff(Role.ADMIN, Role.SUPERVISOR)
def usefulness_report(request: HttpRequest) -> HttpResponse:
    """How many alerts each rule raised in the clinic, and how many clinicians marked useful.

    Counts only; no client is named. Noisy rules show up as many alerts marked not useful.
    """
    try:
        days = max(1, min(3650, int(request.GET.get("days", "90"))))
    except ValueError:
        days = 90
    since = timezone.now() - dt.timedelta(days=days)
    rows: dict[str, dict[str, int]] = defaultdict(
        lambda: {"raised": 0, "useful": 0, "not_useful": 0, "unmarked": 0}
    )
    alerts = Alert.objects.filter(
        clinic=staff_membership(request).clinic, created_at__gte=since
    ).values_list("kind", "rules", "useful")
    for kind, rules, useful in alerts:
        for rule in rules or [kind]:
            row = rows[rule]
            row["raised"] += 1
            row["useful" if useful else "not_useful" if useful is False else "unmarked"] += 1
    table = []
    for rule, counts in sorted(rows.items(), key=lambda kv: (-kv[1]["raised"], kv[0])):
        marked = counts["useful"] + counts["not_useful"]
        table.append(
            {
                "rule": rule,
                "label": RULE_LABELS.get(rule, rule),
                **counts,
                "percent_useful": round(100 * counts["useful"] / marked) if marked else None,
            }
        )
    return render(request, "monitoring/usefulness_report.html", {"table": table, "days": days})


class MonitoringSettingsForm(forms.ModelForm):
    class Meta:
        model = MonitoringSettings
        fields = [
            "k",
            "min_baseline",
            "baseline_window",
            "sd_floor_fraction",
            "cutoff",
            "drop_from_previous",
            "repair_window",
            "disagreement_gap",
            "missed_window",
            "missed_threshold",
            "long_gap_days",
            "check_in_drop_points",
            "early_sessions",
        ]
        # Model labels stay unmarked (marking them would need a migration).
        labels = {
            "k": gettext_lazy("K"),
            "min_baseline": gettext_lazy("Min baseline"),
            "baseline_window": gettext_lazy("Baseline window"),
            "sd_floor_fraction": gettext_lazy("Sd floor fraction"),
            "cutoff": gettext_lazy("Cutoff"),
            "drop_from_previous": gettext_lazy("Drop from previous"),
            "repair_window": gettext_lazy("Repair window"),
            "disagreement_gap": gettext_lazy("Disagreement gap"),
            "missed_window": gettext_lazy("Missed window"),
            "missed_threshold": gettext_lazy("Missed threshold"),
            "long_gap_days": gettext_lazy("Long gap days"),
            "check_in_drop_points": gettext_lazy("Check in drop points"),
            "early_sessions": gettext_lazy("Early sessions"),
        }
        help_texts = {
            "k": gettext_lazy(
                "A session at or below the client's own mean − k·SD is a rupture: 2 strict, 1 lenient (Gumz et al. 2012 recommend showing both)."
            ),
            "min_baseline": gettext_lazy(
                "Previous rated sessions needed before the k·SD rule runs (at least 2)."
            ),
            "baseline_window": gettext_lazy(
                "Most recent sessions outside any rupture that form the baseline."
            ),
            "sd_floor_fraction": gettext_lazy(
                "The SD is floored at this share of the scale range (0.10 = 0.6 on 0–6)."
            ),
            "cutoff": gettext_lazy(
                "A rating below this is a rupture signal (the check's own cut-off, 4 of 6). Empty: off."
            ),
            "drop_from_previous": gettext_lazy(
                "A fall of at least this much from the previous rating is a rupture signal. Empty: off."
            ),
            "repair_window": gettext_lazy(
                "Sessions after the start within which a return to the earlier level counts as repair."
            ),
            "disagreement_gap": gettext_lazy(
                "Flag a session when the therapist's rating is at least this much above the client's (0–6 scale); therapists tend to rate the alliance higher than clients do."
            ),
            "missed_window": gettext_lazy("Look at this many of the most recent past sessions..."),
            "missed_threshold": gettext_lazy(
                "...and flag when at least this many were missed or cancelled."
            ),
            "long_gap_days": gettext_lazy(
                "Flag when the last attended session is this many days ago and none is booked."
            ),
            "check_in_drop_points": gettext_lazy(
                "Flag when check-in completion in the last 4 weeks fell by at least this many percentage points from the 4 weeks before (at least 3 check-ins due in each)."
            ),
            "early_sessions": gettext_lazy(
                "A client rating below the cut-off in these first sessions is a disengagement signal."
            ),
        }

    def clean(self) -> dict[str, object]:
        super().clean()
        data = self.cleaned_data
        try:
            ruptures.RuptureSettings(
                k=data.get("k") or 0,
                min_baseline=data.get("min_baseline") or 0,
                baseline_window=data.get("baseline_window") or 0,
                sd_floor_fraction=data.get("sd_floor_fraction") or 0,
                cutoff=data.get("cutoff"),
                drop_from_previous=data.get("drop_from_previous"),
                repair_window=data.get("repair_window") or 0,
                scale_min=0,
                scale_max=6,
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc).capitalize() + ".") from None
        return data


@staff(Role.ADMIN)
def monitoring_settings(request: HttpRequest) -> HttpResponse:
    """Clinic admin: the parameters of every monitoring rule (stored with each finding)."""
    obj = MonitoringSettings.for_clinic(staff_membership(request).clinic)
    form = MonitoringSettingsForm(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record_request(request, "update", "clinic_settings", note="monitoring")
        messages.success(
            request,
            _("Monitoring settings saved. New findings use them; earlier findings keep theirs."),
        )
        return redirect("monitoring_settings")
    return render(
        request, "monitoring/settings.html", {"form": form}, status=400 if form.errors else 200
    )


# --- Immediate safety notices (clinic admin) ---------------------------------------------------


class SafetyNoticeSettingsForm(forms.ModelForm):
    class Meta:
        model = MonitoringSettings
        fields = ["escalation_hours", "on_call_email", "sms_enabled", "on_call_sms"]
        # Model labels stay unmarked (marking them would need a migration).
        labels = {
            "escalation_hours": gettext_lazy(
                "Escalate an unacknowledged safety alert after (hours)"
            ),
            "on_call_email": gettext_lazy("On call email"),
            "sms_enabled": gettext_lazy("Sms enabled"),
            "on_call_sms": gettext_lazy("On call sms"),
        }
        help_texts = {
            "on_call_email": gettext_lazy(
                "Also told at once about every safety alert and concern (a duty clinician's shared address). Empty: only the treating therapist."
            ),
            "sms_enabled": gettext_lazy(
                "Also send the notice by SMS to the on-call number (the deployment's SMS provider, SMS_BACKEND)."
            ),
            "on_call_sms": gettext_lazy(
                "On-call mobile number in international form (+ and country code)."
            ),
        }

    def clean_escalation_hours(self) -> int:
        hours = self.cleaned_data["escalation_hours"]
        if not 1 <= hours <= 72:
            raise forms.ValidationError(_("Choose between 1 and 72 hours."))
        return int(hours)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("sms_enabled") and not data.get("on_call_sms"):
            self.add_error("on_call_sms", _("Enter the on-call number to switch SMS on."))
        return data


@staff(Role.ADMIN)
def safety_notices(request: HttpRequest) -> HttpResponse:
    """Clinic admin: who is told at once about safety alerts and concerns, and every notice of
    the last 30 days with its delivery status, failures first (no client is named)."""
    clinic = staff_membership(request).clinic
    obj = MonitoringSettings.for_clinic(clinic)
    form = SafetyNoticeSettingsForm(
        request.POST if request.POST.get("form") == "settings" else None, instance=obj
    )
    if request.method == "POST":
        if request.POST.get("form") == "settings" and form.is_valid():
            form.save()
            audit.record_request(request, "update", "clinic_settings", note="safety notices")
            messages.success(
                request, _("Safety notice settings saved. New alerts and concerns use them.")
            )
            return redirect("safety_notices")
        if request.POST.get("form") == "resend":
            try:
                notice_id = uuid.UUID(request.POST.get("notice", ""))
            except ValueError:
                raise Http404 from None
            notice = SafetyNotice.objects.filter(pk=notice_id, clinic=clinic).first()
            if notice is None:
                raise Http404
            if notice.status != SafetyNotice.Status.FAILED:
                messages.error(request, _("Only a notice that failed can be sent again."))
            else:
                notices.send_again(notice)
                audit.record_request(
                    request, "update", "clinic_settings", note="safety notice sent again"
                )
                messages.success(request, _("The notice will be sent again by the worker."))
            return redirect("safety_notices")
    since = timezone.now() - dt.timedelta(days=30)
    rows = list(
        SafetyNotice.objects.filter(clinic=clinic, created_at__gte=since)
        .select_related("recipient")
        .order_by("created_at")
    )
    order = {"failed": 0, "retrying": 1, "pending": 2, "sent": 3}
    rows.sort(key=lambda n: (order.get(n.status, 9), -n.created_at.timestamp()))
    problems = sum(1 for n in rows if n.status in ("failed", "retrying"))
    return render(
        request,
        "monitoring/safety_notices.html",
        {"form": form, "notices": rows, "problems": problems},
        status=400 if form.errors else 200,
    )


def client_summary_panel(request: HttpRequest, client: ClientRecord) -> dict[str, object] | None:
    """At a glance, at the top of the clinician's client page: the caseload's status and reason,
    the latest scores against their band and expected range, open alerts, current goals and the
    next session. Hidden for a client who is not in care or not on this person's caseload."""
    rows = caseload_rows(signed_in_user(request), only=client.pk)
    if not rows:
        return None
    goals = list(
        Goal.objects.filter(
            client=client, status__in=(Goal.Status.ACTIVE, Goal.Status.PROPOSED)
        ).order_by("created_at")
    )
    return {"row": rows[0], "client": client, "goals": goals}


@clinical_staff
def caseload(request: HttpRequest) -> HttpResponse:
    """Active clients on the care team, what needs attention first (alliance monitoring):
    open alerts by severity, then not on track, then a low latest alliance rating."""
    every = caseload_rows(request.user)
    query = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    status = status if status in STATUS_LABELS else ""
    rows = filter_rows(every, query, status)
    counts = {key: sum(1 for r in every if r.status == key) for key, _label in STATUSES}
    return render(
        request,
        "monitoring/caseload.html",
        {
            "rows": rows,
            "clients": [r.client for r in rows],
            "total": len(every),
            "query": query,
            "status": status,
            "statuses": [(key, label, counts[key]) for key, label in STATUSES],
        },
    )
