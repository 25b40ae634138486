"""The test run's fast settings (alliance/pytest_plugin.py) and the marker that undoes them."""

from __future__ import annotations

import urllib.request

import pytest
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache


def test_passwords_use_the_fast_hasher_and_production_hashes_still_verify():
    assert get_hasher().algorithm == "md5"
    assert make_password("correct horse battery").startswith("md5$")
    # Hashes made with the production hasher still verify (PBKDF2: argon2 is the slow one).
    pbkdf2 = get_hasher("pbkdf2_sha256")
    assert check_password(
        "correct horse battery", pbkdf2.encode("correct horse battery", "s" * 22, iterations=1000)
    )
    assert get_hasher("argon2").algorithm == "argon2"


def test_the_cache_is_in_memory_and_starts_empty_in_every_test():
    assert isinstance(caches["default"], LocMemCache)
    assert cache.get("left-by-a-test") is None
    cache.set("left-by-a-test", 1)


def test_the_cache_is_emptied_between_tests():
    # Runs after the test above, which left a value behind.
    assert cache.get("left-by-a-test") is None
    cache.set("left-by-a-test", 1)


@pytest.mark.django_db
def test_the_database_cache_table_exists_for_processes_with_production_settings():
    production = caches["production"]
    assert isinstance(production, DatabaseCache)
    assert production.add("claimed", 1) and not production.add("claimed", 1)


@pytest.mark.real_settings
@pytest.mark.django_db
def test_real_settings_gives_back_argon2_and_the_database_cache():
    assert get_hasher().algorithm == "argon2"
    assert isinstance(caches["default"], DatabaseCache)
    assert cache.add("claimed", 1) and not cache.add("claimed", 1)


def test_the_live_server_still_serves_static_files(live_server):
    with urllib.request.urlopen(f"{live_server.url}/static/alliance/htmx-2.0.11.min.js") as r:
        assert r.status == 200 and b"htmx" in r.read()
