"""Sharing with a supervisor: consent decides identifiability at read time; comments; agenda."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from alliance.clients.models import Consent
from alliance.core.models import AuditEvent
from alliance.supervision.models import Comment, SharedItem, ShareKind, SupervisionLink
from tests.conftest import grant, sign_in
from tests.supervision.helpers import alliance_series, entry, link

SECRET = "Her silences make me want to fill the room"


def _share(client, personas, e, question="Why do I rush?"):
    return client.post(
        reverse("share_new", args=[personas.client.pk]),
        {
            "kind": ShareKind.JOURNAL_ENTRY,
            "object_id": str(e.pk),
            "supervisor": str(personas.supervisor.pk),
            "question": question,
        },
    )


def test_share_with_consent_is_identifiable_and_supervisor_comments(client, personas):
    link(personas)
    grant(personas.client, "supervision", personas.therapist)
    e = entry(personas.client, personas.therapist, felt=SECRET, tags={"anxiety": 6})
    sign_in(client, personas.therapist)
    response = _share(client, personas, e)
    item = SharedItem.objects.get()
    assert response.status_code == 302 and item.supervisor == personas.supervisor
    sign_in(client, personas.supervisor)
    page = client.get(reverse("shared_item", args=[item.pk])).content.decode()
    assert (
        "Cleo Client" in page
        and SECRET in page
        and "Why do I rush?" in page
        and "Anxiety 6/10" in page
    )
    assert AuditEvent.objects.filter(
        record_type="supervision_item", actor=personas.supervisor, action="view"
    ).exists()
    agenda = client.get(reverse("supervision_agenda")).content.decode()
    assert "Cleo Client" in agenda and "A journal entry" in agenda
    client.post(
        reverse("shared_item_comment", args=[item.pk]), {"body": "Notice the urge; try a pause."}
    )
    first = Comment.objects.get()
    assert first.written_identifiable and first.author == personas.supervisor
    # The therapist sees the comment on the item and replies in the thread.
    sign_in(client, personas.therapist)
    assert (
        "Notice the urge; try a pause."
        in client.get(reverse("shared_item", args=[item.pk])).content.decode()
    )
    reply = client.post(
        reverse("shared_item_comment", args=[item.pk]),
        {"body": "Will try.", "parent": str(first.pk)},
        HTTP_HX_REQUEST="true",
    )
    assert (
        reply.status_code == 200
        and b'id="comment-thread"' in reply.content
        and b"<html" not in reply.content
    )
    assert Comment.objects.get(body__isnull=False, parent=first).author == personas.therapist
    # Discussed: leaves the agenda.
    sign_in(client, personas.supervisor)
    client.post(reverse("shared_item_resolve", args=[item.pk]))
    assert "Nothing on the agenda" in client.get(reverse("supervision_agenda")).content.decode()


def test_without_consent_the_supervisor_gets_a_de_identified_version(client, personas):
    link(personas)
    e = entry(personas.client, personas.therapist, felt=SECRET, tags={"irritation": 8})
    sign_in(client, personas.therapist)
    form = client.get(
        reverse("share_new", args=[personas.client.pk]) + f"?kind=journal_entry&object={e.pk}"
    )
    assert b"de-identified version" in form.content
    _share(client, personas, e, question="About Cleo's silences")
    item = SharedItem.objects.get()
    sign_in(client, personas.supervisor)
    page = client.get(reverse("shared_item", args=[item.pk])).content.decode()
    assert personas.client.pseudonym in page and "Irritation 8/10" in page
    assert "Cleo" not in page and SECRET not in page and "About Cleo" not in page
    agenda = client.get(reverse("supervision_agenda")).content.decode()
    assert personas.client.pseudonym in agenda and "Cleo" not in agenda


def test_withdrawing_consent_hides_identifiable_content_at_once(client, personas):
    link(personas)
    consent = grant(personas.client, "supervision", personas.therapist)
    e = entry(personas.client, personas.therapist, felt=SECRET, tags={"hopelessness": 4})
    sign_in(client, personas.therapist)
    _share(client, personas, e)
    item = SharedItem.objects.get()
    sign_in(client, personas.supervisor)
    client.post(
        reverse("shared_item_comment", args=[item.pk]), {"body": "Cleo's pattern with her mother?"}
    )
    assert SECRET in client.get(reverse("shared_item", args=[item.pk])).content.decode()
    # The client withdraws (recorded by the therapist on the client page).
    sign_in(client, personas.therapist)
    client.post(
        reverse("client_consent_change", args=[personas.client.pk]),
        {"kind": "supervision", "granted": "no"},
    )
    assert Consent.objects.get(pk=consent.pk).withdrawn_at is not None
    sign_in(client, personas.supervisor)
    page = client.get(reverse("shared_item", args=[item.pk])).content.decode()
    assert SECRET not in page and "Cleo" not in page and "mother" not in page
    assert personas.client.pseudonym in page and "Hopelessness 4/10" in page
    # The therapist still sees their own material and the whole thread.
    sign_in(client, personas.therapist)
    own = client.get(reverse("shared_item", args=[item.pk])).content.decode()
    assert SECRET in own and "mother" in own and "de-identified version" in own


def test_only_the_linked_supervisor_sees_shared_items(client, personas):
    the_link = link(personas)
    grant(personas.client, "supervision", personas.therapist)
    e = entry(personas.client, personas.therapist, felt=SECRET)
    sign_in(client, personas.therapist)
    _share(client, personas, e)
    item = SharedItem.objects.get()
    url = reverse("shared_item", args=[item.pk])
    for name in ("colleague", "foreign_therapist", "admin", "client", "other_client"):
        sign_in(client, personas.all()[name])
        assert client.get(url).status_code == 404, name
        assert (
            client.post(reverse("shared_item_comment", args=[item.pk]), {"body": "x"}).status_code
            == 404
        )
    # The link ends: the supervisor loses access at once.
    the_link.ended_at = timezone.now()
    the_link.save()
    sign_in(client, personas.supervisor)
    assert client.get(url).status_code == 404
    # Stop sharing: gone for the supervisor even with a new link.
    SupervisionLink.objects.create(
        clinic=personas.clinic,
        supervisor=personas.supervisor,
        supervisee=personas.therapist,
        created_by=personas.admin,
    )
    assert client.get(url).status_code == 200
    sign_in(client, personas.therapist)
    client.post(reverse("shared_item_unshare", args=[item.pk]))
    sign_in(client, personas.supervisor)
    assert client.get(url).status_code == 404


def test_cannot_share_what_is_not_yours_or_without_a_supervisor(client, personas):
    grant(personas.client, "supervision", personas.therapist)
    e = entry(personas.client, personas.therapist, felt=SECRET)
    sign_in(client, personas.therapist)
    assert (
        b"no supervisor yet" in client.get(reverse("share_new", args=[personas.client.pk])).content
    )
    assert _share(client, personas, e).status_code == 200 and not SharedItem.objects.exists()
    link(personas)
    other = entry(personas.other_client, personas.colleague, felt="colleague's")
    response = client.post(
        reverse("share_new", args=[personas.client.pk]),
        {
            "kind": ShareKind.JOURNAL_ENTRY,
            "object_id": str(other.pk),
            "supervisor": str(personas.supervisor.pk),
        },
    )
    assert response.status_code == 404 and not SharedItem.objects.exists()


def test_alliance_timeline_and_rupture_episode_shared_as_numbers(client, personas):
    link(personas)
    alliance_series(
        personas.client, [5.5, 5.6, 5.4, 2.0, 5.5], timezone.now() - dt.timedelta(days=40)
    )
    sign_in(client, personas.therapist)
    client.post(
        reverse("share_new", args=[personas.client.pk]),
        {
            "kind": "rupture_episode",
            "start_session": "4",
            "supervisor": str(personas.supervisor.pk),
        },
    )
    assert (
        client.post(
            reverse("share_new", args=[personas.client.pk]),
            {
                "kind": "rupture_episode",
                "start_session": "2",
                "supervisor": str(personas.supervisor.pk),
            },
        ).status_code
        == 404
    )
    item = SharedItem.objects.get()
    sign_in(client, personas.supervisor)
    page = client.get(reverse("shared_item", args=[item.pk])).content.decode()
    assert (
        "Rupture from session 4" in page
        and "repaired" in page
        and "<svg" in page
        and personas.client.pseudonym in page
    )


def test_admin_sets_supervision_links(client, personas):
    sign_in(client, personas.admin)
    url = reverse("supervision_links")
    client.post(
        url, {"supervisor": str(personas.supervisor.pk), "supervisee": str(personas.therapist.pk)}
    )
    assert (
        SupervisionLink.objects.active()
        .filter(supervisor=personas.supervisor, supervisee=personas.therapist)
        .exists()
    )
    assert (
        b"cannot supervise themselves"
        in client.post(
            url,
            {"supervisor": str(personas.supervisor.pk), "supervisee": str(personas.supervisor.pk)},
        ).content
    )
    the_link = SupervisionLink.objects.get()
    client.post(url, {"end": str(the_link.pk)})
    assert not SupervisionLink.objects.active().exists()
    for name in ("therapist", "supervisor"):
        sign_in(client, personas.all()[name])
        assert client.get(url).status_code == 404
