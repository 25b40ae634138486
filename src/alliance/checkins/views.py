"""Check-ins (from an emailed link or the client's home), schedules, concerns and the data export."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from alliance.accounts.models import CLINICAL_ROLES
from alliance.checkins.actions import acknowledge_concern, raise_concern, submit_check_in
from alliance.checkins.export import client_data, client_zone, readable, you_facts
from alliance.checkins.export_pdf import render_pdf
from alliance.checkins.models import CheckIn, CheckInLink, CheckInPlan, CheckInSchedule, Concern
from alliance.clients.models import ClientRecord, TherapySession
from alliance.clients.scoping import client_or_404
from alliance.core import audit
from alliance.core.access import client_only, public, signed_in_user, staff
from alliance.core.dedupe import recent_duplicate

CLINICAL = tuple(CLINICAL_ROLES)


class CheckInForm(forms.Form):
    mood = forms.TypedChoiceField(
        label="How has your mood been, from 0 (very low) to 10 (very good)?",
        choices=[(i, str(i)) for i in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Anything you want your therapist to know? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    key = forms.UUIDField(widget=forms.HiddenInput)


class ConcernForm(forms.Form):
    topic = forms.ChoiceField(
        label="What is it about?", choices=Concern.Topic.choices, widget=forms.RadioSelect
    )
    detail = forms.CharField(
        label="Tell us more (optional)",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = CheckInSchedule
        fields = ["kind", "instrument", "cadence", "start_date", "due_time"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "due_time": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean(self):  # noqa: ANN201
        data = super().clean()
        if data.get("kind") == CheckInSchedule.Kind.INSTRUMENT and not data.get("instrument"):
            self.add_error("instrument", "Name the questionnaire, e.g. phq9.")
        return data


class PlanForm(forms.ModelForm):
    # Not a plan field: it books (or moves) the next TherapySession, the one record of the next
    # session that the caseload and the client's home both read.
    next_session_at = forms.DateTimeField(
        required=False,
        label="Next session",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Books the next session, or moves the one already booked. Left empty: nothing changes.",
    )

    class Meta:
        model = CheckInPlan
        fields = [
            "quiet_start",
            "quiet_end",
            "max_reminders",
            "notify_after_misses",
            "window_hours",
        ]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}),
        }


# --- answering a check-in --------------------------------------------------------------------


def _answer(request: HttpRequest, check_in: CheckIn, via: str, extra: dict) -> HttpResponse:
    """Show or take one check-in. A second submission shows "already received", never a copy."""
    if check_in.status == CheckIn.Status.COMPLETED and request.method != "POST":
        return render(request, "checkins/check_in_done.html", {"again": True}, status=200)
    if check_in.is_instrument:
        # Questionnaires are administered by the measures app; point the client there.
        return render(request, "checkins/check_in_instrument.html", {"check_in": check_in})
    form = CheckInForm(request.POST or None, initial={"key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        stored = submit_check_in(
            check_in,
            mood=form.cleaned_data["mood"],
            note=form.cleaned_data["note"],
            key=form.cleaned_data["key"],
            via=via,
        )
        return _done_redirect(request, stored)
    return render(
        request, "checkins/check_in_form.html", {"form": form, "check_in": check_in, **extra}
    )


DONE_KEY = "checkins.done"


def _done_redirect(request: HttpRequest, stored: bool) -> HttpResponse:
    # Post/redirect/get: a reload of the result page never resends the answer. The outcome
    # travels in this browser's session only, so the result page shows nothing to anyone else.
    request.session[DONE_KEY] = "sent" if stored else "again"
    return redirect("check_in_done")


@public
def check_in_done(request: HttpRequest) -> HttpResponse:
    outcome = request.session.get(DONE_KEY)
    if outcome is None:
        return redirect("home")
    return render(request, "checkins/check_in_done.html", {"again": outcome != "sent"})


@public
def check_in_link(request: HttpRequest) -> HttpResponse:
    """The emailed link. Opening it shows the form (mail scanners may open links); only the
    submission uses the link up. Expired or used links get a page saying what to do."""
    token = (request.POST if request.method == "POST" else request.GET).get("t", "")
    link = CheckInLink.find(token)
    now = timezone.now()
    if link is None:
        return render(request, "checkins/link_invalid.html", {"reason": "unknown"}, status=404)
    if link.used_at is not None or link.check_in.status == CheckIn.Status.COMPLETED:
        return render(request, "checkins/link_invalid.html", {"reason": "used"}, status=410)
    if link.expires_at <= now or link.check_in.status != CheckIn.Status.DUE:
        return render(request, "checkins/link_invalid.html", {"reason": "expired"}, status=410)
    client = link.check_in.client
    if client.status != ClientRecord.Status.ACTIVE:
        return render(request, "checkins/link_invalid.html", {"reason": "expired"}, status=410)
    if request.method == "POST" and not link.check_in.is_instrument:
        form = CheckInForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "checkins/check_in_form.html",
                {"form": form, "check_in": link.check_in, "token": token},
            )
        claimed = CheckInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            return render(request, "checkins/link_invalid.html", {"reason": "used"}, status=410)
        stored = submit_check_in(
            link.check_in,
            mood=form.cleaned_data["mood"],
            note=form.cleaned_data["note"],
            key=form.cleaned_data["key"],
            via="link",
        )
        return _done_redirect(request, stored)
    return _answer(
        request, link.check_in, "link", {"token": token, "greeting": client.display_name}
    )


@client_only
def my_check_in(request: HttpRequest, check_in_id: uuid.UUID) -> HttpResponse:
    client = client_or_404(
        request, signed_in_user(request).client_record.pk, record_type="check_in", action="view"
    )
    check_in = (
        CheckIn.objects.filter(pk=check_in_id, client=client)
        .select_related("schedule", "client")
        .first()
    )
    if check_in is None:
        raise Http404
    if check_in.status == CheckIn.Status.MISSED:
        messages.info(request, "This check-in has closed. The next one will come as usual.")
        return redirect("client_home")
    return _answer(request, check_in, "home", {})


# --- concerns ---------------------------------------------------------------------------------


def readers(client: ClientRecord) -> list[str]:
    """Who can read a concern: the care team (and an admin only under audited emergency access)."""
    return [
        f"{m.therapist.full_name} (your {'therapist' if m.is_primary else 'care team'})"
        for m in client.care_team.select_related("therapist")
    ]


@client_only
def my_concerns(request: HttpRequest) -> HttpResponse:
    client = client_or_404(
        request,
        signed_in_user(request).client_record.pk,
        record_type="concern",
        action="" if request.method == "POST" else "view",
    )
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        topic, detail = form.cleaned_data["topic"], form.cleaned_data["detail"]
        mine = Concern.objects.filter(client=client, raised_by=signed_in_user(request))
        if (
            recent_duplicate(mine, {"topic": topic, "detail": detail}, time_field="raised_at")
            is not None
        ):
            messages.info(request, "This concern was already sent; your therapist gets it once.")
            return redirect("concerns_mine")
        raise_concern(client, request.user, topic, detail)
        audit.record_request(request, "create", "concern", client=client)
        messages.success(
            request,
            "Thank you. Your concern was sent. You will see here when your therapist has read it.",
        )
        return redirect("concerns_mine")
    return render(
        request,
        "checkins/my_concerns.html",
        {
            "form": form,
            "concerns": Concern.objects.filter(client=client),
            "readers": readers(client),
        },
    )


@staff(*CLINICAL)
def concern_acknowledge(
    request: HttpRequest, client_id: uuid.UUID, concern_id: uuid.UUID
) -> HttpResponse:
    client = client_or_404(request, client_id, record_type="concern", action="")
    if not client.care_team.filter(therapist=signed_in_user(request)).exists():
        raise Http404
    concern = Concern.objects.filter(pk=concern_id, client=client).first()
    if concern is None:
        raise Http404
    if request.method == "POST" and acknowledge_concern(concern, request.user):
        audit.record_request(request, "acknowledge", "concern", client=client)
        messages.success(request, "Concern acknowledged. The client can see that you read it.")
    return redirect("client_detail", client_id=client.pk)


# --- the therapist's check-in settings -------------------------------------------------------


@staff(*CLINICAL)
def staff_check_ins(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    writing = request.method == "POST"
    client = client_or_404(
        request, client_id, record_type="check_in", action="" if writing else "view"
    )
    if writing and not client.care_team.filter(therapist=signed_in_user(request)).exists():
        raise Http404
    plan = CheckInPlan.for_client(client)
    schedule_form = ScheduleForm(
        request.POST if request.POST.get("form") == "schedule" else None,
        initial={"start_date": timezone.localdate()},
    )
    booked = TherapySession.next_for(client)
    plan_form = PlanForm(
        request.POST if request.POST.get("form") == "plan" else None,
        instance=plan,
        initial={"next_session_at": timezone.localtime(booked.scheduled_at) if booked else None},
    )
    if writing:
        if request.POST.get("form") == "schedule" and schedule_form.is_valid():
            schedule = schedule_form.save(commit=False)
            schedule.client, schedule.clinic = client, client.clinic
            schedule.save()
            audit.record_request(request, "create", "check_in", client=client, note="schedule")
            messages.success(request, "Check-in schedule added.")
            return redirect("check_ins_staff", client_id=client.pk)
        if request.POST.get("form") == "plan" and plan_form.is_valid():
            when = plan_form.cleaned_data.get("next_session_at")
            try:
                with transaction.atomic():
                    plan_form.save()
                    if when is not None and (booked is None or when != booked.scheduled_at):
                        TherapySession.book_next(client, when, signed_in_user(request))
            except ValueError as exc:
                plan_form.add_error("next_session_at", str(exc))
            else:
                audit.record_request(request, "update", "check_in", client=client, note="plan")
                messages.success(request, "Reminder settings saved.")
                return redirect("check_ins_staff", client_id=client.pk)
        if request.POST.get("form") == "stop":
            # No "schedule" in the form: pk=None matches nothing (Django reads it as IS NULL),
            # which django-stubs does not allow for a non-null field.
            stop = CheckInSchedule.objects.filter(client=client, pk=request.POST.get("schedule"))  # type: ignore[misc]
            stop.update(active=False)
            audit.record_request(
                request, "update", "check_in", client=client, note="schedule stopped"
            )
            return redirect("check_ins_staff", client_id=client.pk)
    return render(
        request,
        "checkins/staff_check_ins.html",
        {
            "client": client,
            "plan": plan,
            "schedules": client.check_in_schedules.filter(active=True),
            "check_ins": client.check_ins.select_related("schedule").order_by("-due_at")[:30],
            "schedule_form": schedule_form,
            "plan_form": plan_form,
        },
    )


# --- the client's data --------------------------------------------------------------------------


@client_only
def my_data_json(request: HttpRequest) -> HttpResponse:
    client = client_or_404(
        request, signed_in_user(request).client_record.pk, record_type="export", action="export"
    )
    response = JsonResponse(
        client_data(client), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = 'attachment; filename="my-alliance-data.json"'
    return response


@client_only
def my_data_summary(request: HttpRequest) -> HttpResponse:
    client = client_or_404(
        request, signed_in_user(request).client_record.pk, record_type="export", action="export"
    )
    data = client_data(client)
    data = readable(data, client_zone(data))  # times as the client reads them; JSON keeps ISO
    response = render(
        request, "checkins/my_data_summary.html", {"data": data, "you_facts": you_facts(data)}
    )
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="my-alliance-summary.html"'
    return response


@client_only
def my_data_pdf(request: HttpRequest) -> HttpResponse:
    client = client_or_404(
        request, signed_in_user(request).client_record.pk, record_type="export", action="export"
    )
    response = HttpResponse(render_pdf(client_data(client)), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-alliance-data.pdf"'
    return response
