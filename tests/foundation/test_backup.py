"""`alliance backup` and `alliance restore`: the round trip keeps encrypted values and the audit
chain, and a restore refuses keys that cannot decrypt the backup, or a database in use.

SQLite: real `alliance` processes on a file database of their own (the suite's own test
database is in memory). PostgreSQL: pg_dump and pg_restore against the suite's test database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from alliance.core import audit, crypto
from alliance.core.audit import verify_chain
from alliance.core.env import private_file
from alliance.core.models import AuditEvent
from alliance.goals.models import Goal

ROOT = Path(__file__).resolve().parents[2]
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()

ON_POSTGRES = connection.vendor == "postgresql"

pytestmark = pytest.mark.slow  # backup and restore through real `alliance` processes

sqlite_only = pytest.mark.skipif(
    ON_POSTGRES,
    reason="runs its own SQLite processes; the PostgreSQL pass tests pg_dump/pg_restore",
)
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="pg_dump/pg_restore need PostgreSQL (set DATABASE_URL to a postgres:// URL)",
)

SEED = """
from alliance.accounts.models import Clinic, Role
from alliance.core import audit
from alliance.goals.models import Goal
from tests.conftest import make_client, make_staff
clinic = Clinic.objects.create(name="North Clinic")
tess = make_staff(clinic, Role.THERAPIST, "Tess Therapist", "tess@north.test")
cleo = make_client(clinic, "Cleo Client", "cleo@client.test", [tess])
for i in range(3):
    Goal.objects.create(clinic=clinic, client=cleo, wording=f"Walk to the park, day {i}",
                        proposed_by=tess, proposed_by_side="therapist")
    audit.record(clinic=clinic, actor=tess, action="view", record_type="client_record", client=cleo)
"""

CHANGE = """
from alliance.accounts.models import Clinic, User
from alliance.core import audit
from alliance.goals.models import Goal
goals = list(Goal.objects.order_by("wording"))
goals[0].wording = "Changed after the backup"
goals[0].save()
goals[1].delete()
audit.record(clinic=Clinic.objects.get(), actor=User.objects.get(email="tess@north.test"),
             action="update", record_type="client_record")
