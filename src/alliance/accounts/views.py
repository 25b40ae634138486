"""Client sign-in by emailed link, and the clinic admin's people, settings and audit pages."""

from __future__ import annotations

from datetime import datetime, time

from allauth.account.forms import ResetPasswordForm
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from sesame.backends import ModelBackend as SesameBackend
from sesame.utils import get_query_string

from alliance.accounts import signin_limits
from alliance.accounts.forms import (
    AuditSearchForm,
    ClientSigninForm,
    ClinicSettingsForm,
    MyTimeZoneForm,
    StaffCreateForm,
)
from alliance.accounts.models import CLINICAL_ROLES, STAFF_ROLES, Membership, Role, User
from alliance.clients.models import ClientRecord
from alliance.core import audit
from alliance.core.access import public, signed_in_user, staff, staff_membership
from alliance.core.languages import language_for, use_client_language
from alliance.core.models import AuditAction, AuditEvent


def send_client_signin_link(request: HttpRequest, user: User) -> None:
    link = request.build_absolute_uri(reverse("client_signin_link")) + get_query_string(user)
    # In the client's own language, whatever the browser that asked for the link prefers.
    with translation.override(language_for(user)):
        body = render_to_string(
            "accounts/email/client_signin.txt",
            {"link": link, "minutes": settings.CLIENT_LINK_MINUTES, "user": user},
        )
        subject = _("Your sign-in link")
    send_mail(subject, body, None, [user.email])


@public
def client_signin(request: HttpRequest) -> HttpResponse:
    """Ask for an email address and send a single-use sign-in link.

    The answer is the same whether or not the address is known, so the page never tells
    anyone who is a client here.
    """
    form = ClientSigninForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if signin_limits.may_send_link(email, audit.client_ip(request)):
            user = User.objects.filter(
                email=email,
                is_active=True,
                client_record__isnull=False,
                client_record__status=ClientRecord.Status.ACTIVE,
                memberships__isnull=True,
            ).first()
            if user is not None:
                send_client_signin_link(request, user)
        return redirect("client_signin_sent")
    return render(request, "accounts/client_signin.html", {"form": form})


@public
def client_signin_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/client_signin_sent.html", {"minutes": settings.CLIENT_LINK_MINUTES}
    )


@public
def client_signin_link(request: HttpRequest) -> HttpResponse:
    """The link from the email. GET shows a button; POST signs in.

    Mail scanners open links; only a deliberate press of the button uses up the token.
    """
    token = (request.POST if request.method == "POST" else request.GET).get(
        settings.SESAME_TOKEN_NAME, ""
    )
    if request.method == "POST":
        ip = audit.client_ip(request)
        owner = signin_limits.token_owner(token)
        paused_for_client = signin_limits.link_paused_for_client(owner)
        if paused_for_client or signin_limits.link_paused_for_ip(ip):
            return render(
                request,
                "accounts/client_link_paused.html",
                {"minutes": signin_limits.pause_minutes(), "for_client": paused_for_client},
                status=429,
            )
        # The sesame backend directly, not authenticate(): django-axes would file a failed
        # link under an empty username and lock every client out. Failures are counted per
        # client and per address by signin_limits instead.
        user = SesameBackend().authenticate(request, sesame=token) if token else None
        if (
            user is None
            or getattr(user, "client_record", None) is None
            or user.membership is not None
            or user.client_record.status != ClientRecord.Status.ACTIVE
        ):
            signin_limits.record_link_failure(owner, ip)
            return render(
                request,
                "accounts/client_link_invalid.html",
                {"form": ClientSigninForm(), "minutes": settings.CLIENT_LINK_MINUTES},
                status=400,
            )
        signin_limits.clear_link_failures(str(user.pk))
        # login() updates last_login, which invalidates this one-time token.
        login(request, user, backend="sesame.backends.ModelBackend")
        return redirect("client_home")
    if not token:
        return redirect("client_signin")
    # The link names its client: their page is in their language (the token is checked on POST;
    # a forged one only chooses the language of this one page).
    owner = signin_limits.token_owner(token)
    record = ClientRecord.objects.filter(user_id=owner).only("language").first() if owner else None
    if record is not None:
        use_client_language(request, record)
    return render(request, "accounts/client_link_confirm.html", {"token": token})


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
def clinic_home(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    members = (
        Membership.objects.filter(clinic=clinic)
        .select_related("user")
        .order_by("role", "user__full_name")
    )
    clients = (
        ClientRecord.objects.in_clinic_directory(signed_in_user(request))
        .prefetch_related("care_team__therapist")
        .order_by("full_name")
    )
    return render(
        request,
        "accounts/clinic_home.html",
        {"clinic": clinic, "members": members, "clients": clients},
    )


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
