"""Client pages, consents, care teams, break-glass access, the client's home and the clinic
admin's home."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from alliance.accounts.models import Membership, Role, User
from alliance.clients import tasks
from alliance.clients.access import (
    CLINICAL_ROLES,
    client_or_404,
    clinical_staff,
    on_care_team,
    own_client,
)
from alliance.clients.forms import (
    BreakGlassForm,
    CareTeamForm,
    ClientCreateForm,
    ConsentChangeForm,
    LanguageForm,
)
from alliance.clients.models import (
    BreakGlassAccess,
    CareTeamMember,
    ClientRecord,
    Consent,
    ConsentKind,
    ConsentText,
)
from alliance.clients.panels import CLIENT, STAFF, panels_for
from alliance.core import audit
from alliance.core.access import client_only, signed_in_user, staff, staff_membership
from alliance.core.models import AuditAction, AuditEvent

# Words for the client page's "On this page" links; other panels use their name.
SECTION_TITLES = {
    "summary": gettext_lazy("At a glance"),
    "alerts": gettext_lazy("Alerts"),
    "alliance": gettext_lazy("Alliance"),
    "check-ins": gettext_lazy("Check-ins and concerns"),
    "goals": gettext_lazy("Goals and tasks"),
    "measures": gettext_lazy("Measures"),
    "transcripts": gettext_lazy("Transcripts"),
    "journal": gettext_lazy("Journal"),
}


def consent_rows(client: ClientRecord) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for kind, label in ConsentKind.choices:
        consent = client.current_consent(kind)
        rows.append({"kind": kind, "label": label, "consent": consent})
    return rows


@staff(*CLINICAL_ROLES, Role.ADMIN)
def client_detail(request: HttpRequest, client_id: str) -> HttpResponse:
    client = client_or_404(request, client_id)
    panels = panels_for(request, client, STAFF)
    break_glass = BreakGlassAccess.objects.filter(
        client=client, started_at__gte=timezone.now() - timedelta(days=90)
    ).select_related("user")
    return render(
        request,
        "clients/client_detail.html",
        {
            "client": client,
            "care_team": client.care_team.select_related("therapist"),
            "consents": consent_rows(client),
            "break_glass": break_glass,
            "is_care_team": on_care_team(signed_in_user(request), client),
            "panels": panels,
            "sections": [
                (p["name"], SECTION_TITLES.get(p["name"], p["name"].replace("-", " ").capitalize()))
                for p in panels
            ],
        },
    )


def _change_consent(request: HttpRequest, client: ClientRecord, kind: str, granted: bool) -> str:
    """Record a consent decision; returns what happened in words."""
    current = client.current_consent(kind)
    label = ConsentKind(kind).label.lower()
    with transaction.atomic():
        if granted:
            if current is not None and current.is_active:
                return _("Consent to %(what)s was already on file.") % {"what": label}
            Consent.objects.create(
                clinic=client.clinic,
                client=client,
                kind=kind,
                text=ConsentText.current(kind),
                granted=True,
                recorded_by=signed_in_user(request),
            )
            outcome = _("Consent to %(what)s recorded.") % {"what": label}
        else:
            if current is None or not current.is_active:
                return _("There was no consent to %(what)s to withdraw.") % {"what": label}
            current.withdrawn_at = timezone.now()
            current.withdrawn_by = signed_in_user(request)
            current.save(update_fields=["withdrawn_at", "withdrawn_by"])
            outcome = _("Consent to %(what)s withdrawn.") % {"what": label}
        audit.record_request(
            request,
            "update",
            "consent",
            client=client,
            note=f"{kind}: {'granted' if granted else 'withdrawn'}",
        )
    return outcome


@clinical_staff
def client_consent_change(request: HttpRequest, client_id: str) -> HttpResponse:
    client = client_or_404(request, client_id, write=True, action="")
    if request.method != "POST":
        return redirect("client_detail", client_id=client.pk)
    form = ConsentChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That consent change was not understood; nothing was changed."))
    else:
        messages.success(
            request,
            _change_consent(
                request, client, form.cleaned_data["kind"], form.cleaned_data["granted"]
            ),
        )
    return redirect("client_detail", client_id=client.pk)


# --- Clinic admin: people and emergency access ---------------------------------------------


def _directory_client(request: HttpRequest, client_id: str) -> ClientRecord:
    try:
        return ClientRecord.objects.in_clinic_directory(signed_in_user(request)).get(pk=client_id)
    except (ClientRecord.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@staff(Role.ADMIN)
def clinic_home(request: HttpRequest) -> HttpResponse:
    """The clinic admin's home: the clinic's staff and the clients in its directory."""
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
def client_create(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    form = ClientCreateForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            user = User.objects.create_user(data["email"], full_name=data["full_name"])
            client = ClientRecord.objects.create(
                clinic=clinic,
                user=user,
                full_name=data["full_name"],
                preferred_name=data["preferred_name"],
                time_zone=data["time_zone"],
                language=data["language"],
            )
            for index, therapist in enumerate(data["therapists"]):
                CareTeamMember.objects.create(
                    clinic=clinic, client=client, therapist=therapist, is_primary=index == 0
                )
            audit.record_request(request, "create", "client_record", client=client)
        messages.success(request, _("%(name)s was added.") % {"name": client.full_name})
        return redirect("clinic_home")
    return render(request, "clients/client_form.html", {"form": form})


@staff(Role.ADMIN)
def care_team_edit(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _directory_client(request, client_id)
    current = list(client.care_team.values_list("therapist_id", flat=True))
    form = CareTeamForm(request.POST or None, clinic=client.clinic, initial={"therapists": current})
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["therapists"])
        with transaction.atomic():
            client.care_team.exclude(therapist__in=chosen).delete()
            for therapist in chosen:
                CareTeamMember.objects.get_or_create(
                    client=client, therapist=therapist, defaults={"clinic": client.clinic}
                )
            if not client.care_team.filter(is_primary=True).exists():
                client.care_team.filter(therapist=chosen[0]).update(is_primary=True)
            audit.record_request(request, "update", "care_team", client=client)
        messages.success(request, _("Care team of %(name)s saved.") % {"name": client.full_name})
        return redirect("clinic_home")
    return render(request, "clients/care_team_form.html", {"form": form, "client": client})


@staff(Role.ADMIN)
def break_glass(request: HttpRequest, client_id: str) -> HttpResponse:
    """Emergency access: a reason, a time limit, an audit entry, and the care team is told."""
    client = _directory_client(request, client_id)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            access = BreakGlassAccess.objects.create(
                clinic=client.clinic,
                client=client,
                user=signed_in_user(request),
                reason=form.cleaned_data["reason"],
            )
            audit.record_request(request, "break_glass", "break_glass", client=client)
            transaction.on_commit(lambda: tasks.notify_break_glass.enqueue(str(access.pk)))
        messages.warning(
            request,
            _("Emergency access is open until %(time)s. Everything you open is recorded.")
            % {"time": f"{timezone.localtime(access.expires_at):%H:%M}"},
        )
        return redirect("client_detail", client_id=client.pk)
    return render(request, "clients/break_glass_form.html", {"form": form, "client": client})


# --- The client's own pages -----------------------------------------------------------------


@client_only
def client_home(request: HttpRequest) -> HttpResponse:
    client = own_client(request)
    return render(
        request,
        "clients/client_home.html",
        {
            "client": client,
            "care_team": client.care_team.select_related("therapist"),
            "panels": panels_for(request, client, CLIENT),
        },
    )


@client_only
def client_access_log(request: HttpRequest) -> HttpResponse:
    """Who opened or changed my record, and when, in plain words."""
    client = own_client(request, record_type="audit_trail")
    events = (
        AuditEvent.objects.filter(client=client)
        .exclude(actor=signed_in_user(request))
        # Refused attempts are for the clinic's security log: nothing of the record was seen.
        .exclude(action=AuditAction.DENIED)
        .order_by("-at")[:200]
    )
    return render(request, "clients/client_access_log.html", {"client": client, "events": events})


@client_only
@require_POST
def client_language(request: HttpRequest) -> HttpResponse:
    """The client's own language switch (in the client layout on every client page)."""
    client = own_client(request, action="")
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That language is not available; nothing was changed."))
        return redirect("client_home")
    language = form.cleaned_data["language"]
    if language != client.language:
        client.language = language
        client.save(update_fields=["language"])
        audit.record_request(request, "update", "client_record", client=client, note="language")
    translation.activate(language)
    request.LANGUAGE_CODE = language
    messages.success(
        request,
        _("Your pages and emails are now in %(language)s.")
        % {"language": translation.get_language_info(language)["name_local"]},
    )
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("client_home")


@client_only
def client_consents(request: HttpRequest) -> HttpResponse:
    client = own_client(
        request, record_type="consent", action="" if request.method == "POST" else "view"
    )
    if request.method == "POST":
        form = ConsentChangeForm(request.POST)
        if not form.is_valid():
            messages.error(
                request, _("That consent change was not understood; nothing was changed.")
            )
        else:
            messages.success(
                request,
                _change_consent(
                    request, client, form.cleaned_data["kind"], form.cleaned_data["granted"]
                ),
            )
        return redirect("client_consents")
    texts = {t.kind: t for t in ConsentText.objects.order_by("kind", "version")}
    rows = consent_rows(client)
    for row in rows:
        row["text"] = texts.get(row["kind"])
    return render(request, "clients/client_consents.html", {"client": client, "consents": rows})
