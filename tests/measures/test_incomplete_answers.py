"""A questionnaire below its scoring minimum is refused; a partly answered one is confirmed
first; an empty item 9 is never stored as a 0."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alliance.alerts.models import Alert
from alliance.measures.models import Administration, Response
from tests.conftest import sign_in
from tests.measures.helpers import assign, phq9_post

pytestmark = pytest.mark.django_db


def _open_form(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    url = reverse("measures_answer", args=[adm.pk])
    client.get(url)
    return adm, url


def test_empty_phq9_is_refused_and_nothing_is_stored(client, personas):
    adm, url = _open_form(client, personas)
    r = client.post(url, phq9_post(adm, []))
    assert r.status_code == 400
    body = r.content.decode()
    assert (
        "Please answer at least 8 of the 9 questions before sending; you have answered 0." in body
    )
    assert 'id="error-summary"' in body and "autofocus" in body
    assert not Response.objects.exists()
    adm.refresh_from_db()
    assert adm.status == Administration.Status.IN_PROGRESS
    # The questionnaire is still waiting on the client's home.
    assert url in client.get(reverse("client_home")).content.decode()


def test_two_missing_items_are_refused_even_when_confirmed(client, personas):
    adm, url = _open_form(client, personas)
    data = phq9_post(adm, [1, 1, 1, 1, 1, 1, 1], action="send_anyway", missing_seen="item8,item9")
    r = client.post(url, data)
    assert r.status_code == 400
    assert "you have answered 7" in r.content.decode()
    assert not Response.objects.exists()


def test_one_missing_item_asks_for_confirmation_first(client, personas):
    adm, url = _open_form(client, personas)
    answers = [1, 2, 0, 3, "", 0, 2, 1, 0]
    r = client.post(url, phq9_post(adm, answers))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Question 5 is not answered" in body
    assert 'name="missing_seen" value="item5"' in body
    assert 'value="send_anyway"' in body
    assert 'name="item4" value="3" checked' in body  # the answers given are kept
    assert not Response.objects.exists()
    r = client.post(url, phq9_post(adm, answers, action="send_anyway", missing_seen="item5"))
    assert r.status_code == 302
    resp = Response.objects.get()
    assert resp.total == 10 and resp.result["prorated"] is True  # round(9 * 9 / 8 = 10.125)


def test_confirmation_for_other_items_does_not_cover_a_new_gap(client, personas):
    adm, url = _open_form(client, personas)
    data = phq9_post(adm, [1, 2, 0, 3, 1, "", 2, 1, 0], action="send_anyway", missing_seen="item5")
    r = client.post(url, data)
    assert r.status_code == 200 and "Question 6 is not answered" in r.content.decode()
    assert not Response.objects.exists()


def test_empty_item9_is_stored_as_unknown_never_as_no(client, personas):
    adm, url = _open_form(client, personas)
    answers = [1, 2, 0, 3, 1, 0, 2, 1, ""]
    r = client.post(url, phq9_post(adm, answers))
    body = r.content.decode()
    assert "Question 9 is not answered" in body and "ask you about question 9 in person" in body
    client.post(url, phq9_post(adm, answers, action="send_anyway", missing_seen="item9"))
    resp = Response.objects.get()
    assert resp.item9_positive is None
    assert "item9_missing" in resp.flags
    assert not Alert.objects.filter(kind="safety").exists()
    sign_in(client, personas.therapist)
    page = client.get(reverse("client_detail", args=[personas.client.pk])).content.decode()
    assert "item 9 not answered: ask in person" in page
    api = client.get(f"/api/v1/clients/{personas.client.pk}/measures").json()
    assert api["responses"][0]["item9_positive"] is None


def test_item9_answered_zero_is_stored_as_no(client, personas):
    adm, url = _open_form(client, personas)
    client.post(url, phq9_post(adm, [1, 2, 0, 3, 1, 0, 2, 1, 0]))
    assert Response.objects.get().item9_positive is False


def test_single_use_link_refuses_an_empty_form_too(client, personas):
    adm = assign(personas.client)
    sign_in(client, personas.therapist)
    url = client.post(reverse("measures_issue_link", args=[adm.pk])).context["url"]
    client.logout()
    path = "/m/" + url.split("/m/")[1]
    client.get(path)
    r = client.post(path, phq9_post(adm, []))
    assert r.status_code == 400 and "you have answered 0" in r.content.decode()
    assert not Response.objects.exists()
    assert client.get(path).status_code == 200  # the link still works
