"""A client on a 390 px phone switches to Spanish from a client page, reads the client side in
Spanish (axe-core clean, lang="es"), answers the PHQ-9 in its official Spanish with item 9 above 0,
sees the crisis page and resources in Spanish and their data export in Spanish; the therapist
then sees the result labelled as answered in Spanish."""

from __future__ import annotations

import pytest

from alliance.accounts.models import Clinic, Role
from alliance.clients.models import ConsentText
from tests.browser.conftest import _new_page, client_login, staff_login
from tests.browser.test_accessibility import violations
from tests.conftest import grant, make_client, make_staff
from tests.measures.helpers import assign

pytestmark = pytest.mark.browser


@pytest.fixture
def narrow_phone(browser, live_server, transactional_db):
    context, page = _new_page(browser, live_server, {"width": 390, "height": 844})
    yield page
    context.close()
    assert page.console_errors == [], page.console_errors  # type: ignore[attr-defined]


def test_a_client_switches_to_spanish_and_answers_in_spanish(narrow_phone, browser, live_server):

    page = narrow_phone
    for kind in ("treatment", "recording", "supervision"):
        ConsentText.objects.get_or_create(
            kind=kind, version=1, defaults={"body": f"Consent to {kind}."}
        )
    clinic = Clinic.objects.create(
        name="Clínica Puente", crisis_resources="Llama o escribe al 988. En peligro: 911."
    )
    therapist = make_staff(clinic, Role.THERAPIST, "Tere Terapeuta", "tere@puente.test", "x" * 20)
    record = make_client(clinic, "Lucía Ortega", "lucia@client.test", [therapist])
    grant(record, "treatment", therapist)
    adm = assign(record)

    client_login(page, record.user)
    page.goto("/me/concerns/")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_url("**/me/concerns/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Tus páginas y correos ahora están en español." in page.locator(".messages").inner_text()
    record.refresh_from_db()
    assert record.language == "es"

    found = []
    for url in ["/me/", "/me/goals/", "/me/concerns/", "/me/consents/", "/me/access/"]:
        found += violations(page, url)
        assert page.locator("html").get_attribute("lang") == "es", url
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    assert found == [], "\n".join(found)
    page.goto("/me/")
    assert "Tu equipo de atención" in page.locator("main").inner_text()
    assert "¿Estás en crisis?" in page.locator("footer").inner_text()

    # The PHQ-9 (its item texts are the instrument's own, from its data file): item 9 above 0.
    page.goto(f"/me/measures/{adm.pk}/")
    assert violations(page, f"/me/measures/{adm.pk}/") == []
    # The official Spanish wording (phq9.json, translations.es), not an invented one.
    form = page.locator("main").inner_text()
    assert "Poco interés o placer en hacer cosas" in form
    assert "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera" in form
    assert "Little interest or pleasure" not in form
    for n in range(1, 9):
        page.locator(f'#q-item{n} input[value="0"]').check()
    page.locator('#q-item9 input[value="1"]').check()
    page.get_by_text("9 de 9 respondidas").first.wait_for()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    page.wait_for_url("**/done/")
    crisis = page.locator("#crisis")
    assert crisis.is_visible()
    text = crisis.inner_text()
    assert "Gracias por contárnoslo" in text
    assert "Nadie revisa tus respuestas en tiempo real." in text
    assert "Llama o escribe al 988" in text
    assert page.locator("html").get_attribute("lang") == "es"
    results = violations(page, page.url.replace(page.url.split("/me/")[0], ""))
    assert results == [], "\n".join(results)

    # Everything we hold about them, in Spanish, with the crisis wording next to this PHQ-9.
    assert violations(page, "/me/data/") == []
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    summary = page.locator("main").inner_text()
    assert "Todo lo que guardamos sobre ti" in summary
    assert "Tú, en tu área personal" in summary
    assert "Poco interés o placer en hacer cosas" in summary
    assert "Llama o escribe al 988" in summary

    # The therapist (reading in English) sees the result, labelled as answered in Spanish.
    context, desk = _new_page(browser, live_server, {"width": 1280, "height": 900})
    try:
        staff_login(desk, "tere@puente.test", "x" * 20)
        desk.goto(f"/clients/{record.pk}/")
        assert desk.locator("html").get_attribute("lang") == "en"
        panel = desk.locator("#panel-measures").inner_text()
        assert "PHQ-9" in panel and "(answered in Spanish)" in panel
        assert desk.console_errors == [], desk.console_errors  # type: ignore[attr-defined]
    finally:
        context.close()
