"""Languages a client-facing text can be in: the site's configured languages, by BCP-47 code.

The i18n machinery (settings.LANGUAGES, LocaleMiddleware) decides which language is active; this
module only answers "which language is that, and which of ours serves it". Where LANGUAGES is
left at Django's built-in list of every language Django knows, nothing beyond the default is
offered: that list says nothing about what this site supports.
"""

from __future__ import annotations

from django.conf import global_settings, settings
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
    """(code, name) of the languages this site offers, the default first."""
    if settings.LANGUAGES is global_settings.LANGUAGES:
        return [(DEFAULT_LANGUAGE, language_name(DEFAULT_LANGUAGE))]
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
