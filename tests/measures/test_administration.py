"""Assigning, answering (client area and single-use link), duplicates, resume, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alliance.measures.models import AccessLink, Administration, Assignment, Response
from tests.conftest import run_worker, sign_in
from tests.measures.helpers import assign, phq9_post

pytestmark = pytest.mark.django_db


def test_therapist_assigns_once_and_client_sees_it(client, personas):
    sign_in(client, personas.therapist)
    r = client.post(reverse("measures_assign", args=[personas.client.pk]), {"instrument": "phq9"})
    assert r.status_code == 302
    adm = Administration.objects.get(client=personas.client)
    assert adm.instrument_id == "phq9" and adm.status == "pending"
    assert Assignment.objects.get(client=personas.client).active is False  # once
    sign_in(client, personas.client_user)
    home = client.get(reverse("client_home")).content.decode()
    assert reverse("measures_answer", args=[adm.pk]) in home
    assert "Answer the PHQ-9" in home


def test_recurring_assignment_creates_next_administration_when_due(personas):
    a = Assignment.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        instrument_id="gad7",
        every_days=14,
        assigned_by=personas.therapist,
        next_due_at=timezone.now(),
    )
    first = a.create_due_administration()
    assert first is not None and a.create_due_administration() is None  # one open at a time
    first.status = "completed"
    first.save()
    assert a.create_due_administration() is None  # not due yet
    later = timezone.now() + dt.timedelta(days=15)
    second = a.create_due_administration(now=later)
    assert second is not None and a.active


def test_colleague_cannot_assign(client, personas):
    sign_in(client, personas.colleague)
    r = client.post(reverse("measures_assign", args=[personas.client.pk]), {"instrument": "phq9"})
    assert r.status_code == 404
    assert not Administration.objects.exists()


def test_unlicensed_instrument_without_texts_is_refused(client, personas):
    sign_in(client, personas.therapist)
    client.post(reverse("measures_assign", args=[personas.client.pk]), {"instrument": "wai_sr"})
    assert not Administration.objects.exists()


def test_form_is_accessible_and_shows_progress(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    html = client.get(reverse("measures_answer", args=[adm.pk])).content.decode()
    assert html.count("<fieldset") == 10  # nine items and the difficulty question
    assert "<legend>" in html and 'type="radio"' in html
    assert "0 of 9 answered" in html
    assert "Developed by Drs. Robert L. Spitzer" in html
    assert "style=" not in html and "<script>" not in html


def test_submit_scores_and_stores_once(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    url = reverse("measures_answer", args=[adm.pk])
    client.get(url)
    data = phq9_post(adm, [1, 2, 0, 3, 1, 0, 2, 1, 0])
    r = client.post(url, data)
    assert r.status_code == 302 and r.url == reverse("measures_done", args=[adm.pk])
    # A double submit and a reload of the POST: still one response.
    r2 = client.post(url, data)
    assert r2.status_code == 302
    assert Response.objects.count() == 1
    resp = Response.objects.get()
    assert resp.total == 10 and resp.severity == "moderate" and not resp.item9_positive
    assert "above_cutoff" in resp.flags
    adm.refresh_from_db()
    assert adm.status == "completed"
    done = client.get(r.url).content.decode()
    assert "Your score is 10 (moderate)" in done


def test_out_of_range_answer_shows_form_again_and_stores_nothing(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    url = reverse("measures_answer", args=[adm.pk])
    r = client.post(url, phq9_post(adm, [1, 2, 0, 4, 1, 0, 2, 1, 0]))
    assert r.status_code == 400
    body = r.content.decode()
    assert "PHQ-9 item 4: 4 is out of range (allowed 0-3)" in body
    assert not Response.objects.exists()
    assert 'value="1" checked' in body  # the other answers are kept


def test_partial_answers_are_saved_with_htmx_and_resumed(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    r = client.post(
        reverse("measures_answer_save_hx", args=[adm.pk]),
        {"item1": "2", "item2": "9"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "1 of 9 answered" in r.content.decode()
    adm.refresh_from_db()
    assert adm.partial_answers == {"item1": "2"}  # the impossible answer is not kept
    html = client.get(reverse("measures_answer", args=[adm.pk])).content.decode()
    assert 'name="item1" value="2" checked' in html
    assert "Continue the PHQ-9" in client.get(reverse("client_home")).content.decode()


def test_save_and_finish_later_without_javascript(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    client.post(reverse("measures_answer", args=[adm.pk]), phq9_post(adm, [3, 3], action="save"))
    adm.refresh_from_db()
    assert adm.partial_answers == {"item1": "3", "item2": "3"} and not Response.objects.exists()


def test_other_client_cannot_open_the_form(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.other_client_user)
    assert client.get(reverse("measures_answer", args=[adm.pk])).status_code == 404
    sign_in(client, personas.therapist)
    assert client.get(reverse("measures_answer", args=[adm.pk])).status_code == 404


def _issue(client, personas, adm):
    sign_in(client, personas.therapist)
    r = client.post(reverse("measures_issue_link", args=[adm.pk]))
    assert r.status_code == 200
    url = r.context["url"]
    client.logout()
    return url.split("/m/")[1].rstrip("/")


def test_single_use_link_stores_only_a_hash_and_works_once(client, personas):
    adm = assign(personas.client)
    token = _issue(client, personas, adm)
    link = AccessLink.objects.get()
    assert token not in link.token_hash and link.token_hash == AccessLink.hash_token(token)
    url = reverse("measures_link", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and "Cleo" not in page.content.decode()
    r = client.post(url, phq9_post(adm, [0] * 9))
    assert r.status_code == 302 and r.url == reverse("measures_link_done", args=[adm.pk])
    assert client.get(r.url).status_code == 200
    # The same form sent again (double submit) lands on the same result page.
    assert client.post(url, phq9_post(adm, [0] * 9)).url == r.url
    assert Response.objects.get().source == "link"
    # Opening the link again, from anywhere: a clear page.
    client.cookies.clear()
    again = client.get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_expired_and_unknown_links_show_a_clear_page(client, personas):
    adm = assign(personas.client)
    token = _issue(client, personas, adm)
    AccessLink.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    r = client.get(reverse("measures_link", args=[token]))
    assert r.status_code == 410 and "expired" in r.content.decode()
    r = client.post(reverse("measures_link", args=[token]), phq9_post(adm, [0] * 9))
    assert r.status_code == 410 and not Response.objects.exists()
    assert client.get(reverse("measures_link", args=["nonsense"])).status_code == 404


def test_link_done_page_needs_the_submitting_browser(client, personas):
    adm = assign(personas.client)
    assert client.get(reverse("measures_link_done", args=[adm.pk])).status_code == 410


def test_paper_entry_scores_total_only(client, personas):
    sign_in(client, personas.therapist)
    url = reverse("measures_paper_entry", args=[personas.client.pk])
    r = client.post(url, {"instrument": "phq9", "total": "30", "date": "2026-01-05"})
    assert r.status_code == 400 and "out of range" in r.content.decode()
    r = client.post(url, {"instrument": "srs", "total": "31.5", "date": "2026-01-05"})
    assert r.status_code == 302
    resp = Response.objects.get()
    assert resp.source == "paper" and resp.total == 31.5 and "below_cutoff" in resp.flags


@pytest.mark.django_db(transaction=True)
def test_emailed_link_is_made_by_the_worker_and_works_once(client, personas, mailoutbox):
    cache.clear()
    adm = assign(personas.client)
    sign_in(client, personas.therapist)
    url = reverse("measures_email_link", args=[adm.pk])
    r = client.post(url, follow=True)
    assert "will be emailed" in r.content.decode()
    # A double submit sends nothing more.
    again = client.post(url, follow=True)
    assert "nothing more was sent" in again.content.decode()
    assert not AccessLink.objects.exists()  # the token is made in the worker, never queued
    run_worker()
    assert len(mailoutbox) == 1 and AccessLink.objects.count() == 1
    msg = mailoutbox[0]
    assert msg.to == [personas.client_user.email]
    assert "PHQ" not in msg.subject + msg.body  # no clinical content in the email
    token = msg.body.split("/m/")[1].split("/")[0]
    link = AccessLink.objects.get()
    assert link.token_hash == AccessLink.hash_token(token) and link.created_by == personas.therapist
    client.logout()
    assert (
        client.post(reverse("measures_link", args=[token]), phq9_post(adm, [0] * 9)).status_code
        == 302
    )
    assert Response.objects.get().source == "link"
    cache.clear()


def test_email_link_refuses_closed_questionnaires_missing_addresses_and_other_teams(
    client, personas, django_capture_on_commit_callbacks
):
    cache.clear()
    adm = assign(personas.client)
    url = reverse("measures_email_link", args=[adm.pk])
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client, personas.colleague)  # same clinic, not on the care team
        assert client.post(url).status_code == 404
        sign_in(client, personas.therapist)
        personas.client_user.email = ""
        personas.client_user.save()
        r = client.post(url, follow=True)
        assert "no active email address" in r.content.decode()
        Administration.objects.filter(pk=adm.pk).update(status=Administration.Status.CANCELLED)
        r = client.post(url, follow=True)
        assert "already completed or cancelled" in r.content.decode()
    assert not DBTaskResult.objects.exists()
    # The same press on an open questionnaire with an address does queue the email.
    personas.client_user.email = "cleo@example.org"
    personas.client_user.save()
    Administration.objects.filter(pk=adm.pk).update(status=Administration.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert DBTaskResult.objects.count() == 1
    cache.clear()
