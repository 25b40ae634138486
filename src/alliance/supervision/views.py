"""Reflection journal, sharing with a supervisor, comments, agenda, supervisor dashboard and the
clinic admin's supervision links."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alliance.accounts.models import Role
from alliance.clients.access import client_or_404, clinical_staff, on_care_team, owned_or_404
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core import audit
from alliance.core.access import signed_in_user, staff, staff_membership
from alliance.core.dedupe import recent_duplicate
from alliance.core.http import HtmxHttpRequest
from alliance.lib.charts import Marker
from alliance.supervision import alliance, content, dashboard
from alliance.supervision.forms import CommentForm, JournalEntryForm, LinkForm, ShareForm
from alliance.supervision.models import (
    Comment,
    JournalEntry,
    Reaction,
    SharedItem,
    ShareKind,
    SupervisionLink,
)
from alliance.transcripts.models import Transcript

audit.register_record_type(
    "journal_entry", gettext_noop("your therapist's private reflection notes")
)
audit.register_record_type(
    "supervision_item", gettext_noop("an item your therapist shared with their supervisor")
)


# --- Journal --------------------------------------------------------------------------------


@clinical_staff
def journal_list(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = client_or_404(request, client_id, write=True, record_type="journal_entry")
    entries = (
        JournalEntry.objects.written_by(signed_in_user(request))
        .filter(client=client)
        .select_related("session")
    )
    return render(request, "supervision/journal_list.html", {"client": client, "entries": entries})


@clinical_staff
def journal_new(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = client_or_404(request, client_id, write=True, record_type="journal_entry", action="")
    sessions = TherapySession.objects.filter(client=client).order_by("-number")
    initial = {"session": request.GET.get("session", "")}
    form = JournalEntryForm(
        request.POST if request.method == "POST" else None, sessions=sessions, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        session = sessions.filter(pk=data["session"]).first() if data["session"] else None
        entry = JournalEntry(
            clinic=client.clinic,
            therapist=signed_in_user(request),
            client=client,
            session=session,
            felt=data["felt"],
            echoes=data["echoes"],
            stirred=data["stirred"],
            effect=data["effect"],
            plan=data["plan"],
        )
        entry.set_structured(form.tags(), data["steps"])
        fields = ("session_id", "felt", "echoes", "stirred", "effect", "plan", "structured")
        same = recent_duplicate(
            JournalEntry.objects.filter(therapist=signed_in_user(request), client=client),
            {f: getattr(entry, f) for f in fields},
            time_field="written_at",
        )
        if same is not None:  # double submit: show the entry already saved
            messages.info(request, _("This entry was already saved; it is kept once."))
            return redirect("journal_detail", entry_id=same.pk)
        with transaction.atomic():
            entry.save()
            audit.record_request(request, "create", "journal_entry", client=client)
        messages.success(request, _("Journal entry saved. Only you can read it."))
        return redirect("journal_detail", entry_id=entry.pk)
    return render(request, "supervision/journal_form.html", {"client": client, "form": form})


@clinical_staff
def journal_detail(request: HttpRequest, entry_id: uuid.UUID) -> HttpResponse:
    # The author's own entries, while they are still on the client's care team.
    entry, client = owned_or_404(
        request,
        JournalEntry.objects.written_by(signed_in_user(request)).select_related(
            "client", "session"
        ),
        entry_id,
        write=True,
        record_type="journal_entry",
    )
    supervisors = SupervisionLink.supervisors_of(signed_in_user(request))
    shares = SharedItem.objects.filter(
        therapist=signed_in_user(request), kind=ShareKind.JOURNAL_ENTRY, object_id=entry.pk
    )
    return render(
        request,
        "supervision/journal_detail.html",
        {
            "entry": entry,
            "client": client,
            "has_supervisor": supervisors.exists(),
            "consent": client.has_consent("supervision"),
            "shares": shares,
        },
    )


# --- Sharing --------------------------------------------------------------------------------


def _validate_target(
    request: HttpRequest, client: ClientRecord, kind: str, object_id: Any, start: Any
) -> dict[str, Any] | None:
    """What the item points to must be the therapist's own and about this client."""
    if kind == ShareKind.JOURNAL_ENTRY:
        ok = (
            object_id
            and JournalEntry.objects.written_by(signed_in_user(request))
            .filter(pk=object_id, client=client)
            .exists()
        )
        return {} if ok else None
    if kind == ShareKind.TRANSCRIPT_FEEDBACK:
        ok = (
            object_id
            and Transcript.objects.filter(
                pk=object_id, client=client, uploaded_by=signed_in_user(request)
            ).exists()
        )
        return {} if ok else None
    if kind == ShareKind.RUPTURE_EPISODE:
        starts = {
            e["start_session"]
            for e in alliance.ruptures(alliance.alliance_series(client), client.clinic)
        }
        return {"start_session": int(start)} if start in starts else None
    return {}


