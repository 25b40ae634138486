"""Backup and restore of the database, and the checks that keep a restore from doing harm.

SQLite: a consistent online copy through SQLite's backup API, safe while the server and the
worker run. A restore copies the backup beside the live file, checks it (integrity, schema
version, a sample of every encrypted column, the audit chain), and swaps it in with one rename
while it holds the only connection to the old file; the old file is kept beside it.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`,
run with the connection settings (the password travels in the environment, never in argv). The
encrypted columns are sampled from the archive itself before anything is restored.

Every refusal is one line (BackupError) and leaves the current database untouched.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from allauth.mfa.models import Authenticator
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader

from alliance.core import crypto
from alliance.core.audit import verify_chain
from alliance.core.env import private_dir, private_file
from alliance.core.fields import encrypted_fields
from alliance.core.models import AuditEvent
from alliance.core.sqlite.base import is_file_database

# Encrypted values checked per column before a restore: the first and the last rows (by
# insertion order), which spans values written under old and new keys alike.
SAMPLE_PER_COLUMN = 25
SQLITE_MAGIC = b"SQLite format 3\x00"
NOTHING_CHANGED = "Nothing was changed."
CHECK_ALIAS = "alliance_restore_check"


class BackupError(Exception):
    """Why a backup or restore was refused, in one line; the database is as it was."""


@dataclass
class RestoreResult:
    database: str
    encrypted_checked: int
    audit_entries: int | None  # None: the chain could not be read before migrating
    audit_breaks: list[str] = field(default_factory=list)
    pending_migrations: list[str] = field(default_factory=list)
    previous_copy: Path | None = None


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def describe_database(alias: str = "default") -> str:
    connection = connections[alias]
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite file {settings_dict['NAME']}"
    if connection.vendor == "postgresql":
        host = settings_dict.get("HOST") or "the local socket"
        port = settings_dict.get("PORT") or 5432
        return f"PostgreSQL database {settings_dict['NAME']} on {host} port {port}"
    return f"{connection.vendor} database {settings_dict['NAME']}"


# --- Checks shared by both databases ---------------------------------------------------------
def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted field."""
    return [
        (model._meta.db_table, str(model._meta.get_field(name).column))  # type: ignore[union-attr]
        for model, names in encrypted_fields()
        for name in names
    ]


def totp_table() -> str:
    return str(Authenticator._meta.db_table)


class KeyCheck:
    """Decrypts sampled stored values with the configured FIELD_ENCRYPTION_KEYS."""

    def __init__(self) -> None:
        self.checked = 0
        self.failed = 0

    def value(self, stored: str | None) -> None:
        if not stored:
            return
        self.checked += 1
        try:
            crypto.decrypt(stored)
        except crypto.DecryptionError:
            self.failed += 1

    def totp(self, raw: str | None) -> None:
        """An allauth authenticator's JSON data, whose TOTP secret is encrypted."""
        try:
            data = json.loads(raw or "")
        except ValueError:
            return
        secret = data.get("secret", "") if isinstance(data, dict) else ""
        if isinstance(secret, str) and secret.startswith(crypto.PREFIX):
            self.value(secret)

    def verdict(self) -> None:
        if self.failed:
            raise BackupError(
                "restore refused: FIELD_ENCRYPTION_KEYS cannot decrypt this backup "
                f"({self.failed} of {self.checked} sampled encrypted values failed); restore the "
                f"key set that was in use when the backup was made. {NOTHING_CHANGED}"
            )


