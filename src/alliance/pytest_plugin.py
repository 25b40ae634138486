"""Loaded by pytest (``-p alliance.pytest_plugin`` in pyproject.toml) before the settings.

A plain ``pytest`` run must not write generated secrets into the developer's own data
directory: unless ALLIANCE_DATA_DIR is already set (``python3 dev.py test`` sets the checkout's
``var/``), the session gets a private temporary one, removed when the session ends.
Subprocesses the tests start inherit it, so they share the session's secrets.

Once Django is set up, the test process swaps two production settings for fast ones:

* passwords are hashed with MD5 (argon2 is deliberately slow, and tests create many users);
  argon2 and PBKDF2 hashes still verify;
* the default cache is in memory (``LocMemCache``), emptied before every test, instead of the
  database cache. The database cache stays configured under the ``production`` alias, so the
  test database still gets its ``alliance_cache`` table: the worker, scheduler and web
  processes that ``real_process`` tests start use the production settings and share it;
* WhiteNoise does not look static files up through the finders: it would scan every static file
  again for each test client (about a tenth of a second each time). The live server of the
  browser journeys serves static files through Django's own handler.

A test marked ``real_settings`` runs with the production hashers and cache instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

_created: str | None = None
# The production values, kept for tests marked ``real_settings``.
_production: dict[str, Any] = {}

if not os.environ.get("ALLIANCE_DATA_DIR", "").strip():
    # mkdtemp creates the folder 0700, as the settings would.
    _created = tempfile.mkdtemp(prefix="alliance-test-data-")
    os.environ["ALLIANCE_DATA_DIR"] = _created


def _django_ready(config: pytest.Config) -> bool:
    if not config.pluginmanager.hasplugin("django"):  # a Django-free run: -p no:django
        return False
    # Django is imported only once pytest-django is known to be active: this plugin also loads
    # for Django-free runs (-p no:django), before any settings exist.
    from django.conf import settings  # noqa: PLC0415

    return settings.configured


@pytest.hookimpl(trylast=True)  # after pytest-django has set Django up
def pytest_configure(config: pytest.Config) -> None:
    if not _django_ready(config):
        return
    # Django-free runs (-p no:django) load this plugin too: see _django_ready.
    from django.conf import settings  # noqa: PLC0415
    from django.test.utils import override_settings  # noqa: PLC0415

    _production["PASSWORD_HASHERS"] = list(settings.PASSWORD_HASHERS)
    _production["CACHES"] = dict(settings.CACHES)
    # override_settings sends setting_changed, which resets Django's hasher and cache handlers.
    override_settings(
        WHITENOISE_USE_FINDERS=False,
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.MD5PasswordHasher",
            *_production["PASSWORD_HASHERS"],
        ],
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "alliance-tests",
            },
            "production": _production["CACHES"]["default"],
        },
    ).enable()


@pytest.fixture(autouse=True)
def _alliance_test_settings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty the in-memory cache before each test; production settings where marked."""
    if not _production:
        yield
        return
    # Django-free runs (-p no:django) load this plugin too: see _django_ready.
    from django.core.cache import caches  # noqa: PLC0415
    from django.test.utils import override_settings  # noqa: PLC0415

    if request.node.get_closest_marker("real_settings") is None:
        caches["default"].clear()
        yield
        return
    with override_settings(
        PASSWORD_HASHERS=_production["PASSWORD_HASHERS"], CACHES=_production["CACHES"]
    ):
        yield


def pytest_unconfigure(config: object) -> None:
    if _created is not None:
        shutil.rmtree(_created, ignore_errors=True)
