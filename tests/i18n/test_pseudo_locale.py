"""Every client-facing page and email in a pseudo-locale: no visible English left untranslated.

The pseudo catalogue is built at test time from the Spanish .po's msgids: every msgstr is the
msgid wrapped in ⟦…⟧ with its vowels accented, placeholders (%(x)s, {x}) and HTML tags kept.
It is compiled to a .mo in a temporary LOCALE_PATHS entry for a test-only language ("eo" stands
in, so Django knows its name and direction). Each page is rendered for a client who chose that
language; any visible text node or attribute text (title, placeholder, aria-label, alt, button
values) outside a ⟦…⟧ must be data: names, numbers, dates, the clinic's own texts, the
instrument texts (from data files), the brand "Alliance".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from reportlab.platypus import KeepTogether, Paragraph, Table

from alliance.accounts.models import GENERIC_CRISIS_LINE
from alliance.checkins.models import CheckIn, CheckInLink, CheckInSchedule
from alliance.checkins.services import raise_concern
from alliance.clients.models import ConsentText, TherapySession
from alliance.clients.signin import send_client_signin_link
from alliance.core import audit
from alliance.exports.data import client_data
from alliance.exports.pdf import story
from alliance.goals.models import Goal
from alliance.measures import registry
from alliance.measures.models import AccessLink
from alliance.measures.tasks import email_questionnaire_link
from tests.conftest import run_worker, sign_in
from tests.i18n.catalog import SPANISH_PO, read
from tests.measures.helpers import assign, phq9_post

PSEUDO = "eo"
ACCENTS = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")
KEEP = re.compile(r"(%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}|<[^>]+>|&[a-z]+;)")


def pseudo(text: str) -> str:
    parts = KEEP.split(text)
    return "⟦" + "".join(p if KEEP.fullmatch(p) else p.translate(ACCENTS) for p in parts) + "⟧"


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """A GNU .mo file (the format msgfmt writes), so the test needs no gettext tools."""
    keys = sorted(messages)
    ids = [k.encode() for k in keys]
    strs = [messages[k].encode() for k in keys]
    header = 7 * 4
    offsets_ids = header
    offsets_strs = offsets_ids + 8 * len(keys)
    data_start = offsets_strs + 8 * len(keys)
    id_table, str_table, blob = [], [], b""
    for b in ids:
        id_table.append((len(b), data_start + len(blob)))
        blob += b + b"\0"
    for b in strs:
        str_table.append((len(b), data_start + len(blob)))
        blob += b + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, len(keys), offsets_ids, offsets_strs, 0, 0)
    for length, offset in id_table + str_table:
        out += struct.pack("<2I", length, offset)
    path.write_bytes(out + blob)


@pytest.fixture
def pseudo_locale(tmp_path, settings):
    header, entries = read(SPANISH_PO)
    messages = {
        "": "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"
    }
    for e in entries:
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            messages[key] = pseudo(e.msgid)
        else:
            messages[key + "\0" + e.msgid_plural] = pseudo(e.msgid) + "\0" + pseudo(e.msgid_plural)
    target = tmp_path / "locale" / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    write_mo(target / "django.mo", messages)
    settings.LOCALE_PATHS = [tmp_path / "locale", *settings.LOCALE_PATHS]
    settings.LANGUAGES = [*settings.LANGUAGES, (PSEUDO, "Pseudo")]
    yield
    translation.activate("en")


# --- what counts as visible text -------------------------------------------------------------

VISIBLE_ATTRS = {"title", "placeholder", "aria-label", "alt"}


class Visible(HTMLParser):
    """The page's text (one string, so a sentence with a link inside stays whole) and its
    visible attribute texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.body: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        named = dict(attrs)
        for name, value in attrs:
            if value and (
                name in VISIBLE_ATTRS
                or (
                    name == "value"
                    and tag == "input"
                    and named.get("type") in ("submit", "button", "reset")
                )
            ):
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.body.append(data)


def _data_strings(instance) -> set[str]:
    out: set[str] = set()
    if dataclasses.is_dataclass(instance):
        for f in dataclasses.fields(instance):
            out |= _data_strings(getattr(instance, f.name))
    elif isinstance(instance, (list, tuple)):
        for v in instance:
            out |= _data_strings(v)
    elif isinstance(instance, str) and instance.strip():
        out.add(instance.strip())
    return out