"""

READ = """
import json
from allauth.mfa.models import Authenticator
from alliance.core import crypto
from alliance.core.models import AuditEvent
from alliance.goals.models import Goal
print(json.dumps({
    "goals": sorted(Goal.objects.values_list("wording", flat=True)),
    "audit": AuditEvent.objects.count(),
    "totp": [len(crypto.decrypt(a.data["secret"])) for a in Authenticator.objects.filter(type="totp")],
}))
"""


def alliance(
    env: dict[str, str], *args: str, keys: str = KEY_A
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alliance", *args],
        env={**env, "FIELD_ENCRYPTION_KEYS": keys},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def read(env: dict[str, str], keys: str = KEY_A, first: str = "") -> dict:
    """What the database holds, read by the app; ``first`` runs before, in the same process."""
    return json.loads(
        ok(alliance(env, "shell", "-c", first + READ, keys=keys)).strip().splitlines()[-1]
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> tuple[Path, dict]:
    """A migrated and seeded SQLite file, and what it holds, made once: migrating takes seconds."""
    folder = tmp_path_factory.mktemp("template")
    env = sqlite_env(folder)
    ok(alliance(env, "migrate", "--verbosity", "0"))
    seeded = read(env, first=SEED)
    return folder / "data" / "alliance.sqlite3", seeded


def sqlite_env(folder: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["ALLIANCE_DATA_DIR"] = str(folder / "data")
    env["SECRET_KEY"] = "backup-test-" + "x" * 50
    return env


@pytest.fixture
def installation(tmp_path, seeded_template) -> tuple[dict[str, str], Path]:
    env = sqlite_env(tmp_path)
    (tmp_path / "data").mkdir(mode=0o700)
    live = private_file(tmp_path / "data" / "alliance.sqlite3")  # as the app creates it
    source = sqlite3.connect(seeded_template[0])
    target = sqlite3.connect(live)
    source.backup(target)
    target.close()
    source.close()
    return env, live


@sqlite_only
def test_sqlite_round_trip_keeps_encrypted_values_and_the_audit_chain(
    installation, seeded_template, tmp_path
):
    env, live = installation
    before = seeded_template[1]
    assert len(before["goals"]) == 3 and before["audit"] == 3 and before["totp"] == [32]

    out = ok(alliance(env, "backup", str(tmp_path)))
    backups = list(tmp_path.glob("alliance-*.sqlite3"))
    assert len(backups) == 1 and str(backups[0]) in out
    assert backups[0].stat().st_mode & 0o777 == 0o600
    assert "FIELD_ENCRYPTION_KEYS" in out
    # A single self-contained file: no -wal or -shm beside it.
    assert sorted(p.name for p in tmp_path.glob("alliance-*")) == [backups[0].name]

    changed = read(env, first=CHANGE)
    assert changed["goals"] != before["goals"] and changed["audit"] == 4

    # The key was rotated since the backup (new key first, old one kept): the backup still opens.
    out = ok(alliance(env, "restore", str(backups[0]), keys=f"{KEY_B},{KEY_A}"))
    assert "Audit trail intact: 3 entries verified." in out
    kept = list(live.parent.glob("alliance.sqlite3.before-restore-*"))
    assert len(kept) == 1 and str(kept[0]) in out
    assert kept[0].stat().st_mode & 0o777 == 0o600 and live.stat().st_mode & 0o777 == 0o600

    assert read(env, keys=f"{KEY_B},{KEY_A}") == before
    assert "Audit trail intact: 3 entries verified." in ok(alliance(env, "audit_verify"))
    # The restored database takes writes, and its chain goes on from the restored entries.
    ok(alliance(env, "shell", "-c", CHANGE))
    assert "4 entries verified" in ok(alliance(env, "audit_verify"))


@sqlite_only
def test_sqlite_restore_refuses_keys_that_cannot_decrypt_and_changes_nothing(
    installation, tmp_path
):
    env, live = installation
    backup_file = tmp_path / "before.sqlite3"
    ok(alliance(env, "backup", str(backup_file)))
    changed = read(env, first=CHANGE)
    fingerprint = sha256(live)

    result = alliance(env, "restore", str(backup_file), keys=KEY_B)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "restore refused: FIELD_ENCRYPTION_KEYS cannot decrypt this backup" in lines[0]
    assert "restore the key set that was in use when the backup was made" in lines[0]
    assert "Traceback" not in result.stderr

    assert sha256(live) == fingerprint
    assert read(env) == changed
    assert list(live.parent.glob("*.before-restore-*")) == []
    assert list(live.parent.glob(".*restore-*")) == []  # no staged copy left behind


@sqlite_only
def test_sqlite_restore_refuses_while_the_database_is_open_elsewhere(installation, tmp_path):
    env, live = installation
    backup_file = tmp_path / "before.sqlite3"
    ok(alliance(env, "backup", str(backup_file)))
    # An idle connection, as a server keeps between requests (WAL mode, as the app sets it).
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(live)!r}); c.execute('PRAGMA journal_mode=WAL')\n"
            "c.execute('SELECT count(*) FROM django_migrations').fetchall()\n"
            "print('open', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "open"
        result = alliance(env, "restore", str(backup_file))
        assert result.returncode == 1
        assert "is in use" in result.stderr and "stop them" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        server.kill()
        server.wait()
    assert list(live.parent.glob("*.before-restore-*")) == []
    assert "entries verified" in ok(alliance(env, "restore", str(backup_file)))


def _backup_with(tmp_path: Path, template: Path, name: str, sql: str) -> Path:
    path = tmp_path / name
    shutil.copyfile(template, path)
    db = sqlite3.connect(path)
    db.execute(sql)
    db.commit()
    db.close()
    return path


@sqlite_only
def test_sqlite_restore_refuses_what_is_not_an_alliance_backup(
    installation, seeded_template, tmp_path
):
    env, live = installation
    fingerprint = sha256(live)
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    future = _backup_with(
        tmp_path,
        seeded_template[0],
        "future.sqlite3",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('goals', '9999_future', '2030-01-01')",
    )
    for path, message in [
        (not_sqlite, "is not an SQLite backup"),
        (other, "holds no Alliance database"),
        (tmp_path / "missing.sqlite3", "there is no backup file"),
        (
            future,
            "the backup was made by a newer Alliance (1 unknown migrations, first goals.9999_future)",
        ),
    ]:
        result = alliance(env, "restore", str(path))
        assert result.returncode == 1 and message in result.stderr, result.stderr
    assert sha256(live) == fingerprint
    # An existing file is not overwritten without --overwrite.
    result = alliance(env, "backup", str(not_sqlite))
    assert result.returncode == 1 and "exists" in result.stderr
    assert not_sqlite.read_text() == "hello"

    # An older backup is restored, and the operator is told to migrate.
    older = _backup_with(
        tmp_path,
        seeded_template[0],
        "older.sqlite3",
        "DELETE FROM django_migrations WHERE app = 'goals' AND name = "
        "(SELECT max(name) FROM django_migrations WHERE app = 'goals')",
    )
    out = ok(alliance(env, "restore", str(older)))
    assert "The backup predates 1 migrations: run `alliance migrate`" in out


# --- PostgreSQL --------------------------------------------------------------------------------
def _seed_postgres(personas) -> None:
    for i in range(3):
        Goal.objects.create(
            clinic=personas.clinic,
            client=personas.client,
            wording=f"Walk, day {i}",
            proposed_by=personas.therapist,
            proposed_by_side="therapist",
        )
        audit.record(
            clinic=personas.clinic,
            actor=personas.therapist,
            action="view",
            record_type="client_record",
            client=personas.client,
        )


def _snapshot() -> dict:
    return {
        "goals": sorted(Goal.objects.values_list("wording", flat=True)),
        "audit": AuditEvent.objects.count(),
        "totp": sorted(
            crypto.decrypt(a.data["secret"]) for a in Authenticator.objects.filter(type="totp")
        ),
    }


def _change(personas) -> None:
    goals = list(Goal.objects.order_by("wording"))
    goals[0].wording = "Changed after the backup"
    goals[0].save()
    goals[1].delete()
    audit.record(
        clinic=personas.clinic,
        actor=personas.therapist,
        action="update",
        record_type="client_record",
    )


def _wait_for_no_other_sessions() -> None:
    """A closed session's server process leaves pg_stat_activity a moment after the close.

    Sessions still there after that belong to earlier tests of this pytest process (the
    browser journeys' live server thread keeps its connection for the whole run): they are
    idle and ended here, as an operator stops the server before a restore.
    """

    others = (
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    for attempt in range(2):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) " + others)
                if cursor.fetchone()[0] == 0:
                    return
            time.sleep(0.05)
        if attempt == 0:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) " + others)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgres_round_trip_with_pg_dump_and_pg_restore(personas, tmp_path, capsys):
    _seed_postgres(personas)
    before = _snapshot()
    assert len(before["goals"]) == 3 and len(before["totp"]) == 5

    call_command("backup", str(tmp_path))
    dumps = list(tmp_path.glob("alliance-*.dump"))
    assert len(dumps) == 1 and dumps[0].stat().st_mode & 0o777 == 0o600
    assert dumps[0].read_bytes()[:5] == b"PGDMP"

    _change(personas)
    assert _snapshot() != before

    # Wrong keys: refused in one line before pg_restore runs; the database keeps its changes.
    changed = _snapshot()
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]),
        pytest.raises(CommandError) as refused,
    ):
        call_command("restore", str(dumps[0]))
    message = str(refused.value)
    assert "restore refused: FIELD_ENCRYPTION_KEYS cannot decrypt this backup" in message
    assert "\n" not in message
    assert _snapshot() == changed

    # Another session (a server or a worker) on the database: refused unless --force.

    other = psycopg.connect(
        **{
            k: v
            for k, v in connection.get_connection_params().items()
            if k in {"dbname", "user", "password", "host", "port"}
        }
    )
    try:
        with pytest.raises(CommandError, match="other sessions are connected"):
            call_command("restore", str(dumps[0]))
    finally:
        other.close()
    assert _snapshot() == changed
    _wait_for_no_other_sessions()

    capsys.readouterr()
    call_command("restore", str(dumps[0]))
    out = capsys.readouterr().out
    assert f"Audit trail intact: {before['audit']} entries verified." in out
    assert _snapshot() == before
    assert verify_chain() == []
