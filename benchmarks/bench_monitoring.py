"""Throughput of the monitoring write path and the cost of the caseload and timeline pages.

Every client Session Alliance Check goes through the real write path
(``measures.services.record_response``): scoring is done before, then storing, outcome rules,
rupture detection over the client's whole series, episodes and alerts, disagreement and
disengagement checks, all in the request. This bench measures:

* ratings stored per second through that path, early in a series and late (long series cost more:
  detection re-reads the whole series each time);
* the therapist's caseload page: milliseconds and SQL queries for a caseload of N clients (the
  query count must not grow with N);
* one client's alliance timeline page with a long series.

It builds its own throw-away database (SQLite in a temporary folder, or the PostgreSQL database
named by ``DATABASE_URL``: it creates and drops a ``bench_alliance_*`` database there), and
writes nothing else.

    python benchmarks/bench_monitoring.py [--clients 60] [--sessions 12]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/bench_monitoring.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _database(tmp: str, label: str = "") -> tuple[str, str | None]:
    """(DATABASE_URL for one bench database, PostgreSQL admin URL to drop it afterwards or None).

    Shared by the other benchmarks; ``label`` tells apart several databases of one run.
    """
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        return f"sqlite:///{tmp}/{label or 'bench'}.sqlite3", None

    name = f"bench_alliance_{label + '_' if label else ''}{uuid.uuid4().hex[:8]}"
    with psycopg.connect(given, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return given.rsplit("/", 1)[0] + "/" + name, given


def _drop(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sac_answers(mean: float) -> dict[str, object]:
    low = int(mean)
    answers: dict[str, object] = {f"item{i}": low for i in range(1, 5)}
    extra = round((mean - low) * 4)
    for i in range(1, extra + 1):
        answers[f"item{i}"] = low + 1
    answers["felt_off"] = "no"
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clients", type=int, default=60, help="clients in the caseload (default 60)"
    )
    parser.add_argument(
        "--sessions", type=int, default=12, help="rated sessions per client (default 12)"
    )
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="alliance-bench-")
    url, admin_url = _database(tmp)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    try:
        return _run(args)
    finally:
        if admin_url:
            # Django and the app load once the script has set its own environment (settings, data dir).
            from django.db import connections  # noqa: PLC0415

            connections.close_all()
            _drop(admin_url, url)


def _run(args: argparse.Namespace) -> int:
    # Django and the app load once the script has set its own environment (settings, data dir).
    import django  # noqa: PLC0415

    django.setup()
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: PLC0415
    from django.urls import reverse  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from alliance.accounts.models import Clinic, Membership, Role, User  # noqa: PLC0415
    from alliance.clients.models import (  # noqa: PLC0415
        CareTeamMember,
        ClientRecord,
        Consent,
        ConsentText,
        TherapySession,
    )
    from alliance.measures import scoring  # noqa: PLC0415
    from alliance.measures.services import record_response  # noqa: PLC0415

    setup_test_environment()  # in-memory email, "testserver" allowed
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the pages use the cache, as in a deployment
    print(
        f"database: {connection.vendor}; {args.clients} clients x {args.sessions} rated sessions",
        flush=True,
    )

    clinic = Clinic.objects.create(name="Bench Clinic")
    therapist = User.objects.create_user(
        "bench-therapist@example.test", "bench-password-2026", full_name="Bench T"
    )
    Membership.objects.create(clinic=clinic, user=therapist, role=Role.THERAPIST)
    # Django and the app load once the script has set its own environment (settings, data dir).
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: PLC0415

    TOTP.activate(therapist, generate_totp_secret())
    clients = []
    for i in range(args.clients):
        user = User.objects.create_user(f"bench-client-{i}@example.test", full_name=f"Client {i}")
        record = ClientRecord.objects.create(clinic=clinic, user=user, full_name=f"Client {i}")
        CareTeamMember.objects.create(
            clinic=clinic, client=record, therapist=therapist, is_primary=True
        )
        Consent.objects.create(
            clinic=clinic,
            client=record,
            kind="treatment",
            text=ConsentText.current("treatment"),
            granted=True,
            recorded_by=therapist,
        )
        clients.append(record)

    start = timezone.now() - dt.timedelta(days=7 * (args.sessions + 2))
    pattern = [5.0, 5.25, 5.0, 4.75, 5.0, 2.5, 3.5, 5.0, 5.25, 5.0, 4.5, 5.0]
    timings: dict[int, list[float]] = {}
    for number in range(1, args.sessions + 1):
        for k, record in enumerate(clients):
            when = start + dt.timedelta(days=7 * number)
            TherapySession.objects.create(
                clinic=clinic,
                client=record,
                therapist=therapist,
                number=number,
                scheduled_at=when,
                status=TherapySession.Status.ATTENDED,
            )
            mean = pattern[(number + k) % len(pattern)]
            answers = _sac_answers(mean)
            t0 = time.perf_counter()
            record_response(
                client=record,
                instrument_id="sac_client",
                result=scoring.score("sac_client", answers),
                answers=answers,
                source="form",
                actor=record.user,
                completed_at=when + dt.timedelta(hours=1),
            )
            timings.setdefault(number, []).append(time.perf_counter() - t0)

    def rate(numbers: range) -> float:
        spent = [t for n in numbers for t in timings[n]]
        return len(spent) / sum(spent)

    early = range(1, min(3, args.sessions) + 1)
    late = range(max(1, args.sessions - 2), args.sessions + 1)
    print(
        f"write path, sessions {early.start}-{early.stop - 1}: {rate(early):7.1f} ratings/s",
        flush=True,
    )
    print(
        f"write path, sessions {late.start}-{late.stop - 1}: {rate(late):7.1f} ratings/s "
        f"(ratio late/early {rate(late) / rate(early):.2f})",
        flush=True,
    )

    browser = Client()
    browser.force_login(therapist, backend="allauth.account.auth_backends.AuthenticationBackend")

    def page(url: str, repeat: int = 5) -> tuple[float, int]:
        browser.get(url)  # warm
        spent = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = browser.get(url)
                spent.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        return statistics.median(spent) * 1000, len(queries)

    ms, queries = page(reverse("caseload"))
    print(
        f"caseload page, {args.clients} clients: {ms:7.1f} ms median, {queries} SQL queries",
        flush=True,
    )
    small = clients[: max(1, args.clients // 10)]
    CareTeamMember.objects.filter(therapist=therapist).exclude(client__in=small).delete()
    ms_small, queries_small = page(reverse("caseload"))
    print(
        f"caseload page, {len(small)} clients: {ms_small:7.1f} ms median, {queries_small} SQL queries "
        f"(queries for {args.clients} / {len(small)} clients: {queries}/{queries_small})",
        flush=True,
    )
    ms, queries = page(reverse("alliance_timeline", args=[small[0].pk]))
    print(
        f"alliance timeline, {args.sessions} sessions: {ms:7.1f} ms median, {queries} SQL queries",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
