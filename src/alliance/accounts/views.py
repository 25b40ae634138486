"""A staff member's own settings, and the clinic admin's staff, settings and audit pages.

Client sign-in and the clinic admin's home (it lists clients) live in ``alliance.clients``."""

from __future__ import annotations

from datetime import datetime, time

from allauth.account.forms import ResetPasswordForm
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alliance.accounts.forms import (
    AuditSearchForm,
    ClinicSettingsForm,
    MyTimeZoneForm,
    StaffCreateForm,
)
from alliance.accounts.models import CLINICAL_ROLES, STAFF_ROLES, Membership, Role, User
from alliance.core import audit
from alliance.core.access import signed_in_user, staff, staff_membership
from alliance.core.models import AuditAction, AuditEvent

# --- Any staff member: their own settings ---------------------------------------------------


@staff(*STAFF_ROLES)
def my_settings(request: HttpRequest) -> HttpResponse:
    """A staff member's own time zone (every page, email and PDF they get uses it)."""
    membership = staff_membership(request)
    form = MyTimeZoneForm(
        request.POST or None,
        initial={"time_zone": membership.time_zone, "language": signed_in_user(request).language},
        clinic_zone=membership.clinic.time_zone,
    )
    if request.method == "POST" and form.is_valid():
        membership.time_zone = form.cleaned_data["time_zone"]
        membership.save(update_fields=["time_zone"])
        user = signed_in_user(request)
        if user.language != form.cleaned_data["language"]:
            user.language = form.cleaned_data["language"]
            user.save(update_fields=["language"])
            translation.activate(user.language)
        shown = membership.time_zone or _("the clinic's time zone, %(zone)s") % {
            "zone": membership.clinic.time_zone
        }
        messages.success(request, _("Saved. Times are now shown in %(zone)s.") % {"zone": shown})
        return redirect("my_settings")
    return render(request, "accounts/my_settings.html", {"form": form, "membership": membership})


@staff(*CLINICAL_ROLES)
@require_POST
def tour(request: HttpRequest) -> HttpResponse:
    """Hide the first-sign-in tour ("dismiss"), or show it again ("show", from My settings)."""
    membership = staff_membership(request)
    membership.tour_dismissed_at = None if request.POST.get("action") == "show" else timezone.now()
    membership.save(update_fields=["tour_dismissed_at"])
    # Back to the page the tour was dismissed on (the form does not echo the page's own path,
    # so pages for different records stay byte-identical apart from their content).
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("caseload")
    return redirect(back)


# --- Clinic admin -------------------------------------------------------------------------


@staff(Role.ADMIN)
def staff_create(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = User.objects.create_user(
                form.cleaned_data["email"], full_name=form.cleaned_data["full_name"]
            )
            Membership.objects.create(clinic=clinic, user=user, role=form.cleaned_data["role"])
        # The new colleague chooses their own password through the reset flow, then sets
        # up MFA on first sign-in.
        reset = ResetPasswordForm(data={"email": user.email})
        if reset.is_valid():
            reset.save(request)
        messages.success(
            request,
            _("%(name)s was added. We emailed them a link to choose a password.")
            % {"name": user.full_name},
        )
        return redirect("clinic_home")
    return render(request, "accounts/staff_form.html", {"form": form})


@staff(Role.ADMIN)
def clinic_settings(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    form = ClinicSettingsForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Clinic settings saved."))
        return redirect("clinic_settings")
    return render(request, "accounts/clinic_settings.html", {"form": form})


@staff(Role.ADMIN)
def audit_search(request: HttpRequest) -> HttpResponse:
    """Search the audit trail of the admin's own clinic."""
    clinic = staff_membership(request).clinic
    form = AuditSearchForm(request.GET or None)
    events = AuditEvent.objects.filter(clinic=clinic).select_related("client")
    if form.is_valid():
        data = form.cleaned_data
        if data["client"]:
            events = events.filter(client_id=data["client"])
        if data["actor"]:
            events = events.filter(
                Q(actor_name__icontains=data["actor"]) | Q(actor__email__icontains=data["actor"])
            )
        if data["action"]:
            events = events.filter(action=data["action"])
        zone = timezone.get_current_timezone()
        if data["date_from"]:
            events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, zone))
        if data["date_to"]:
            events = events.filter(at__lte=datetime.combine(data["date_to"], time.max, zone))
    page = Paginator(events.order_by("-seq"), 50).get_page(request.GET.get("page"))
    audit.record_request(request, "view", "audit_trail", note="admin search")
    return render(request, "accounts/audit_search.html", {"form": form, "page": page})


@staff(Role.ADMIN, Role.SUPERVISOR)
def security_log(request: HttpRequest) -> HttpResponse:
    """Refused access in the admin's or supervisor's clinic: who tried what kind of record,
    when and from where (one entry per person and record every few minutes)."""
    clinic = staff_membership(request).clinic
    events = AuditEvent.objects.filter(clinic=clinic, action=AuditAction.DENIED).order_by("-seq")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    audit.record_request(request, "view", "security_log")
    return render(request, "accounts/security_log.html", {"page": page})