def allowed_data(personas) -> list[str]:

    data = {"Alliance", GENERIC_CRISIS_LINE, settings.TIME_ZONE, personas.client.time_zone}
    for inst in registry.all_instruments():
        data |= _data_strings(inst)
        data |= {
            getattr(inst, a, "") or "" for a in ("plain_title", "client_title", "client_intro")
        }
    clinic = personas.clinic
    data |= {clinic.name, clinic.crisis_line, *clinic.crisis_resources.splitlines()}
    data |= {t.body for t in ConsentText.objects.all()} | {
        line for t in ConsentText.objects.all() for line in t.body.splitlines()
    }
    for user in (personas.client_user, personas.therapist, personas.colleague, personas.admin):
        data |= {user.full_name, user.email}
    data |= {personas.client.full_name, personas.client.display_name}
    data |= {name for _code, name in settings.LANGUAGES}
    data |= {
        translation.get_language_info(code)["name_local"] for code, _name in settings.LANGUAGES
    }
    # Month and day names in the active language (dates are data).
    for month in range(1, 13):
        day = dt.date(2026, month, 1)
        data |= set(dateformat.format(day, "F|M|N|E").split("|"))
    for offset in range(7):
        day = dt.date(2026, 1, 5 + offset)
        data |= set(dateformat.format(day, "l|D").split("|"))
    return sorted((d for d in data if d and d.strip()), key=len, reverse=True)


def untranslated(texts: list[str], data: list[str]) -> list[str]:
    bad = []
    for text in texts:
        rest = re.sub(r"https?://\S+", " ", text)
        while True:  # translations nest: strip the innermost ⟦…⟧ first
            stripped = re.sub(r"⟦[^⟦⟧]*⟧", " ", rest)
            if stripped == rest:
                break
            rest = stripped
        for value in data:
            rest = rest.replace(value, " ")
        words = re.findall(r"[A-Za-z]{2,}", rest)
        if words:
            bad.append(" ".join(words))
    return bad


def english_inside(texts: list[str], data: list[str]) -> list[str]:
    """Untranslated words hidden inside a translated sentence (a status or label put into a
    placeholder of a translated sentence), which :func:`untranslated` strips with the sentence:
    every pseudo word has its vowels accented, so a plain-ASCII word with a vowel is English,
    unless it is data."""
    bad = []
    for text in texts:
        rest = re.sub(r"https?://\S+", " ", text)
        for value in data:
            rest = rest.replace(value, " ")
        bad += [
            w
            for w in re.findall(r"[^\W\d_]+", rest)
            if len(w) > 1 and w.isascii() and re.search("[aeiouAEIOU]", w)
        ]
    return bad


def assert_pseudo_page(response, data: list[str]) -> None:
    assert response.status_code in (200, 400, 404, 410), response.status_code
    html = response.content.decode()
    assert f'<html lang="{PSEUDO}"' in html
    parser = Visible()
    parser.feed(html)
    bad = untranslated([*parser.texts, " ".join(parser.body)], data)
    assert bad == [], f"{response.request['PATH_INFO']}: {bad}"
    hidden = english_inside([*parser.texts, " ".join(parser.body)], data)
    assert hidden == [], f"{response.request['PATH_INFO']}: {hidden}"


# --- the client side --------------------------------------------------------------------------


@pytest.fixture
def pseudo_client(personas, pseudo_locale):

    personas.client.language = PSEUDO
    personas.client.save()
    raise_concern(personas.client, personas.client_user, "not_heard", "Mi nota")
    audit.record(
        clinic=personas.clinic,
        actor=personas.therapist,
        action="view",
        record_type="client_record",
        client=personas.client,
    )
    return personas


def test_every_client_page_is_translated(client, pseudo_client):

    personas = pseudo_client
    adm = assign(personas.client)
    sign_in(client, personas.client_user)
    with translation.override(PSEUDO):
        data = allowed_data(personas) + ["Mi nota"]
    for name in ("client_home", "client_access_log", "client_consents", "concerns_mine"):
        assert_pseudo_page(client.get(reverse(name)), data)
    answer = reverse("measures_answer", args=[adm.pk])
    assert_pseudo_page(client.get(answer), data)
    # Part-answered: the confirmation for unanswered questions.
    partial = client.post(answer, phq9_post(adm, [1, 1, 1, 1, 1, 1, 1, 1]))
    assert_pseudo_page(partial, data)
    # Item 9 above 0: the crisis page.
    sent = client.post(answer, phq9_post(adm, [2, 2, 2, 2, 2, 2, 2, 2, 1]), follow=True)
    assert 'id="crisis"' in sent.content.decode()
    assert_pseudo_page(sent, data)
    # Goals: propose one (the page shows it, waiting for agreement), then its edit page.
    proposed = client.post(
        reverse("goals_mine"),
        {"wording": "Dormir mejor", "level_0": "Seis horas", "importance": "2", "difficulty": "2"},
        follow=True,
    )
    assert_pseudo_page(proposed, data + ["Dormir mejor", "Seis horas"])

    goal = Goal.objects.get(client=personas.client)
    edit = client.get(reverse("goal_mine_edit", args=[goal.pk]))
    assert_pseudo_page(edit, data + ["Dormir mejor", "Seis horas"])
    # The language switch message itself.
    switched = client.post(reverse("client_language"), {"language": "en"}, follow=True)
    assert switched.status_code == 200


