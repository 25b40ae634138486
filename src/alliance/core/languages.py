"""Which language a person reads Alliance in.

A client's choice is on their record (``ClientRecord.language``: set by the therapist at
enrolment, changed by the client from any client page); a staff member's is on their account
(``User.language``, in My settings). Anonymous pages follow the browser's Accept-Language
(Django's LocaleMiddleware). Anything unknown or unsupported falls back to English
(``settings.LANGUAGE_CODE``).

Emails, reminders and exports to a client render inside ``translation.override(
language_for(client))``, so they read in the client's language whatever the sender's.

For client-facing texts (instruments, crisis resources) the site's configured languages are
listed by BCP-47 code.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

# The language of the shipped originals (instruments, default crisis texts).
DEFAULT_LANGUAGE = "en"


def base_code(code: str | None) -> str:
    """'es-MX' -> 'es'; empty -> the default language."""
    code = (code or "").strip().lower().replace("_", "-")
    return code.split("-", 1)[0] if code else DEFAULT_LANGUAGE


def active_language() -> str:
    """The base code of the language active for this request or task ('en' when none)."""
    return base_code(translation.get_language())


def configured_languages() -> list[tuple[str, str]]:
    """(code, name) of the languages this site offers (settings.LANGUAGES), the default first."""
    out: dict[str, str] = {DEFAULT_LANGUAGE: language_name(DEFAULT_LANGUAGE)}
    for code, _name in settings.LANGUAGES:
        out.setdefault(base_code(code), language_name(code))
    return list(out.items())


def other_languages() -> list[tuple[str, str]]:
    """The configured languages other than the default (those a clinic can add texts in)."""
    return [(c, n) for c, n in configured_languages() if c != DEFAULT_LANGUAGE]


def language_name(code: str | None) -> str:
    """The English name of a language ('es' -> 'Spanish'); the code itself when unknown."""
    code = (code or "").strip()
    if not code:
        return language_name(DEFAULT_LANGUAGE)
    for candidate in (code.lower(), base_code(code)):
        try:
            return str(translation.get_language_info(candidate)["name"])
        except KeyError:
            continue
    return code


def supported(code: str | None) -> str:
    """``code`` when Alliance has that language, else the default (English)."""
    if code:
        known = {lang for lang, _name in settings.LANGUAGES}
        if code in known:
            return code
        if base_code(code) in known:
            return base_code(code)
    return settings.LANGUAGE_CODE


def language_for(person: object) -> str:
    """The language ``person`` reads in: a client record, a user (client or staff), or None."""
    if person is None:
        return settings.LANGUAGE_CODE
    record = person if hasattr(person, "care_team") else getattr(person, "client_record", None)
    if record is not None:
        return supported(getattr(record, "language", None))
    return supported(getattr(person, "language", None))


LINK_LANGUAGE_KEY = "alliance.link_language"


def use_client_language(request: HttpRequest, client: object) -> None:
    """A client link (sign-in, questionnaire, check-in) has identified its client: this page,
    and the pages that follow in this browser session (the "done" page), are in their language."""
    language = language_for(client)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    session = getattr(request, "session", None)
    if session is not None and session.get(LINK_LANGUAGE_KEY) != language:
        session[LINK_LANGUAGE_KEY] = language


class UserLanguageMiddleware:
    """After authentication: activate the signed-in person's own language for the request
    (or, for an anonymous browser that came by a client's link, that client's language).

    Placed after LocaleMiddleware (which handles anonymous visitors by Accept-Language) and
    AuthenticationMiddleware; LocaleMiddleware's response step then sets Content-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated:
            language = language_for(user)
        else:
            session = getattr(request, "session", None)
            linked = session.get(LINK_LANGUAGE_KEY) if session is not None else None
            if linked:
                language = supported(linked)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