def migration_state(applied: set[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(migrations the backup has that this code does not know, migrations it lacks)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    replaced = {r for m in loader.disk_migrations.values() for r in (m.replaces or [])}
    apps_here = {app for app, _ in known}
    unknown = sorted(
        f"{app}.{name}"
        for app, name in applied
        if app in apps_here and (app, name) not in known and (app, name) not in replaced
    )
    pending = sorted(
        f"{app}.{name}"
        for (app, name), migration in loader.disk_migrations.items()
        if (app, name) not in applied
        and not (migration.replaces and all(tuple(r) in applied for r in migration.replaces))
    )
    return unknown, pending


def _refuse_unknown_migrations(applied: set[tuple[str, str]]) -> list[str]:
    if not applied:
        raise BackupError(
            f"restore refused: this backup holds no Alliance database. {NOTHING_CHANGED}"
        )
    unknown, pending = migration_state(applied)
    if unknown:
        raise BackupError(
            f"restore refused: the backup was made by a newer Alliance ({len(unknown)} unknown "
            f"migrations, first {unknown[0]}); upgrade Alliance, then restore. {NOTHING_CHANGED}"
        )
    return pending


# --- Backup ----------------------------------------------------------------------------------
def backup(target: Path | str, *, overwrite: bool = False, alias: str = "default") -> Path:
    """Write a backup of the database to ``target`` (a file, or a folder to name one in)."""
    vendor = connections[alias].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(
            f"backup refused: {vendor} databases are not supported; see docs/backup.md"
        )
    target = Path(target).expanduser()
    if target.is_dir():
        target = target / f"alliance-{_stamp()}.{'sqlite3' if vendor == 'sqlite' else 'dump'}"
    if not target.parent.is_dir():
        raise BackupError(f"backup refused: the folder {target.parent} does not exist")
    if vendor == "sqlite" and target.resolve() == _sqlite_path(alias):
        raise BackupError("backup refused: that is the database itself; choose another file")
    if target.exists() and not overwrite:
        raise BackupError(f"backup refused: {target} exists; choose a new name or pass --overwrite")
    # Written under a temporary name created 0600, renamed into place only once it checks out.
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    private_file(partial)
    try:
        if vendor == "sqlite":
            _sqlite_backup(_sqlite_path(alias), partial)
        else:
            _pg_dump(alias, partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def _sqlite_path(alias: str) -> Path:
    name = connections[alias].settings_dict["NAME"]
    if not is_file_database(name):
        raise BackupError("the database is in memory: there is no file to back up or restore")
    return Path(name).resolve()


def _quick_check(connection: sqlite3.Connection) -> str | None:
    rows = [row[0] for row in connection.execute("PRAGMA quick_check")]
    return None if rows == ["ok"] else "; ".join(str(r) for r in rows[:3])


def _sqlite_backup(source_path: Path, partial: Path) -> None:
    if not source_path.exists():
        raise BackupError(f"backup refused: there is no database at {source_path}")
    source = sqlite3.connect(source_path, timeout=20)
    try:
        dest = sqlite3.connect(partial)
        try:
            # One step: the copy is one read snapshot of the source. In WAL mode the server and
            # the worker keep writing meanwhile.
            source.backup(dest)
            # A single self-contained file: no -wal beside the backup.
            dest.execute("PRAGMA journal_mode=DELETE")
            problem = _quick_check(dest)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from None
    finally:
        source.close()
    if problem:
        raise BackupError(f"backup failed: the copy does not pass SQLite's quick_check ({problem})")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- Restore ---------------------------------------------------------------------------------
def restore(source: Path | str, *, force: bool = False, alias: str = "default") -> RestoreResult:
    """Replace the database with the backup at ``source``, after checking it.

    ``force`` restores a backup whose audit chain does not verify (SQLite), and restores while
    other sessions are connected (PostgreSQL).
    """
    source = Path(source).expanduser()
    if not source.is_file():
        raise BackupError(f"restore refused: there is no backup file at {source}")
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        return _sqlite_restore(source, alias, force)
    if vendor == "postgresql":
        return _pg_restore(source, alias, force)
    raise BackupError(f"restore refused: {vendor} databases are not supported; see docs/backup.md")


def _in_use(live: Path) -> str:
    return (
        f"restore refused: the database {live} is in use (by the server, a worker or the "
        f"scheduler); stop them, then run the restore again. {NOTHING_CHANGED}"
    )


def _exclusive(live: Path, *, leave_wal: bool = False) -> sqlite3.Connection:
    """The only connection to ``live``, holding an exclusive lock; refuses while others are open.

    In exclusive locking mode, BEGIN EXCLUSIVE fails on a WAL database that any other
    connection has open, even an idle one, so a server between requests is seen too.
    ``leave_wal`` first moves the file out of WAL mode (which also needs sole access), so no
    -wal or -shm of the old file is left to be read together with a new one.
    """
    holder = sqlite3.connect(live, timeout=2, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        if leave_wal:
            mode = holder.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            if str(mode).lower() != "delete":
                raise sqlite3.OperationalError("still in WAL mode")
        holder.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError:
        holder.close()
        raise BackupError(_in_use(live)) from None
    except sqlite3.DatabaseError as exc:
        holder.close()
        raise BackupError(
            f"restore refused: the current database {live} cannot be opened ({exc}); move it "
            f"aside, then run the restore again. {NOTHING_CHANGED}"
        ) from None
    return holder


def _sqlite_restore(source: Path, alias: str, force: bool) -> RestoreResult:
    live = _sqlite_path(alias)
    with open(source, "rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(
                f"restore refused: {source} is not an SQLite backup (a PostgreSQL dump is restored "
                f"on PostgreSQL; see docs/backup.md). {NOTHING_CHANGED}"
            )
    # This process's own connection would count as a user of the live file.
    connections[alias].close()
    if live.exists():
        _exclusive(live).close()  # fail fast, before the copy and the checks
    private_dir(live.parent)
    staged = live.with_name(f".{live.name}.restore-{secrets.token_hex(4)}")
    private_file(staged)
    try:
        result = _stage_and_check(source, staged, alias, force)
        result.previous_copy = _swap(live, staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{staged}{suffix}").unlink(missing_ok=True)
        raise
    connections[alias].close()
    result.database = str(live)
    return result


def _stage_and_check(source: Path, staged: Path, alias: str, force: bool) -> RestoreResult:
    try:
        # Read-only, so the backup file itself is never touched.
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dest = sqlite3.connect(staged)
            try:
                src.backup(dest)
                dest.execute("PRAGMA journal_mode=DELETE")
                problem = _quick_check(dest)
                if problem:
                    raise BackupError(
                        f"restore refused: the backup is damaged (quick_check: {problem}). {NOTHING_CHANGED}"
                    )
                tables = {
                    r[0] for r in dest.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                applied: set[tuple[str, str]] = set()
                if "django_migrations" in tables:
                    applied = {
                        (a, n) for a, n in dest.execute("SELECT app, name FROM django_migrations")
                    }
                pending = _refuse_unknown_migrations(applied)
                keys = KeyCheck()
                _sample_sqlite(dest, tables, keys)
                keys.verdict()
                # WAL, as every connection of the app sets: a server that opens the restored file
                # is then seen by a later restore even while idle.
                dest.execute("PRAGMA journal_mode=WAL")
            finally:
                dest.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"restore refused: cannot read the backup ({exc}). {NOTHING_CHANGED}"
        ) from None
    entries, breaks = _audit_of_file(staged, alias)
    if breaks and not force:
        raise BackupError(
            f"restore refused: the backup's audit chain does not verify ({breaks[0]}); keep the "
            f"file as evidence, and pass --force to restore it anyway. {NOTHING_CHANGED}"
        )
    return RestoreResult(
        database="",
        encrypted_checked=keys.checked,
        audit_entries=entries,
        audit_breaks=breaks,
        pending_migrations=pending,
    )


def _sample_sqlite(db: sqlite3.Connection, tables: set[str], keys: KeyCheck) -> None:
    for table, column in encrypted_columns():
        if table not in tables or column not in _sqlite_columns(db, table):
            continue  # an older backup: the column arrives with a later migration
        for order in ("ASC", "DESC"):
            rows = db.execute(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL AND "{column}" != \'\' '
                f"ORDER BY rowid {order} LIMIT ?",
                (SAMPLE_PER_COLUMN,),
            )
            for (value,) in rows:
                keys.value(value)
    table = totp_table()
    if table in tables and "data" in _sqlite_columns(db, table):
        for (raw,) in db.execute(f"SELECT data FROM \"{table}\" WHERE type = 'totp'"):
            keys.totp(raw)


def _sqlite_columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}


def _audit_of_file(staged: Path, alias: str) -> tuple[int | None, list[str]]:
    """Verify the audit chain in the staged file, through a temporary database alias."""

    settings_dict = copy.deepcopy(connections[alias].settings_dict)
    settings_dict["NAME"] = str(staged)
    # The staged file is renamed as one file: its -wal must be gone, so nothing changes its mode.
    settings_dict["OPTIONS"] = {
        k: v for k, v in settings_dict.get("OPTIONS", {}).items() if k != "init_command"
    }
    connections.settings[CHECK_ALIAS] = settings_dict
    try:
        breaks = [_describe_break(b) for b in verify_chain(using=CHECK_ALIAS)]
        return AuditEvent.objects.using(CHECK_ALIAS).count(), breaks
    except DatabaseError:
        return None, []  # an older schema: verified after `alliance migrate`
    finally:
        connections[CHECK_ALIAS].close()
        del connections[CHECK_ALIAS]
        del connections.settings[CHECK_ALIAS]


def _describe_break(b: Any) -> str:
    return f"clinic {b.clinic_id} breaks at entry #{b.seq}: {b.reason}"


def _swap(live: Path, staged: Path) -> Path | None:
    """Rename ``staged`` over ``live``; the old file is kept as ``<name>.before-restore-<time>``."""
    if not live.exists():
        # Left by a database that is gone: SQLite would replay them into the new file.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        os.replace(staged, live)
        _fsync_dir(live.parent)
        return None
    holder = _exclusive(live, leave_wal=True)
    try:
        previous = live.with_name(f"{live.name}.before-restore-{_stamp()}")
        try:
            os.link(live, previous)  # the old file as it is, at no cost
        except OSError:
            private_file(previous)
            shutil.copyfile(live, previous)  # consistent: no one else can write it now
        os.replace(staged, live)
        _fsync_dir(live.parent)
    except sqlite3.OperationalError:
        raise BackupError(_in_use(live)) from None
    finally:
        holder.close()
    return previous


# --- PostgreSQL ------------------------------------------------------------------------------
def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools (the server's major "
            "version or newer), or follow docs/backup.md"
        )
    return path


def pg_environment(alias: str = "default") -> dict[str, str]:
    """libpq variables for the pg_* tools: the password is never on the command line."""
    settings_dict = connections[alias].settings_dict
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        value = settings_dict.get(key)
        if value:
            env[var] = str(value)
    options = settings_dict.get("OPTIONS", {})
    for key, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _run_tool(cmd: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(f"{what}: {lines[0] if lines else f'exit status {result.returncode}'}")
    return result


def _pg_dump(alias: str, partial: Path) -> None:
    env = pg_environment(alias)
    _run_tool(
        [_pg_tool("pg_dump"), "--format=custom", "--file", str(partial)], env, "pg_dump failed"
    )
    listing = _run_tool([_pg_tool("pg_restore"), "--list", str(partial)], env, "backup failed")
    if "django_migrations" not in listing.stdout:
        raise BackupError("backup failed: the dump holds no Alliance tables")


def _copy_rows(
    archive: Path, table: str, env: dict[str, str], limit: int
) -> Iterator[dict[str, str | None]]:
    """The first ``limit`` rows of ``table`` in a custom-format archive, as column -> text.

    Read from pg_restore's COPY output, so the archive is checked without restoring it.
    """
    cmd = [_pg_tool("pg_restore"), "--data-only", "--table", table, "--file", "-", str(archive)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    try:
        columns: list[str] | None = None
        count = 0
        for line in proc.stdout:
            line = line.rstrip("\n")
            if columns is None:
                if line.startswith("COPY ") and line.endswith("FROM stdin;"):
                    inside = line[line.index("(") + 1 : line.rindex(")")]
                    columns = [c.strip().strip('"') for c in inside.split(",")]
                continue
            if line == "\\.":
                break
            values = [_copy_unescape(v) for v in line.split("\t")]
            yield dict(zip(columns, values, strict=False))
            count += 1
            if count >= limit:
                break
    finally:
        proc.kill()
        proc.wait()


def _copy_unescape(text: str) -> str | None:
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    out, i = [], 0
    escapes = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(escapes.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _archive_tables(archive: Path, env: dict[str, str]) -> set[str]:
    listing = _run_tool(
        [_pg_tool("pg_restore"), "--list", str(archive)],
        env,
        f"restore refused: {archive} is not a pg_dump custom-format archive",
    )
    tables = set()
    for line in listing.stdout.splitlines():
        # "215; 0 16390 TABLE DATA public goals_goal postgres"
        parts = line.split()
        if "TABLE" in parts and "DATA" in parts:
            at = parts.index("DATA")
            if at + 2 < len(parts):
                tables.add(parts[at + 2])
    return tables


def _pg_restore(source: Path, alias: str, force: bool) -> RestoreResult:
    with open(source, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(
                f"restore refused: {source} is not a pg_dump custom-format archive (an SQLite "
                f"backup is restored on SQLite; see docs/backup.md). {NOTHING_CHANGED}"
            )
    env = pg_environment(alias)
    tables = _archive_tables(source, env)
    applied: set[tuple[str, str]] = set()
    if "django_migrations" in tables:
        applied = {
            (r["app"] or "", r["name"] or "")
            for r in _copy_rows(source, "django_migrations", env, 10**6)
        }
    pending = _refuse_unknown_migrations(applied)
    keys = KeyCheck()
    for table, column in _grouped(encrypted_columns()):
        if table in tables:
            for row in _copy_rows(source, table, env, 2 * SAMPLE_PER_COLUMN):
                for name in column:
                    keys.value(row.get(name))
    if totp_table() in tables:
        for row in _copy_rows(source, totp_table(), env, 10**6):
            if row.get("type") == "totp":
                keys.totp(row.get("data"))
    keys.verdict()
    connection = connections[alias]
    if not env.get("PGDATABASE"):
        raise BackupError("restore refused: DATABASE_URL names no database")
    if pending:
        # --clean drops only what the archive holds: tables of the newer migrations would stay,
        # and `migrate` would then fail on them. An empty database has none.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            )
            if cursor.fetchone()[0]:
                raise BackupError(
                    f"restore refused: the backup predates {len(pending)} migrations of this Alliance; "
                    "restore it into an empty database, then run `alliance migrate` (docs/backup.md). "
                    + NOTHING_CHANGED
                )
    if not force:
        with connection.cursor() as cursor:
            cursor.execute(
                # Client sessions only: autovacuum workers show up here too, and are harmless.
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            others = cursor.fetchone()[0]
        if others:
            raise BackupError(
                f"restore refused: {others} other sessions are connected to the database (the "
                "server, a worker or the scheduler); stop them, or pass --force. " + NOTHING_CHANGED
            )
    connection.close()
    # One transaction: if any statement fails, the database is left as it was.
    _run_tool(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            env.get("PGDATABASE", ""),
            str(source),
        ],
        env,
        f"restore failed, nothing was changed: pg_restore ({source})",
    )

    try:
        breaks = [_describe_break(b) for b in verify_chain(using=alias)]
        entries: int | None = AuditEvent.objects.using(alias).count()
    except DatabaseError:
        connection.close()
        breaks, entries = [], None
    return RestoreResult(
        database=describe_database(alias),
        encrypted_checked=keys.checked,
        audit_entries=entries,
        audit_breaks=breaks,
        pending_migrations=pending,
    )


def _grouped(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for table, column in pairs:
        grouped.setdefault(table, []).append(column)
    return list(grouped.items())