@clinical_staff
def share_new(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = client_or_404(
        request, client_id, write=True, record_type="supervision_item", action=""
    )
    supervisors = SupervisionLink.supervisors_of(signed_in_user(request))
    initial = {
        "kind": request.GET.get("kind", ShareKind.ALLIANCE_TIMELINE),
        "object_id": request.GET.get("object", ""),
        "start_session": request.GET.get("start", ""),
        "supervisor": supervisors.first(),
    }
    form = ShareForm(
        request.POST if request.method == "POST" else None, supervisors=supervisors, initial=initial
    )
    consent = client.has_consent("supervision")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = _validate_target(
            request, client, data["kind"], data["object_id"], data["start_session"]
        )
        if params is None:
            raise Http404
        with transaction.atomic():
            item = SharedItem.objects.create(
                clinic=client.clinic,
                therapist=signed_in_user(request),
                supervisor=data["supervisor"],
                client=client,
                kind=data["kind"],
                object_id=data["object_id"]
                if data["kind"] in (ShareKind.JOURNAL_ENTRY, ShareKind.TRANSCRIPT_FEEDBACK)
                else None,
                params=params,
                question=data["question"],
            )
            audit.record_request(
                request,
                "send",
                "supervision_item",
                client=client,
                note=f"kind={item.kind}; identifiable={consent}",
            )
        messages.success(
            request,
            (
                _("Shared with %(name)s.")
                if consent
                else _(
                    "Shared with %(name)s as a de-identified version: the client has not "
                    "consented to supervision."
                )
            )
            % {"name": data["supervisor"].full_name},
        )
        return redirect("shared_item", item_id=item.pk)
    return render(
        request,
        "supervision/share_form.html",
        {
            "client": client,
            "form": form,
            "consent": consent,
            "has_supervisor": supervisors.exists(),
        },
    )


def _visible_item(request: HttpRequest, item_id: Any) -> SharedItem:
    item = (
        SharedItem.objects.visible_to(signed_in_user(request))
        .select_related("client", "therapist", "supervisor")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404
    return item


def _item_context(request: HttpRequest, item: SharedItem) -> dict[str, Any]:
    is_author = item.therapist_id == request.user.pk
    identifiable = item.identifiable()
    return {
        "item": item,
        "is_author": is_author,
        "identifiable": identifiable,
        "client_label": item.client_label(signed_in_user(request)),
        # The author always sees their own material in full.
        "c": content.build(item, identifiable or is_author),
        "show_question": bool(item.question) and (is_author or identifiable),
        "comments": item.comments_for(signed_in_user(request)),
        "form": CommentForm(),
    }


@clinical_staff
def shared_item(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    item = _visible_item(request, item_id)
    audit.record(
        clinic=item.clinic,
        actor=signed_in_user(request),
        action="view",
        record_type="supervision_item",
        client=item.client,
        request=request,
        note=f"identifiable={item.identifiable()}",
    )
    return render(request, "supervision/shared_item.html", _item_context(request, item))


@clinical_staff
def comment_post(request: HtmxHttpRequest, item_id: uuid.UUID) -> HttpResponse:
    item = _visible_item(request, item_id)
    if request.method != "POST":
        return redirect("shared_item", item_id=item.pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = item.comments.filter(pk=form.cleaned_data["parent"]).first()
        with transaction.atomic():
            Comment.objects.create(
                clinic=item.clinic,
                item=item,
                parent=parent,
                author=signed_in_user(request),
                body=form.cleaned_data["body"],
                written_identifiable=item.identifiable(),
            )
            audit.record(
                clinic=item.clinic,
                actor=signed_in_user(request),
                action="create",
                record_type="supervision_item",
                client=item.client,
                request=request,
                note="comment",
            )
        messages.success(request, _("Comment added."))
    else:
        messages.error(request, _("Write a comment before sending."))
    if request.htmx:
        context = _item_context(request, item)
        return render(request, "supervision/_comments_partial.html", context)
    return redirect("shared_item", item_id=item.pk)


@clinical_staff
def item_resolve(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    item = _visible_item(request, item_id)
    if request.method == "POST":
        item.resolved_at = None if item.resolved_at else timezone.now()
        item.resolved_by = signed_in_user(request) if item.resolved_at else None
        item.save(update_fields=["resolved_at", "resolved_by"])
        messages.success(
            request, _("Marked as discussed.") if item.resolved_at else _("Back on the agenda.")
        )
    return redirect("shared_item", item_id=item.pk)


@clinical_staff
def item_unshare(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    item = _visible_item(request, item_id)
    if item.therapist_id != request.user.pk:
        raise Http404
    if request.method == "POST" and item.unshared_at is None:
        item.unshared_at = timezone.now()
        item.save(update_fields=["unshared_at"])
        audit.record(
            clinic=item.clinic,
            actor=request.user,
            action="update",
            record_type="supervision_item",
            client=item.client,
            request=request,
            note="unshared",
        )
        messages.success(request, _("No longer shared: your supervisor cannot open it any more."))
    return redirect("shared_item", item_id=item.pk)


@clinical_staff
def my_shared(request: HttpRequest) -> HttpResponse:
    items = SharedItem.objects.filter(therapist=signed_in_user(request)).select_related(
        "client", "supervisor"
    )
    return render(request, "supervision/my_shared.html", {"items": items})


# --- Supervisor ------------------------------------------------------------------------------


def _agenda_items(supervisor: Any) -> Any:
    return SharedItem.objects.visible_to(supervisor).filter(supervisor=supervisor).unresolved()


def _agenda_rows(supervisor: Any) -> list[dict[str, Any]]:
    """The unresolved items shared with the supervisor, with the comments each may see: consent
    and comments are read for all items at once, not item by item."""
    items = list(
        _agenda_items(supervisor)
        .select_related("client", "therapist")
        .annotate(
            n_comments=Count("comments", distinct=True),
            n_deidentified_comments=Count(
                "comments", distinct=True, filter=Q(comments__written_identifiable=False)
            ),
        )
        .order_by("therapist__full_name", "shared_at")
    )
    consented = dashboard.consented_client_ids(
        supervisor.membership.clinic, {i.client_id for i in items}
    )
    rows = []
    for i in items:
        identifiable = i.client_id in consented
        # As SharedItem.comments_for: without consent the supervisor sees only the comments
        # written while the item was de-identified; its author sees them all.
        own = i.therapist_id == supervisor.pk
        rows.append(
            {
                "item": i,
                "client_label": i.client_label(supervisor, identifiable=identifiable),
                "identifiable": identifiable,
                "comments": i.n_comments if own or identifiable else i.n_deidentified_comments,
            }
        )
    return rows


@staff(Role.SUPERVISOR)
def agenda(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/agenda.html", {"rows": _agenda_rows(request.user)})


@staff(Role.SUPERVISOR)
def supervisor_dashboard(request: HttpRequest) -> HttpResponse:
    """Every supervisee's counts, consented detail and skill trends, read for all supervisees at
    once: the number of queries grows neither with their caseloads nor with their number."""
    user = signed_in_user(request)
    clinic = staff_membership(request).clinic
    therapists = list(SupervisionLink.supervisees_of(user).order_by("full_name"))
    counts = dashboard.alert_counts_for(clinic, therapists)
    details = dashboard.consented_details(
        user,
        {
            t.pk: counts[t.pk].get("flagged_client_ids", set())
            for t in therapists
            if counts[t.pk].get("available")
        },
    )
    skills = dashboard.skill_trends_for(clinic, therapists)
    supervisees = [
        {
            "therapist": t,
            "counts": counts[t.pk],
            "detail": details.get(t.pk, []),
            "skills": skills[t.pk],
        }
        for t in therapists
    ]
    return render(
        request,
        "supervision/dashboard.html",
        {"supervisees": supervisees, "agenda_count": _agenda_items(user).count()},
    )


# --- Clinic admin ----------------------------------------------------------------------------


@staff(Role.ADMIN)
def links(request: HttpRequest) -> HttpResponse:
    clinic = staff_membership(request).clinic
    form = LinkForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and request.POST.get("end"):
        link = (
            SupervisionLink.objects.active().filter(clinic=clinic, pk=request.POST["end"]).first()
        )
        if link is None:
            raise Http404
        link.ended_at = timezone.now()
        link.save(update_fields=["ended_at"])
        messages.success(
            request,
            _("%(supervisor)s no longer supervises %(supervisee)s.")
            % {"supervisor": link.supervisor, "supervisee": link.supervisee},
        )
        return redirect("supervision_links")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _link, created = SupervisionLink.objects.get_or_create(
            clinic=clinic,
            supervisor=data["supervisor"],
            supervisee=data["supervisee"],
            ended_at=None,
            defaults={"created_by": request.user},
        )
        messages.success(
            request,
            _("%(supervisor)s now supervises %(supervisee)s.")
            % {"supervisor": data["supervisor"], "supervisee": data["supervisee"]}
            if created
            else _("That link already exists."),
        )
        return redirect("supervision_links")
    current = (
        SupervisionLink.objects.active()
        .filter(clinic=clinic)
        .select_related("supervisor", "supervisee")
    )
    return render(request, "supervision/links.html", {"form": form, "links": current})


# --- Client-page panel ------------------------------------------------------------------------


def journal_panel_context(request: HttpRequest, client: ClientRecord) -> dict[str, Any] | None:
    """For the therapist: their own entries as markers beside the alliance, and the pattern
    view. For a clinic admin under break-glass: only that entries exist. Nobody else: nothing."""
    user = signed_in_user(request)
    role = user.role
    if role == Role.ADMIN:
        count = JournalEntry.objects.filter(client=client).count()
        return {"break_glass": True, "count": count} if count else None
    if not on_care_team(user, client):
        return None
    entries = list(
        JournalEntry.objects.written_by(user).filter(client=client).select_related("session")
    )
    points = alliance.alliance_series(client)
    episodes = alliance.ruptures(points, client.clinic)
    index = {p.session: i for i, p in enumerate(points)}
    labels = dict(Reaction.choices)
    markers = []
    for e in entries:
        n = e.session_number
        if n is not None and n in index:
            tags = ", ".join(f"{labels[t].lower()} {v}" for t, v in sorted(e.tags.items()))
            markers.append(Marker(index[n], f"Journal, session {n}{': ' + tags if tags else ''}"))
    dips = [ep["start_session"] for ep in episodes]
    transcripts = list(
        Transcript.objects.filter(client=client, uploaded_by=user, status="done").select_related(
            "session"
        )[:10]
    )
    pattern = alliance.co_occurrence([(e.session_number, e.tags) for e in entries], dips, labels)
    return {
        "break_glass": False,
        "client": client,
        "entries": entries[:8],
        "n_entries": len(entries),
        "chart": content.alliance_chart(points, markers) if points else None,
        "points": points,
        "episodes": episodes,
        "pattern": pattern,
        "window": alliance.PRECEDES_WINDOW,
        "transcripts": transcripts,
    }
