"""Clients see the session check in plain words, never the acronym "SAC"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from alliance.measures import registry
from tests.conftest import sign_in
from tests.measures.helpers import assign

pytestmark = pytest.mark.django_db


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_client_sees_the_session_check_in_plain_words(client, personas):
    adm = assign(personas.client, "sac_client")
    sign_in(client, personas.client_user)
    home = _visible_text(client.get(reverse("client_home")).content.decode())
    assert "How today's session went" in home.replace("&#x27;", "'")
    form = client.get(reverse("measures_answer", args=[adm.pk])).content.decode()
    text = _visible_text(form).replace("&#x27;", "'")
    assert "<h1>How today&#x27;s session went</h1>" in form
    assert "no right or wrong answers" in text
    assert not re.search(r"\bSAC\b", text)
    assert "Not a validated instrument" not in text  # the clinicians' note, not for the client


def test_the_title_survives_a_round_trip_through_the_definition():
    inst = registry.load("sac_client")
    assert inst.plain_title == "How today's session went"
    assert registry.load("phq9").plain_title == "PHQ-9"
    assert inst.to_dict()["client_title"] == "How today's session went"
