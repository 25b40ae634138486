"""Database connection settings: persistent PostgreSQL connections by default in production, or
psycopg's pool on request; bad combinations stop start-up with one line naming the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.foundation.test_settings_and_pages import GOOD_PROD_ENV

PG = "postgres://alliance@db.internal:5432/alliance"
SHOW = (
    "import json, alliance.settings as s; d = s.DATABASES['default']; "
    "print(json.dumps({'age': d['CONN_MAX_AGE'], 'checks': d['CONN_HEALTH_CHECKS'], "
    "'pool': d.get('OPTIONS', {}).get('pool')}))"
)

pytestmark = pytest.mark.slow  # each test starts Python with production settings


def _settings(env_updates: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    scrubbed = {"DATABASE_URL", "DB_CONN_MAX_AGE", "DB_POOL", "DB_POOL_TIMEOUT", "ALLIANCE_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env["ALLIANCE_DATA_DIR"] = str(tmp_path)
    env.update(env_updates)
    return subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, timeout=60
    )


def _db(env_updates: dict[str, str], tmp_path) -> dict:
    result = _settings(env_updates, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_on_postgresql_keeps_connections_and_checks_them(tmp_path):
    db = _db({**GOOD_PROD_ENV, "DATABASE_URL": PG}, tmp_path)
    assert db == {"age": 600, "checks": True, "pool": None}


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": PG},  # development
        {**GOOD_PROD_ENV},  # production on SQLite: nothing to keep
    ],
)
def test_elsewhere_a_connection_is_closed_after_each_request(env, tmp_path):
    assert _db(env, tmp_path) == {"age": 0, "checks": False, "pool": None}


def test_the_max_age_can_be_set(tmp_path):
    db = _db({**GOOD_PROD_ENV, "DATABASE_URL": PG, "DB_CONN_MAX_AGE": "60"}, tmp_path)
    assert db == {"age": 60, "checks": True, "pool": None}


def test_a_pool_instead_of_persistent_connections(tmp_path):
    db = _db({**GOOD_PROD_ENV, "DATABASE_URL": PG, "DB_POOL": "2:8"}, tmp_path)
    assert db == {"age": 0, "checks": False, "pool": {"min_size": 2, "max_size": 8, "timeout": 10}}


@pytest.mark.parametrize(
    "env,words",
    [
        ({"DB_POOL": "eight"}, "DB_POOL must be MIN:MAX"),
        ({"DB_POOL": "9:2"}, "DB_POOL must have 0 <= MIN <= MAX"),
        ({"DB_POOL": "2:8", "DB_CONN_MAX_AGE": "60"}, "cannot be used together"),
        (
            {"DB_POOL": "2:8", "DATABASE_URL": "sqlite:////tmp/x.sqlite3"},
            "DB_POOL needs PostgreSQL",
        ),
    ],
)
def test_bad_connection_settings_stop_start_up_with_one_line(env, words, tmp_path):
    result = _settings({**GOOD_PROD_ENV, "DATABASE_URL": PG, **env}, tmp_path)
    assert result.returncode != 0
    assert words in result.stderr.strip().splitlines()[-1]


# Four threads (as gunicorn's gthread workers) each serve five requests; Django's request
# signals open, keep, return or close the connection as a WSGI server would have them.
THREADED_REQUESTS = (
    "import django, threading; django.setup()\n"
    "from django.core.signals import request_finished, request_started\n"
    "from django.db import connection\n"
    "pids = set(); lock = threading.Lock()\n"
    "def work():\n"
    "    for _ in range(5):\n"
    "        request_started.send(sender=None)\n"
    "        with connection.cursor() as c:\n"
    "            c.execute('SELECT pg_backend_pid()'); pid = c.fetchone()[0]\n"
    "        with lock: pids.add(pid)\n"
    "        request_finished.send(sender=None)\n"
    "ts = [threading.Thread(target=work) for _ in range(4)]\n"
    "[t.start() for t in ts]; [t.join() for t in ts]\n"
    "print(len(pids))\n"
)


def _threaded_connections(env_updates: dict[str, str], tmp_path) -> int:
    """Distinct PostgreSQL server processes used by 20 requests on 4 threads."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    env = {k: v for k, v in os.environ.items() if k not in {"DB_CONN_MAX_AGE", "DB_POOL"}}
    env.update({"ALLIANCE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "alliance.settings"})
    env.update(env_updates)
    result = subprocess.run(
        [sys.executable, "-c", THREADED_REQUESTS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


def test_kept_connections_are_one_per_thread_on_postgresql(tmp_path):
    assert _threaded_connections({"DB_CONN_MAX_AGE": "600"}, tmp_path) == 4


def test_the_pool_bounds_connections_across_threads_on_postgresql(tmp_path):
    assert 1 <= _threaded_connections({"DB_POOL": "1:2"}, tmp_path) <= 2


def test_without_either_each_request_opens_its_own_on_postgresql(tmp_path):
    # Server process ids can be reused once a connection closes, so "more than the threads".
    assert _threaded_connections({"DB_CONN_MAX_AGE": "0"}, tmp_path) > 4