def test_every_page_reached_by_a_client_link_is_translated(client, pseudo_client):

    personas = pseudo_client
    with translation.override(PSEUDO):
        data = allowed_data(personas) + ["Mi nota"]
    adm = assign(personas.client)
    _link, token = AccessLink.issue(adm, personas.therapist, 24)
    assert_pseudo_page(client.get(reverse("measures_link", args=[token])), data)
    assert_pseudo_page(client.get(reverse("measures_link", args=["nope"])), data)
    schedule = CheckInSchedule.objects.create(
        clinic=personas.clinic, client=personas.client, start_date=dt.date.today()
    )
    check_in = CheckIn.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        schedule=schedule,
        due_at=timezone.now(),
    )
    _check_link, token = CheckInLink.issue(check_in, timezone.now())
    assert_pseudo_page(client.get(reverse("check_in_link") + f"?t={token}"), data)


def test_the_client_emails_are_translated(transactional_db, pseudo_client):

    personas = pseudo_client
    with translation.override(PSEUDO):
        data = allowed_data(personas)
    send_client_signin_link(RequestFactory().get("/"), personas.client_user)
    email_questionnaire_link.enqueue(str(assign(personas.client).pk), str(personas.therapist.pk))
    run_worker()
    to_client = [m for m in mail.outbox if m.to == [personas.client_user.email]]
    assert len(to_client) == 2
    for message in to_client:
        assert message.subject.startswith("⟦")
        lines = [
            line
            for line in message.body.splitlines()
            if line.strip() and line.strip() != "— Alliance"
        ]
        assert untranslated([message.subject, *lines], data) == []
        assert english_inside([message.subject, *lines], data) == []


def test_anonymous_pages_in_the_pseudo_locale(client, personas, pseudo_locale):
    with translation.override(PSEUDO):
        data = allowed_data(personas)
    for url in (
        reverse("home"),
        reverse("client_signin"),
        reverse("client_signin_sent"),
        reverse("check_in_link") + "?t=nope",
        "/no-such-page/",
    ):
        assert_pseudo_page(client.get(url, HTTP_ACCEPT_LANGUAGE=PSEUDO), data)


def _pdf_texts(flowables) -> list[str]:
    """The text of every paragraph the export PDF draws, tables and kept-together blocks included."""

    texts: list[str] = []
    for f in flowables:
        if isinstance(f, Paragraph):
            texts.append(f.getPlainText())
            if f.bulletText and f.bulletText != "•":
                texts.append(f.bulletText)
        elif isinstance(f, Table):
            for row in f._cellvalues:
                texts += _pdf_texts([c for c in row if not isinstance(c, str)])
                texts += [c for c in row if isinstance(c, str)]
        elif isinstance(f, KeepTogether):
            texts += _pdf_texts(f._content)
    return texts


def test_the_data_export_page_and_pdf_are_translated(client, pseudo_client):
    """'Everything we hold about you', as a page and as a PDF, with a questionnaire whose item 9
    is above 0 (the crisis wording), sessions, a goal and a concern."""

    personas = pseudo_client
    with translation.override(PSEUDO):
        data = allowed_data(personas) + ["Mi nota", "Dormir mejor", "Seis horas"]
    for number, status in [(1, "attended"), (2, "missed"), (3, "scheduled")]:
        TherapySession.objects.create(
            clinic=personas.clinic,
            client=personas.client,
            therapist=personas.therapist,
            number=number,
            scheduled_at=timezone.now(),
            status=status,
        )
    sign_in(client, personas.client_user)
    adm = assign(personas.client)
    answer = reverse("measures_answer", args=[adm.pk])
    client.post(answer, phq9_post(adm, [2, 2, 2, 2, 2, 2, 2, 2, 1]), follow=True)
    client.post(
        reverse("goals_mine"),
        {"wording": "Dormir mejor", "level_0": "Seis horas", "importance": "2", "difficulty": "2"},
    )
    page = client.get(reverse("my_data_summary"))
    assert "crisis" in page.content.decode()
    assert_pseudo_page(page, data)
    with translation.override(PSEUDO):
        texts = _pdf_texts(story(client_data(personas.client)))
    assert any("⟦" in t for t in texts)
    assert untranslated(texts, data) == []
    assert english_inside(texts, data) == []
