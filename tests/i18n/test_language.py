"""Each person reads Alliance in their own language: the choice, the fallbacks, the emails."""

from __future__ import annotations

import re
from datetime import time, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from alliance.checkins.models import CheckInPlan, CheckInSchedule
from alliance.checkins.schedule import run_cycle
from alliance.clients.consent_texts import TEXTS
from alliance.clients.models import ClientRecord, ConsentText
from alliance.core.languages import language_for, supported
from alliance.core.models import AuditEvent
from alliance.demo.management.commands.demo import Command
from alliance.measures.tasks import email_questionnaire_link
from tests.conftest import run_worker, sign_in
from tests.measures.helpers import assign


def _lang(page) -> str:
    return re.search(r'<html lang="([^"]+)"', page.content.decode()).group(1)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("ES", "es"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_unknown_or_unsupported_languages_fall_back_to_english(code, expected):
    assert supported(code) == expected


def test_a_client_reads_their_pages_in_their_language(client, personas):
    personas.client.language = "es"
    personas.client.save()
    sign_in(client, personas.client_user)
    page = client.get(reverse("client_home"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert _lang(page) == "es" and page["Content-Language"] == "es"
    body = page.content.decode()
    assert "Tu equipo de atención" in body and "Your care team" not in body
    assert "¿Estás en crisis?" in body


def test_a_stored_language_no_longer_offered_falls_back_to_english(client, personas):
    personas.client.language = "xx"  # e.g. a language removed from LANGUAGES
    personas.client.save()
    assert language_for(personas.client) == "en"
    sign_in(client, personas.client_user)
    page = client.get(reverse("client_home"), HTTP_ACCEPT_LANGUAGE="es")
    assert _lang(page) == "en" and "Your care team" in page.content.decode()


def test_anonymous_pages_follow_the_browser_and_fall_back_to_english(client, db):
    spanish = client.get(reverse("client_signin"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert _lang(spanish) == "es" and "Envíame un enlace para entrar" in spanish.content.decode()
    french = client.get(reverse("client_signin"), HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert _lang(french) == "en" and "Send me a sign-in link" in french.content.decode()


def test_the_client_switches_language_from_any_client_page(client, personas):
    sign_in(client, personas.client_user)
    page = client.get(reverse("concerns_mine"))
    assert 'action="/me/language/"' in page.content.decode()
    response = client.post(
        reverse("client_language"), {"language": "es", "next": reverse("concerns_mine")}
    )
    assert response.status_code == 302 and response.url == reverse("concerns_mine")
    personas.client.refresh_from_db()
    assert personas.client.language == "es"
    event = AuditEvent.objects.filter(client=personas.client, action="update").latest("seq")
    assert event.record_type == "client_record" and event.note == "language"
    after = client.get(reverse("concerns_mine"))
    assert _lang(after) == "es"
    assert "Tus páginas y correos ahora están en español." in after.content.decode()


def test_a_bad_language_or_an_outside_next_changes_nothing(client, personas):
    sign_in(client, personas.client_user)
    bad = client.post(reverse("client_language"), {"language": "klingon"})
    assert bad.status_code == 302 and bad.url == reverse("client_home")
    personas.client.refresh_from_db()
    assert personas.client.language == "en"
    assert "That language is not available" in client.get(reverse("client_home")).content.decode()
    outside = client.post(
        reverse("client_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert outside.url == reverse("client_home")
    assert client.get(reverse("client_language")).status_code == 405


def test_staff_cannot_use_the_client_switch_and_choose_their_own_in_settings(client, personas):
    sign_in(client, personas.therapist)
    assert client.post(reverse("client_language"), {"language": "es"}).status_code == 404
    saved = client.post(reverse("my_settings"), {"time_zone": "", "language": "es"})
    assert saved.status_code == 302
    personas.therapist.refresh_from_db()
    assert personas.therapist.language == "es"
    assert _lang(client.get(reverse("caseload"))) == "es"


def test_the_admin_sets_the_language_at_enrolment(client, personas):
    sign_in(client, personas.admin)
    client.post(
        reverse("client_create"),
        {
            "full_name": "Lucía Ortega",
            "email": "lucia@client.test",
            "time_zone": "America/New_York",
            "language": "es",
            "therapists": [str(personas.therapist.pk)],
        },
    )

    assert ClientRecord.objects.get(full_name="Lucía Ortega").language == "es"
    refused = client.post(
        reverse("client_create"),
        {
            "full_name": "Nadie",
            "email": "nadie@client.test",
            "time_zone": "America/New_York",
            "language": "de",
            "therapists": [str(personas.therapist.pk)],
        },
    )
    assert (
        refused.status_code == 200 and not ClientRecord.objects.filter(full_name="Nadie").exists()
    )


def test_the_sign_in_email_and_link_page_are_in_the_clients_language(client, personas):
    personas.client.language = "es"
    personas.client.save()
    # The browser asking prefers English; the email follows the client's choice.
    client.post(reverse("client_signin"), {"email": "cleo@client.test"}, HTTP_ACCEPT_LANGUAGE="en")
    message = mail.outbox[-1]
    assert message.subject == "Tu enlace para entrar"
    assert "Usa este enlace para entrar" in message.body
    link = re.search(r"https?://\S+", message.body).group(0)
    page = client.get(link, HTTP_ACCEPT_LANGUAGE="en")
    assert _lang(page) == "es" and "Entrar ahora" in page.content.decode()


def test_an_english_client_gets_english_email_whatever_the_browser(client, personas):
    client.post(reverse("client_signin"), {"email": "cleo@client.test"}, HTTP_ACCEPT_LANGUAGE="es")
    assert mail.outbox[-1].subject == "Your sign-in link"


def test_the_check_in_reminder_and_its_pages_are_in_the_clients_language(client, personas):

    personas.client.language = "es"
    personas.client.save()
    CheckInSchedule.objects.create(
        clinic=personas.clinic,
        client=personas.client,
        cadence="daily",
        start_date=timezone.localdate() - timedelta(days=2),
        due_time=time(0, 0),
    )
    plan = CheckInPlan.for_client(personas.client)
    plan.quiet_start = plan.quiet_end = time(0, 0)
    plan.save()
    run_cycle(timezone.now())
    message = mail.outbox[-1]
    assert message.subject == "Tienes pendiente un breve seguimiento"
    assert "Hola, Cleo:" in message.body and "¿Estás en crisis?" in message.body
    token = re.search(r"/check-in/\?t=([\w-]+)", message.body).group(1)
    page = client.get(reverse("check_in_link") + f"?t={token}", HTTP_ACCEPT_LANGUAGE="en")
    assert _lang(page) == "es" and "Enviar mi seguimiento" in page.content.decode()


def test_the_questionnaire_link_email_is_in_the_clients_language(transactional_db, personas):

    personas.client.language = "es"
    personas.client.save()
    adm = assign(personas.client)
    email_questionnaire_link.enqueue(str(adm.pk), str(personas.therapist.pk))
    run_worker()
    message = mail.outbox[-1]
    assert message.subject == "Un cuestionario breve de tu equipo de atención"
    assert "te pide que respondas un cuestionario breve" in message.body


def test_the_demo_has_a_spanish_speaking_client_whose_link_is_printed(db, client):

    call_command("seed_demo", stdout=StringIO())
    spanish = ClientRecord.objects.get(language="es")
    assert spanish.status == ClientRecord.Status.ACTIVE
    out = StringIO()
    command = Command(stdout=out)
    command.print_logins("127.0.0.1:8000")
    printed = out.getvalue()
    assert f"{spanish.full_name} reads Alliance in Spanish" in printed
    link = re.search(r"(/signin/link/\?\S+)", printed.split("reads Alliance in Spanish")[1])
    assert link is not None
    page = client.get(link.group(1), HTTP_ACCEPT_LANGUAGE="en")
    assert _lang(page) == "es" and "Entrar ahora" in page.content.decode()


def test_the_shipped_consent_text_reads_in_the_clients_language(db):
    """Version 1 of each consent is Alliance's own text: the catalogue holds its translation.
    A clinic's own version is shown exactly as written, never guessed."""
    shipped = ConsentText.current("treatment")
    assert shipped.body == TEXTS["treatment"]
    with translation.override("es"):
        assert shipped.body_for_reader.startswith("Acepto recibir tratamiento psicológico")
    with translation.override("en"):
        assert shipped.body_for_reader == TEXTS["treatment"]
    own = ConsentText(kind="treatment", version=2, body="Our clinic's own wording.")
    with translation.override("es"):
        assert own.body_for_reader == "Our clinic's own wording."
