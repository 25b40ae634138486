"""What a database connection costs each request: new connections, persistent ones, or a pool.

Every request here goes through Django's own WSGI handler, as under gunicorn: the
``request_started`` and ``request_finished`` signals open, keep, return or close the connection
exactly as in production (Django's test client does not, so it cannot measure this). Threads
stand in for gunicorn's gthread workers. For each way of connecting it prints the application
CPU per request (the process's user + system time, all threads; the PostgreSQL server's own
work is not included), wall time per request, database connections opened (distinct server
processes; SQLite: files opened), and the ratio of CPU to
``DB_CONN_MAX_AGE=0``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME python benchmarks/bench_connections.py
        [--requests 400] [--threads 1,4] [--page caseload|api]

It migrates and fills the PostgreSQL database named by ``DATABASE_URL`` with a small clinic
(give it a database of its own), and an SQLite file in a temporary folder for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# name -> environment for the child process (besides DATABASE_URL)
MODES: dict[str, dict[str, str]] = {
    "new connection each request (DB_CONN_MAX_AGE=0)": {"DB_CONN_MAX_AGE": "0", "DB_POOL": ""},
    "persistent (DB_CONN_MAX_AGE=600, health checks)": {"DB_CONN_MAX_AGE": "600", "DB_POOL": ""},
    "psycopg pool (DB_POOL=2:8)": {"DB_CONN_MAX_AGE": "0", "DB_POOL": "2:8"},
}
BASELINE = "new connection each request (DB_CONN_MAX_AGE=0)"


def _setup_django(url: str, data_dir: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["ALLIANCE_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    # Django and the app load once the script has set its own environment (settings, data dir).
    import django  # noqa: PLC0415

    django.setup()


def seed(url: str, data_dir: str, clients: int) -> dict[str, str]:
    """Migrate, add one clinic with a therapist and ``clients`` clients, sign the therapist in;
    returns the session cookie and a client id."""
    _setup_django(url, data_dir)
    # Django and the app load once the script has set its own environment (settings, data dir).
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    from alliance.accounts.models import Clinic, Membership, Role, User  # noqa: PLC0415
    from alliance.clients.models import CareTeamMember, ClientRecord  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    email = "bench-therapist@bench.test"
    therapist = User.objects.filter(email=email).first()
    if therapist is None:
        clinic = Clinic.objects.create(name="Bench Clinic")
        therapist = User.objects.create_user(email, None, full_name="Bench Therapist")
        Membership.objects.create(clinic=clinic, user=therapist, role=Role.THERAPIST)
        TOTP.activate(therapist, generate_totp_secret())
        for i in range(clients):
            record = ClientRecord.objects.create(clinic=clinic, full_name=f"Bench client {i:03d}")
            CareTeamMember.objects.create(
                clinic=clinic, client=record, therapist=therapist, is_primary=True
            )
    browser = Client()
    browser.force_login(therapist, backend="allauth.account.auth_backends.AuthenticationBackend")
    client_id = ClientRecord.objects.filter(care_team__therapist=therapist).values_list(
        "pk", flat=True
    )[0]
    return {"cookie": f"sessionid={browser.cookies['sessionid'].value}", "client": str(client_id)}


def measure(
    url: str, data_dir: str, cookie: str, path: str, n: int, threads: int
) -> dict[str, float]:
    _setup_django(url, data_dir)
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.core.handlers.wsgi import WSGIHandler  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415
    from django.db.backends.signals import connection_created  # noqa: PLC0415
    from django.test import RequestFactory  # noqa: PLC0415

    # Distinct PostgreSQL server processes seen: a pool hands out the same few connections
    # (Django still signals each checkout), a new connection is a new server process.
    backends: set[object] = set()
    lock = threading.Lock()

    def created(connection: object, **_kw: object) -> None:
        info = getattr(getattr(connection, "connection", None), "info", None)
        with lock:
            backends.add(getattr(info, "backend_pid", None) or object())

    connection_created.connect(created, weak=False)
    handler = WSGIHandler()
    environ = RequestFactory().get(path, HTTP_COOKIE=cookie).environ

    def one(_i: int) -> int:
        status: list[str] = []
        body = handler(dict(environ), lambda s, _h, _e=None: status.append(s))
        try:
            b"".join(body)
        finally:
            body.close()  # a WSGI server's close(): request_finished, connection handling
        return int(status[0].split()[0])

    with ThreadPoolExecutor(threads) as pool:
        assert set(pool.map(one, range(20 * threads))) == {200}, "warm-up failed"
        backends.clear()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        codes = list(pool.map(one, range(n)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    connections.close_all()
    return {
        "ok": sum(1 for c in codes if c == 200),
        "cpu_ms": 1000 * cpu / n,
        "wall_ms": 1000 * wall / n * threads,
        "rps": n / wall,
        "opened": len(backends),
    }


def _child(args: argparse.Namespace, env: dict[str, str], what: str) -> dict:
    cmd = [sys.executable, __file__, f"--child={what}", f"--requests={args.requests}"]
    cmd += [f"--page={args.page}", f"--clients={args.clients}", f"--data-dir={args.data_dir}"]
    cmd += [f"--threads={args.threads}", f"--cookie={args.cookie}", f"--client-id={args.client_id}"]
    result = subprocess.run(
        cmd, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{what} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--threads", default="1,4", help="comma-separated thread counts")
    parser.add_argument("--clients", type=int, default=25)
    parser.add_argument("--page", choices=["caseload", "api"], default="caseload")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", default="", help=argparse.SUPPRESS)
    parser.add_argument("--client-id", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")

    if args.child == "seed":
        print(json.dumps(seed(url, args.data_dir, args.clients)))
        return 0
    if args.child:
        path = "/caseload/" if args.page == "caseload" else f"/api/v1/clients/{args.client_id}"
        print(
            json.dumps(
                measure(url, args.data_dir, args.cookie, path, args.requests, int(args.child))
            )
        )
        return 0

    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of the bench's own.")
    with tempfile.TemporaryDirectory(prefix="bench-conn-") as tmp:
        args.data_dir = tmp
        sqlite_url = f"sqlite:///{tmp}/bench.sqlite3"
        targets = {"SQLite (reference)": (sqlite_url, {"DB_CONN_MAX_AGE": "0", "DB_POOL": ""})}
        targets.update({name: (url, env) for name, env in MODES.items()})
        seeded: dict[str, dict[str, str]] = {}
        for db in (sqlite_url, url):
            seeded[db] = _child(args, {"DATABASE_URL": db, "DB_POOL": ""}, "seed")
        print(
            f"{args.requests} GET /{args.page} requests per row, {args.clients} clients, "
            f"through Django's WSGI handler; CPU is this process's (all threads)."
        )
        print(
            f"{'connections':50s} {'threads':>7s} {'ok':>5s} {'CPU ms/req':>10s} "
            f"{'× max_age=0':>11s} {'wall ms/req':>11s} {'req/s':>7s} {'connections opened':>18s}"
        )
        for threads in [int(t) for t in args.threads.split(",")]:
            rows = {}
            for name, (db, env) in targets.items():
                args.cookie, args.client_id = seeded[db]["cookie"], seeded[db]["client"]
                rows[name] = _child(args, {"DATABASE_URL": db, **env}, str(threads))
            base = rows[BASELINE]["cpu_ms"]
            for name, r in rows.items():
                print(
                    f"{name:50s} {threads:7d} {r['ok']:5d} {r['cpu_ms']:10.2f} "
                    f"{r['cpu_ms'] / base:11.2f} {r['wall_ms']:11.2f} {r['rps']:7.1f} "
                    f"{r['opened']:18d}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
