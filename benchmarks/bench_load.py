"""Load test of `alliance serve` on loopback: steps of offered rate, open loop, bounded.

It builds a throw-away database (SQLite in a temporary folder, or a ``bench_alliance_*``
database it creates and drops on the PostgreSQL server named by ``DATABASE_URL``), seeds the
demo clinic (3 therapists, 24 clients with sessions, ratings and alerts), signs people in by
creating their sessions server-side (staff as if past their TOTP step), and starts
``alliance serve`` with ``--web`` worker processes plus ``--workers`` ``db_worker`` processes,
all on 127.0.0.1 and a free port.

Each step offers a fixed rate of requests for ``--step-seconds`` (open loop: request *i* is due
at ``i / rate`` whatever happened to the earlier ones, and its latency counts from then), mixed:

* 35 % a therapist's caseload (``/caseload/``),
* 35 % a therapist opening one of their clients' alliance timeline,
* 30 % a client submitting a mood check-in (a POST that stores an encrypted note).

Per step it prints throughput, latency percentiles of the answered requests (from when each
was due, so a late generator shows; ``late p95`` is how late this generator itself sent them),
and errors by kind: ``shed`` (503 with Retry-After), ``5xx``, ``4xx/3xx`` (unexpected), ``timeout`` (no
answer within ``--timeout`` s: the user gave up), ``conn`` (refused or reset). At the end: the
highest step held with no error at all. Everything stops by itself; nothing else is written.

    python benchmarks/bench_load.py [--rates 5,10,20,40,80] [--step-seconds 20] [--web 2] [--workers 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/bench_load.py --web 2 --workers 3
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import os
import queue
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_monitoring import _database, _drop  # noqa: E402 - after the path set-up above

CLIENT_THREADS = 96  # the most requests in flight from this generator at once
CHECK_INS_PER_CLIENT = 120


@dataclass
class Actor:
    cookie: str
    csrf: str
    paths: list[str] = field(default_factory=list)  # GET targets (therapists)
    check_ins: collections.deque[str] = field(
        default_factory=collections.deque
    )  # POST targets (clients)


@dataclass
class Outcome:
    kind: str  # ok, shed, 5xx, other, timeout, conn
    seconds: float  # from when the request was due
    lag: float  # how late this generator sent it (its own threads or CPU were busy)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alliance(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "alliance", *args], env=env, **kwargs)  # type: ignore[call-overload]


def prepare(env: dict[str, str]) -> tuple[list[Actor], list[Actor]]:
    """Migrate, seed, and sign therapists and clients in (sessions made server-side)."""
    for args in (["migrate", "-v0"], ["createcachetable"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "-m", "alliance", *args],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
    os.environ.update(env)
    # Django and the app load once the script has set its own environment (settings, data dir).
    import django  # noqa: PLC0415

    django.setup()

    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.conf import settings  # noqa: PLC0415
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from alliance.accounts.models import Membership, Role  # noqa: PLC0415
    from alliance.checkins.models import CheckIn, CheckInSchedule  # noqa: PLC0415
    from alliance.clients.models import CareTeamMember, ClientRecord  # noqa: PLC0415
    from alliance.core.middleware import LAST_SEEN_KEY  # noqa: PLC0415

    store = import_module(settings.SESSION_ENGINE).SessionStore

    def session_for(user: object, backend: str, staff: bool) -> str:
        session = store()
        session[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
        session[LAST_SEEN_KEY] = time.time() + 3600  # no idle sign-out during the run
        if staff:
            session["alliance.mfa_ok"] = True
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def csrf(cookie: str) -> tuple[str, str]:
        token = secrets.token_hex(16)  # 32 characters: a CSRF secret Django accepts as is
        return f"{cookie}; {settings.CSRF_COOKIE_NAME}={token}", token

    therapists = []
    for membership in Membership.objects.filter(role=Role.THERAPIST).select_related("user"):
        cookie, token = csrf(
            session_for(
                membership.user, "allauth.account.auth_backends.AuthenticationBackend", True
            )
        )
        client_ids = CareTeamMember.objects.filter(
            therapist=membership.user, client__status="active"
        ).values_list("client_id", flat=True)
        therapists.append(Actor(cookie, token, [f"/clients/{cid}/alliance/" for cid in client_ids]))
    clients = []
    now = timezone.now()
    for record in ClientRecord.objects.filter(status=ClientRecord.Status.ACTIVE).select_related(
        "user", "clinic"
    ):
        schedule = CheckInSchedule.objects.create(
            clinic=record.clinic, client=record, kind="mood", cadence="daily", start_date=now.date()
        )
        due = CheckIn.objects.bulk_create(
            CheckIn(
                clinic=record.clinic,
                client=record,
                schedule=schedule,
                due_at=now - dt.timedelta(minutes=i),
            )
            for i in range(CHECK_INS_PER_CLIENT)
        )
        cookie, token = csrf(session_for(record.user, "sesame.backends.ModelBackend", False))
        clients.append(
            Actor(cookie, token, check_ins=collections.deque(f"/me/check-ins/{c.pk}/" for c in due))
        )
    connections.close_all()
    return therapists, clients


def request(
    port: int, actor: Actor, method: str, path: str, timeout: float
) -> tuple[int, bool, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Host": "127.0.0.1", "Cookie": actor.cookie}
    body = None
    if method == "POST":
        body = urlencode(
            {
                "mood": random.randint(0, 10),
                "note": "Bench note: a quieter week.",
                "key": str(uuid.uuid4()),
            }
        )
        headers.update(
            {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": actor.csrf}
        )
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return (
            response.status,
            response.getheader("Retry-After") is not None,
            response.getheader("Location") or "",
        )
    finally:
        conn.close()


def run_step(
    port: int,
    rate: float,
    seconds: float,
    timeout: float,
    therapists: list[Actor],
    clients: list[Actor],
    rng: random.Random,
) -> list[Outcome]:
    total = int(rate * seconds)
    jobs: queue.Queue[tuple[float, Actor, str, str] | None] = queue.Queue()
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            due, actor, method, path = job
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            try:
                status, retry_after, location = request(port, actor, method, path, timeout)
                # A check-in answers post/redirect/get: a redirect that is not to sign-in is done.
                stored = (
                    method == "POST"
                    and status in (302, 303)
                    and "signin" not in location
                    and "login" not in location
                )
                kind = (
                    "ok"
                    if 200 <= status < 300 or stored
                    else "shed"
                    if status == 503 and retry_after
                    else "5xx"
                    if status >= 500
                    else "other"
                )
            except TimeoutError:
                kind = "timeout"
            except OSError:
                kind = "conn"
            with lock:
                outcomes.append(Outcome(kind, time.monotonic() - due, sent - due))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    start = time.monotonic() + 0.2
    for i in range(total):
        roll = rng.random()
        if roll < 0.35:
            actor = rng.choice(therapists)
            job = (actor, "GET", "/caseload/")
        elif roll < 0.70:
            actor = rng.choice(therapists)
            job = (actor, "GET", rng.choice(actor.paths))
        else:
            actor = rng.choice([c for c in clients if c.check_ins] or clients)
            job = (
                (actor, "POST", actor.check_ins.popleft())
                if actor.check_ins
                else (actor, "GET", "/me/")
            )
        jobs.put((start + i / rate, *job))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join(timeout=seconds + timeout + 60)
    return outcomes


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rates", default="10,20,40,80,120,160", help="offered requests per second, one step each"
    )
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument(
        "--web", type=int, default=2, help="web worker processes of `alliance serve`"
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="requests each web process runs at once"
    )
    parser.add_argument("--workers", type=int, default=1, help="`alliance db_worker` processes")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a user waits for an answer"
    )
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    if any(r <= 0 or r > 400 for r in rates) or args.step_seconds > 120 or not 1 <= args.web <= 16:
        parser.error("rates must be in (0, 400], steps at most 120 s, --web from 1 to 16")

    tmp = tempfile.mkdtemp(prefix="alliance-load-")
    url, admin_url = _database(tmp)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALLIANCE_DATA_DIR": tmp,
        "ALLIANCE_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "alliance.settings",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    if url.startswith("postgres") and "DB_CONN_MAX_AGE" not in os.environ:
        # Production keeps PostgreSQL connections (600 s); measure what production runs.
        env["DB_CONN_MAX_AGE"] = "600"
    processes: list[subprocess.Popen[bytes]] = []
    log = open(Path(tmp) / "serve.log", "w+")  # noqa: SIM115 - read back on failure
    try:
        started = time.monotonic()
        therapists, clients = prepare(env)
        print(
            f"database: {url.split(':', 1)[0]}; seeded and signed in {len(therapists)} therapists, "
            f"{len(clients)} clients in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        port = free_port()
        processes.append(
            alliance(
                "serve",
                "--addrport",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web),
                "--threads",
                str(args.threads),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        for _ in range(args.workers):
            processes.append(
                alliance(
                    "db_worker",
                    "--queue-name",
                    "*",
                    "--no-reload",
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                if request(port, therapists[0], "GET", "/health/", 2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or processes[0].poll() is not None:
                log.seek(0)
                print(log.read()[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.3)
        print(
            f"alliance serve: {args.web} web process(es) x {args.threads} slots, {args.workers} db_worker(s); "
            f"open loop, {args.step_seconds:.0f} s a step, users give up after {args.timeout:.0f} s; "
            f"{os.cpu_count()} CPUs shared with whatever else runs",
            flush=True,
        )
        header = (
            f"{'offered/s':>9} {'done/s':>7} {'ok':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'shed':>5} {'shed p95':>8} {'5xx':>4} {'other':>5} {'timeout':>7} {'conn':>4} {'late p95':>8}"
        )
        print(header)
        rng = random.Random(12)
        held, failed = 0.0, False
        for rate in rates:
            outcomes = run_step(
                port, rate, args.step_seconds, args.timeout, therapists, clients, rng
            )
            kinds = collections.Counter(o.kind for o in outcomes)
            ok = [o.seconds * 1000 for o in outcomes if o.kind == "ok"]
            shed = [o.seconds * 1000 for o in outcomes if o.kind == "shed"]
            print(
                f"{rate:>9.0f} {len(ok) / args.step_seconds:>7.1f} {kinds['ok']:>5} {percentile(ok, 50):>7.0f} "
                f"{percentile(ok, 95):>7.0f} {percentile(ok, 99):>7.0f} {kinds['shed']:>5} "
                f"{percentile(shed, 95):>8.0f} {kinds['5xx']:>4} {kinds['other']:>5} {kinds['timeout']:>7} "
                f"{kinds['conn']:>4} {percentile([o.lag * 1000 for o in outcomes], 95):>8.0f}",
                flush=True,
            )
            clean = kinds["ok"] == len(outcomes) == int(rate * args.step_seconds)
            if clean and not failed:
                held = rate
            failed = failed or not clean
            time.sleep(2)
        print(
            f"highest step held with 0 errors: {held:.0f} req/s"
            if held
            else "no step held with 0 errors"
        )
        if not health_within(port, therapists[0], 10):
            print("/health/ did not answer within 10 s after the last step", flush=True)
            return 1
        return 0
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
        if admin_url:
            # Django and the app load once the script has set its own environment (settings, data dir).
            from django.db import connections  # noqa: PLC0415

            connections.close_all()
            _drop(admin_url, url)


def health_within(port: int, actor: Actor, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if request(port, actor, "GET", "/health/", 2)[0] == 200:
                return True
        except OSError:
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(main())
