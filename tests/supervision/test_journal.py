"""The reflection journal: written by the therapist, encrypted, and never leaking."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance.clients.models import BreakGlassAccess, CareTeamMember
from alliance.exports.data import client_data
from alliance.supervision.alliance import co_occurrence
from alliance.supervision.models import JournalEntry, Reaction
from tests.conftest import sign_in
from tests.supervision.helpers import alliance_series, entry, link, session

SECRET = "I felt a pull to rescue her, like with my sister"


def test_therapist_writes_an_entry_with_prompts_tags_and_session(client, personas):
    s3 = session(personas.client, personas.therapist, 3)
    sign_in(client, personas.therapist)
    page = client.get(reverse("journal_new", args=[personas.client.pk]))
    assert page.status_code == 200
    assert b"What did I feel toward the client today?" in page.content
    assert b"Over-involvement" in page.content
    response = client.post(
        reverse("journal_new", args=[personas.client.pk]),
        {
            "session": str(s3.pk),
            "felt": SECRET,
            "effect": "I talk more than she does",
            "steps": ["supervision"],
            "tag_protectiveness": "8",
            "tag_anxiety": "3",
        },
    )
    saved = JournalEntry.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "journal_detail", args=[saved.pk]
    )
    assert saved.session == s3 and saved.tags == {"protectiveness": 8, "anxiety": 3}
    assert saved.steps == ["supervision"] and saved.therapist == personas.therapist
    detail = client.get(response["Location"])
    assert SECRET.encode() in detail.content and b"Protectiveness 8/10" in detail.content


def test_a_double_submitted_entry_is_saved_once(client, personas):
    sign_in(client, personas.therapist)
    url = reverse("journal_new", args=[personas.client.pk])
    data = {"felt": SECRET, "steps": ["supervision"], "tag_anxiety": "3"}
    first = client.post(url, data)
    again = client.post(url, data, follow=True)
    (saved,) = JournalEntry.objects.all()
    assert first["Location"] == reverse("journal_detail", args=[saved.pk])
    assert b"already saved" in again.content
    client.post(url, {**data, "tag_anxiety": "4"})  # a different entry is a new one
    assert JournalEntry.objects.count() == 2


def test_empty_entry_is_refused_and_intensity_is_bounded(client, personas):
    sign_in(client, personas.therapist)
    url = reverse("journal_new", args=[personas.client.pk])
    assert b"Write something" in client.post(url, {}).content
    assert client.post(url, {"tag_boredom": "11"}).status_code == 200
    assert not JournalEntry.objects.exists()


def test_every_journal_field_is_encrypted_at_rest(personas):
    e = entry(
        personas.client,
        personas.therapist,
        felt=SECRET,
        tags={"irritation": 6},
        plan="take it to supervision",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT felt, structured, plan FROM supervision_journalentry WHERE id = %s", [e.pk.hex]
        )
        row = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in row)
    assert "irritation" not in row[1] and SECRET not in row[0]


def test_nobody_but_the_author_can_open_the_journal(client, personas):
    e = entry(personas.client, personas.therapist, felt=SECRET)
    link(personas)  # even the therapist's own supervisor
    # A supervisor and a colleague co-treating the client still cannot read the entry.
    for other in (personas.supervisor, personas.colleague):
        CareTeamMember.objects.create(
            clinic=personas.clinic, client=personas.client, therapist=other
        )
    for name, user in personas.all().items():
        if name == "therapist":
            continue
        sign_in(client, user)
        list_url = reverse("journal_list", args=[personas.client.pk])
        for url in (reverse("journal_detail", args=[e.pk]), list_url):
            response = client.get(url)
            assert SECRET.encode() not in response.content, (name, url)
            if name in {"supervisor", "colleague"} and url == list_url:
                assert response.status_code == 200  # their own (empty) journal for the client
            else:
                assert response.status_code in (302, 404), (name, url, response.status_code)
        if name in {"supervisor", "colleague"}:
            page = client.get(reverse("client_detail", args=[personas.client.pk]))
            assert page.status_code == 200 and SECRET.encode() not in page.content
            assert str(e.pk).encode() not in page.content


def test_break_glass_shows_only_that_entries_exist(client, personas):
    entry(personas.client, personas.therapist, felt=SECRET, tags={"irritation": 9})
    entry(personas.client, personas.therapist, felt="second", tags={"boredom": 2})
    sign_in(client, personas.admin)
    assert client.get(reverse("client_detail", args=[personas.client.pk])).status_code == 404
    BreakGlassAccess.objects.create(
        clinic=personas.clinic, client=personas.client, user=personas.admin, reason="safety"
    )
    page = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "2 journal entries exist" in page
    assert SECRET not in page and "second" not in page and "Irritation" not in page
    assert client.get(reverse("journal_list", args=[personas.client.pk])).status_code == 404


def test_journal_is_not_in_the_clients_data_export(client, personas):
    entry(personas.client, personas.therapist, felt=SECRET, tags={"irritation": 9})

    exported = json.dumps(client_data(personas.client), default=str)
    assert (
        SECRET not in exported
        and "irritation" not in exported.lower()
        and "journal" not in exported.lower()
    )
    sign_in(client, personas.client_user)
    for url in (reverse("client_home"), reverse("client_access_log")):
        assert SECRET.encode() not in client.get(url).content


def test_panel_shows_markers_and_a_pattern_that_is_not_causation(client, personas):
    start = timezone.now() - dt.timedelta(days=70)
    # Sessions 1-3 steady at 5.5, dip at 4, repaired at 5, dip at 8.
    alliance_series(personas.client, [5.5, 5.6, 5.4, 2.0, 5.5, 5.5, 5.4, 2.5, 5.5], start)
    sessions = {n: session(personas.client, personas.therapist, n) for n in (3, 4, 7)}
    entry(personas.client, personas.therapist, felt="x", tags={"irritation": 7}, sess=sessions[3])
    entry(personas.client, personas.therapist, felt="y", tags={"irritation": 5}, sess=sessions[7])
    entry(personas.client, personas.therapist, felt="z", tags={"boredom": 4}, sess=sessions[4])
    sign_in(client, personas.therapist)
    page = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "Co-occurrence, not cause." in page
    assert "Entries tagged irritation preceded 2 of the 2 alliance dips with this client." in page
    assert "Entries tagged boredom preceded 1 of the 2 alliance dips" in page
    assert page.count('class="marker"') == 3
    # The colleague in the same clinic (not on the care team) cannot even open the page.
    sign_in(client, personas.colleague)
    assert client.get(reverse("client_detail", args=[personas.client.pk])).status_code == 404


def test_co_occurrence_counts_by_hand():
    labels = dict(Reaction.choices)
    entries = [
        (2, {"irritation": 5}),
        (6, {"irritation": 7}),
        (9, {"irritation": 3}),
        (12, {"boredom": 2}),
        (None, {"irritation": 9}),
    ]
    dips = [3, 8, 10, 20]  # 2 precedes 3; 6 precedes 8; 9 precedes 10 (window 2); nothing before 20
    rows = {r.tag: r for r in co_occurrence(entries, dips, labels)}
    assert (
        rows["irritation"].sentence
        == "Entries tagged irritation preceded 3 of the 4 alliance dips with this client."
    )
    assert rows["irritation"].entries_tagged == 3
    assert rows["boredom"].dips_preceded == 0
    assert co_occurrence(entries, dips, labels, window=0)[1].dips_preceded == 0
