"""Pages and daily jobs at 200 clinics and a million sessions, against a database 1/100 the size.

Generates the shape of a large installation, set-based (``bulk_create`` in large batches, one
clinic at a time, so memory stays bounded): per clinic 10 therapists with 25 clients each, a
supervisor (linked to every therapist) and an admin; per client 20 sessions (18 past, 2 booked),
Session Alliance Checks from client and therapist, PHQ-9s, goals, a weekly check-in schedule
with 8 weeks of completed and missed check-ins, and, for some clients, rupture episodes, rupture,
disengagement, snoozed and safety alerts. The first clinic has one more therapist with a
150-client caseload. ``--scale 1`` (the default) is 200 clinics, 50,000 clients and 1,000,000
sessions; ``--scale 0.01`` is 2 clinics.

For two databases, the small one (``--small-clinics``, default 2) and the big one (``--scale``),
it prints:

* each therapist, supervisor, admin and API page: median and p95 milliseconds and SQL queries,
  for the 25-client and the 150-client therapist (supervisor and admin pages: their clinic);
* the daily jobs (monitoring pass, check-in/reminder cycle, overdue safety alerts): seconds and
  SQL queries, first run and a second run that must change nothing;
* the ratios big/small: query counts must be equal, p95 within 1.5x.

The reminder cycle is the worst case: every client's weekly check-in fell due at once. Emails
go to Django's in-memory outbox (rendering counts, SMTP does not).

Each database is made and dropped by this script: SQLite files in a temporary folder, or, with
``DATABASE_URL=postgres://...``, ``bench_alliance_*`` databases on that server. Each database
is built and measured in its own child process.

    python benchmarks/bench_scale.py --scale 0.01
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres nice -n 10 python benchmarks/bench_scale.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_monitoring import _database, _drop  # noqa: E402 - after the path set-up above

CLINICS = 200
THERAPISTS = 10
CASELOAD = 25
SESSIONS = 20
PAST_SESSIONS = 18
BIG_CASELOAD = 150
BATCH = 5000


# --- Generating -----------------------------------------------------------------------------


def _anchor() -> dt.datetime:
    """The most recent 16:00 UTC (noon in New York): reminders are outside quiet hours then."""
    now = dt.datetime.now(dt.UTC)
    at = now.replace(hour=16, minute=0, second=0, microsecond=0)
    return at if at <= now else at - dt.timedelta(days=1)


def _sac(mean: float, felt_off: bool = False) -> dict[str, Any]:
    total = round(mean * 4)
    items = []
    for i in range(4):
        v = min(6, -(-total // (4 - i)))
        items.append(v)
        total -= v
    return {**{f"item{i + 1}": v for i, v in enumerate(items)}, "felt_off": 1 if felt_off else 0}


class Generator:
    """Builds one clinic at a time with ``bulk_create``; ``rng`` makes the data repeatable."""

    def __init__(self, now: dt.datetime, seed: int = 7) -> None:
        # Django and the app load once the script has set its own environment (settings, data dir).
        from alliance.measures import scoring  # noqa: PLC0415
        from alliance.measures.demo import answers_for  # noqa: PLC0415

        self.now = now
        self.rng = random.Random(seed)
        self.scored: dict[tuple[str, Any], Any] = {}
        self._scoring = scoring
        self._phq9_answers = answers_for
        self.counts: dict[str, int] = {}

    def score(self, instrument: str, key: Any, answers: dict[str, Any]) -> Any:
        if (instrument, key) not in self.scored:
            self.scored[(instrument, key)] = self._scoring.score(instrument, answers)
        return self.scored[(instrument, key)]

    def add(self, model: Any, rows: list[Any]) -> None:
        # Django and the app load once the script has set its own environment (settings, data dir).
        from django.db import connection  # noqa: PLC0415

        if connection.vendor == "postgresql" and len(rows) >= 1000:
            self._copy(model, rows)
        else:
            model.objects.bulk_create(rows, batch_size=BATCH)
        self.counts[model.__name__] = self.counts.get(model.__name__, 0) + len(rows)

    @staticmethod
    def _copy(model: Any, rows: list[Any]) -> None:
        """PostgreSQL COPY: the rows' values prepared by the fields themselves (defaults,
        ``auto_now_add``, encryption, JSON), without building INSERT statements."""
        # Django and the app load once the script has set its own environment (settings, data dir).
        from django.db import connection  # noqa: PLC0415

        fields = model._meta.concrete_fields
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for obj in rows:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                )

    def clinic(self, index: int, extra_caseload: int = 0) -> dict[str, Any]:
        # Django and the app load once the script has set its own environment (settings, data dir).
        from alliance.accounts.models import Clinic, Membership, Role, User  # noqa: PLC0415
        from alliance.alerts.models import SEVERITY, Alert  # noqa: PLC0415
        from alliance.checkins.models import CheckIn, CheckInPlan, CheckInSchedule  # noqa: PLC0415
        from alliance.clients.models import (  # noqa: PLC0415
            CareTeamMember,
            ClientRecord,
            Consent,
            ConsentText,
            TherapySession,
        )
        from alliance.goals.models import Goal  # noqa: PLC0415
        from alliance.measures.models import MeasureSettings, Response  # noqa: PLC0415
        from alliance.monitoring.models import MonitoringSettings, RuptureEpisode  # noqa: PLC0415
        from alliance.supervision.models import SupervisionLink  # noqa: PLC0415

        rng, now = self.rng, self.now
        clinic = Clinic.objects.create(name=f"Clinic {index}")
        MonitoringSettings.objects.create(clinic=clinic)
        MeasureSettings.objects.create(clinic=clinic)
        tag = f"c{index}"
        staff = [
            User(email=f"t{i}.{tag}@bench.test", full_name=f"Therapist {i} {tag}", password="!")
            for i in range(THERAPISTS + (1 if extra_caseload else 0))
        ]
        supervisor = User(
            email=f"sup.{tag}@bench.test", full_name=f"Supervisor {tag}", password="!"
        )
        admin = User(email=f"adm.{tag}@bench.test", full_name=f"Admin {tag}", password="!")
        self.add(User, [*staff, supervisor, admin])
        self.add(
            Membership,
            [Membership(clinic=clinic, user=u, role=Role.THERAPIST) for u in staff]
            + [
                Membership(clinic=clinic, user=supervisor, role=Role.SUPERVISOR),
                Membership(clinic=clinic, user=admin, role=Role.ADMIN),
            ],
        )
        self.add(
            SupervisionLink,
            [
                SupervisionLink(
                    clinic=clinic, supervisor=supervisor, supervisee=u, created_by=admin
                )
                for u in staff
            ],
        )
        caseloads = [(u, CASELOAD) for u in staff[:THERAPISTS]]
        if extra_caseload:
            caseloads.append((staff[-1], extra_caseload))
        owners = [u for u, n in caseloads for _ in range(n)]
        users = [
            User(email=f"cl{k}.{tag}@bench.test", full_name=f"Client {k} {tag}", password="!")
            for k in range(len(owners))
        ]
        self.add(User, users)
        clients = [
            ClientRecord(
                clinic=clinic,
                user=u,
                full_name=u.full_name,
                pseudonym=f"Client {uuid.uuid4().hex[:6].upper()}",
            )
            for u in users
        ]
        self.add(ClientRecord, clients)
        self.add(
            CareTeamMember,
            [
                CareTeamMember(clinic=clinic, client=c, therapist=t, is_primary=True)
                for c, t in zip(clients, owners, strict=True)
            ],
        )
        treatment, supervision = (
            ConsentText.current("treatment"),
            ConsentText.current("supervision"),
        )
        # Encrypted fields (goal wording) are encrypted once per clinic, not per row.
        consents = [
            Consent(
                clinic=clinic,
                client=c,
                kind="treatment",
                text=treatment,
                granted=True,
                recorded_by=t,
            )
            for c, t in zip(clients, owners, strict=True)
        ]
        if supervision is not None:
            consents += [
                Consent(
                    clinic=clinic,
                    client=c,
                    kind="supervision",
                    text=supervision,
                    granted=True,
                    recorded_by=t,
                )
                for c, t in zip(clients, owners, strict=True)
                if rng.random() < 0.5
            ]
        self.add(Consent, consents)

        sessions, responses, alerts, episodes, goals = [], [], [], [], []
        schedules, check_ins, plans = [], [], []
        first = now - dt.timedelta(days=7 * PAST_SESSIONS - 2)
        for c, t in zip(clients, owners, strict=True):
            drifting = rng.random() < 0.08
            ruptured = rng.random() < 0.1
            base = rng.choice([4.25, 4.75, 5.0, 5.25, 5.5])
            for n in range(1, SESSIONS + 1):
                when = first + dt.timedelta(days=7 * (n - 1))
                if n > PAST_SESSIONS:
                    status = "scheduled" if not drifting else None
                elif drifting and n > PAST_SESSIONS - 3:
                    status = "missed"
                else:
                    status = (
                        "attended" if rng.random() > 0.06 else rng.choice(["missed", "cancelled"])
                    )
                if status is None:
                    continue
                sessions.append(
                    TherapySession(
                        clinic=clinic,
                        client=c,
                        therapist=t,
                        number=n,
                        scheduled_at=when,
                        status=status,
                    )
                )
                if status != "attended":
                    continue
                mean = (
                    base - (2.0 if ruptured and n == 10 else 0.0) + rng.choice([-0.25, 0, 0, 0.25])
                )
                mean = max(0.0, min(6.0, mean))
                answers = _sac(mean)
                result = self.score("sac_client", mean, answers)
                responses.append(
                    self._response(Response, clinic, c, "sac_client", answers, result, n, when)
                )
                if n % 4 == 0:
                    answers = _sac(min(6.0, mean + 0.5))
                    result = self.score("sac_therapist", mean + 0.5, answers)
                    responses.append(
                        self._response(
                            Response, clinic, c, "sac_therapist", answers, result, n, when
                        )
                    )
                    total = rng.choice([4, 7, 9, 12, 15])
                    answers = self._phq9_answers("phq9", total, 0)
                    result = self.score("phq9", total, answers)
                    responses.append(
                        self._response(Response, clinic, c, "phq9", answers, result, n, when)
                    )
            if ruptured:
                episode = RuptureEpisode(
                    clinic=clinic,
                    client=c,
                    start_session=10,
                    lowest_session=10,
                    end_session=11,
                    status="repaired",
                    rules=["drop"],
                    evidence={"explanation": "Session 10: a drop"},
                    opened_at=first + dt.timedelta(days=63),
                    closed_at=first + dt.timedelta(days=70),
                )
                episodes.append(episode)
                alerts.append(
                    Alert(
                        clinic=clinic,
                        client=c,
                        kind="rupture",
                        severity=SEVERITY["rupture"],
                        status="closed",
                        reason="Possible rupture at session 10.",
                        rules=["drop"],
                        evidence=[],
                        created_at=episode.opened_at,
                        closed_at=episode.closed_at,
                        close_reason="Repaired.",
                    )
                )
            if drifting:
                alerts.append(
                    Alert(
                        clinic=clinic,
                        client=c,
                        kind="disengagement",
                        severity=SEVERITY["disengagement"],
                        reason="Possible disengagement: an earlier reason.",
                        rules=["missed_sessions"],
                        evidence=[],
                        created_at=now - dt.timedelta(days=8),
                    )
                )
            roll = rng.random()
            if roll < 0.02:
                alerts.append(
                    Alert(
                        clinic=clinic,
                        client=c,
                        kind="safety",
                        severity=SEVERITY["safety"],
                        reason="PHQ-9 item 9 answered above 0.",
                        rules=["safety"],
                        evidence=[],
                        created_at=now - dt.timedelta(hours=rng.choice([1, 6, 30])),
                    )
                )
            elif roll < 0.06:
                alerts.append(
                    Alert(
                        clinic=clinic,
                        client=c,
                        kind="disagreement",
                        severity=SEVERITY["disagreement"],
                        status="snoozed",
                        reason="Session 8: the ratings differ.",
                        rules=["disagreement"],
                        evidence=[],
                        created_at=now - dt.timedelta(days=9),
                        snoozed_until=now - dt.timedelta(hours=rng.choice([1, -30])),
                        snooze_reason="Talk next session",
                        snoozed_by=t,
                    )
                )
            goals += [
                Goal(
                    clinic=clinic,
                    client=c,
                    wording=f"Goal {g + 1}",
                    status="active",
                    proposed_by=t,
                    proposed_by_side="therapist",
                    client_agreed_at=first,
                    therapist_agreed_at=first,
                    activated_at=first,
                )
                for g in range(2)
            ]
            # Weekly at 18:00 New York; the latest due time is yesterday evening.
            due_day = (now - dt.timedelta(days=1)).astimezone(dt.UTC).date()
            schedule = CheckInSchedule(
                clinic=clinic,
                client=c,
                start_date=due_day - dt.timedelta(days=7 * 9),
                due_time=dt.time(18, 0),
            )
            schedules.append(schedule)
            plans.append(CheckInPlan(clinic=clinic, client=c))
            completion = 0.3 if drifting else 0.85
            for week in range(1, 9):
                due = now - dt.timedelta(days=1 + 7 * week, hours=-6)
                done = rng.random() < completion
                check_ins.append(
                    CheckIn(
                        clinic=clinic,
                        client=c,
                        schedule=schedule,
                        due_at=due,
                        status="completed" if done else "missed",
                        completed_at=due + dt.timedelta(hours=2) if done else None,
                        missed_at=None if done else due + dt.timedelta(hours=72),
                    )
                )
        self.add(TherapySession, sessions)
        self.add(Response, responses)
        self.add(Alert, alerts)
        self.add(RuptureEpisode, episodes)
        self.add(Goal, goals)
        self.add(CheckInSchedule, schedules)
        self.add(CheckInPlan, plans)
        self.add(CheckIn, check_ins)
        return {
            "clinic": clinic,
            "therapist25": staff[0],
            "therapist150": staff[-1] if extra_caseload else None,
            "supervisor": supervisor,
            "admin": admin,
            "client25": clients[0],
            "client150": clients[-1],
        }

    @staticmethod
    def _response(
        Response: Any,
        clinic: Any,
        client: Any,
        instrument: str,
        answers: Any,
        result: Any,
        number: int,
        when: dt.datetime,
    ) -> Any:
        return Response(
            clinic=clinic,
            client=client,
            instrument_id=instrument,
            source="form",
            answers=answers,
            total=result.total,
            severity=result.severity or "",
            flags=list(result.flags),
            result=result.to_dict(),
            item9_positive=bool(result.item9_positive),
            session_number=number,
            completed_at=when + dt.timedelta(hours=1),
        )


# --- Measuring ------------------------------------------------------------------------------


class QueryCounter:
    """Counts the queries and the seconds spent waiting on the database."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t0


def _pages(handles: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(role, page, caseload, (user, url)) for every measured page."""
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.urls import reverse  # noqa: PLC0415

    out = []
    for size, therapist, c in (
        ("25", handles["therapist25"], handles["client25"]),
        ("150", handles["therapist150"], handles["client150"]),
    ):
        for name, url in (
            ("caseload", reverse("caseload")),
            ("alert list", reverse("alert_list")),
            ("client record", reverse("client_detail", args=[c.pk])),
            ("alliance timeline", reverse("alliance_timeline", args=[c.pk])),
            ("development", reverse("development")),
        ):
            out.append(("therapist", name, size, (therapist, url)))
        for name, url in (
            ("GET /api/v1/clients", "/api/v1/clients"),
            ("GET /api/v1/alerts", "/api/v1/alerts"),
            ("GET /api/v1/clients/{id}/alliance", f"/api/v1/clients/{c.pk}/alliance"),
            ("GET /api/v1/clients/{id}/measures", f"/api/v1/clients/{c.pk}/measures"),
            ("GET /api/v1/clients/{id}/goals", f"/api/v1/clients/{c.pk}/goals"),
        ):
            out.append(("api", name, size, (therapist, url)))
        for name, url in (
            ("supervisor dashboard", reverse("supervisor_dashboard")),
            ("supervision agenda", reverse("supervision_agenda")),
            ("alert list", reverse("alert_list")),
            ("clinic report", reverse("clinic_report")),
        ):
            out.append(("supervisor", name, size, (handles["supervisor"], url)))
        for name, url in (
            ("clinic home", reverse("clinic_home")),
            ("clinic report", reverse("clinic_report")),
            ("alert usefulness report", reverse("alert_usefulness_report")),
            ("audit search", reverse("audit_search")),
        ):
            out.append(("admin", name, size, (handles["admin"], url)))
    return out


def _measure_pages(handles: dict[str, Any], repeat: int, budget_s: float) -> list[dict[str, Any]]:
    # Django and the app load once the script has set its own environment (settings, data dir).
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    browsers: dict[Any, Client] = {}
    rows = []
    for role, name, size, (user, url) in _pages(handles):
        if user.pk not in browsers:
            TOTP.activate(user, generate_totp_secret())
            browser = Client()
            browser.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
            browsers[user.pk] = browser
        browser = browsers[user.pk]
        status = browser.get(url).status_code  # warm: templates, caches
        spent, queries, in_db = [], [], []
        for attempt in range(repeat):
            if attempt >= 3 and sum(spent) > budget_s * 1000:
                break  # a slow page gets fewer samples (p95 is then its slowest)
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                t0 = time.perf_counter()
                status = browser.get(url).status_code
                spent.append((time.perf_counter() - t0) * 1000)
            queries.append(counter.count)
            in_db.append(counter.seconds * 1000)
        spent.sort()
        rows.append(
            {
                "role": role,
                "page": name,
                "caseload": size,
                "status": status,
                "median_ms": statistics.median(spent),
                "p95_ms": spent[min(len(spent) - 1, round(0.95 * (len(spent) - 1)))],
                "queries": max(queries),
                "samples": len(spent),
                "db_median_ms": statistics.median(in_db),
            }
        )
        print(
            f"  {role:10} {name:34} {size:>3}: {rows[-1]['median_ms']:8.1f} ms median "
            f"{rows[-1]['p95_ms']:8.1f} p95 {rows[-1]['queries']:6d} queries "
            f"{rows[-1]['db_median_ms']:7.1f} ms in the database  (HTTP {status})",
            flush=True,
        )
    return rows


def _measure_jobs(now: dt.datetime) -> list[dict[str, Any]]:
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.core import mail  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from alliance.checkins.schedule import run_cycle  # noqa: PLC0415
    from alliance.monitoring.detection import check_all  # noqa: PLC0415
    from alliance.monitoring.tasks import check_overdue_alerts  # noqa: PLC0415

    jobs = [
        ("monitoring pass (check_monitoring)", lambda: check_all(now)),
        ("check-in and reminder cycle (send_reminders)", lambda: run_cycle(now)),
        ("overdue safety alerts (escalate_alerts)", lambda: check_overdue_alerts.call()),
    ]
    rows = []
    for name, job in jobs:
        for attempt in ("first run", "second run"):
            mail.outbox = []
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                t0 = time.perf_counter()
                result = job()
                spent = time.perf_counter() - t0
            result = result if isinstance(result, (int, dict)) else result.__dict__
            rows.append(
                {
                    "job": name,
                    "run": attempt,
                    "seconds": spent,
                    "queries": counter.count,
                    "db_seconds": counter.seconds,
                    "emails": len(mail.outbox),
                    "result": result,
                }
            )
            print(
                f"  {name:46} {attempt:10}: {spent:8.2f} s ({counter.seconds:6.2f} s in the database) "
                f"{counter.count:8d} queries "
                f"{len(mail.outbox):6d} emails  {result}",
                flush=True,
            )
    mail.outbox = []
    return rows


def child(args: argparse.Namespace) -> int:
    """Build one database and measure it; writes JSON to ``args.out``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    # Django and the app load once the script has set its own environment (settings, data dir).
    import django  # noqa: PLC0415

    django.setup()
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import setup_test_environment  # noqa: PLC0415

    setup_test_environment()  # in-memory email, "testserver" allowed
    call_command("migrate", verbosity=0)
    now = _anchor()
    clinics = args.clinics
    t0 = time.perf_counter()
    gen = Generator(now)
    handles = gen.clinic(0, extra_caseload=BIG_CASELOAD)
    for index in range(1, clinics):
        gen.clinic(index)
        if index % 20 == 0:
            print(f"  ... {index}/{clinics} clinics, {time.perf_counter() - t0:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    built = time.perf_counter() - t0
    print(
        f"{args.label}: {connection.vendor}, {clinics} clinics, built in {built:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in gen.counts.items()),
        flush=True,
    )
    pages = [] if args.skip_pages else _measure_pages(handles, args.repeat, args.page_budget)
    jobs = _measure_jobs(now)
    Path(args.out).write_text(
        json.dumps(
            {
                "label": args.label,
                "vendor": connection.vendor,
                "clinics": clinics,
                "build_seconds": built,
                "rows": gen.counts,
                "pages": pages,
                "jobs": jobs,
            },
            default=str,
        )
    )
    return 0


# --- The parent: two databases, one table ----------------------------------------------------


def _run_child(label: str, clinics: int, args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    url, admin_url = _database(tmp, label)
    out = Path(tmp) / f"{label}.json"
    env = {**os.environ, "DATABASE_URL": url, "ALLIANCE_DATA_DIR": tmp}
    try:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--label",
                label,
                "--clinics",
                str(clinics),
                "--repeat",
                str(args.repeat),
                "--page-budget",
                str(args.page_budget),
                "--out",
                str(out),
                *(["--skip-pages"] if args.skip_pages else []),
            ],
            env=env,
            check=True,
        )
    finally:
        if admin_url:
            _drop(admin_url, url)
    return json.loads(out.read_text())


def _compare(small: dict[str, Any], big: dict[str, Any]) -> int:
    print(f"\n{'page':56} {'queries small/big':>18} {'p95 ms small/big':>20} {'ratio':>6}")
    failures = 0
    for s, b in zip(small["pages"], big["pages"], strict=True):
        ratio = b["p95_ms"] / s["p95_ms"] if s["p95_ms"] else float("nan")
        flags = []
        if s["queries"] != b["queries"]:
            flags.append("QUERIES DIFFER")
        if ratio > 1.5:
            flags.append("p95 > 1.5x")
        failures += bool(flags)
        label = f"{s['role']} {s['page']} ({s['caseload']})"
        print(
            f"{label:56} {s['queries']:>8}/{b['queries']:<9} {s['p95_ms']:>9.1f}/{b['p95_ms']:<10.1f} "
            f"{ratio:6.2f} {' '.join(flags)}"
        )
    print(f"\n{'job':58} {'queries small/big':>18} {'seconds small/big':>20}")
    for s, b in zip(small["jobs"], big["jobs"], strict=True):
        label = f"{s['job']}, {s['run']}"
        print(
            f"{label:58} {s['queries']:>8}/{b['queries']:<9} {s['seconds']:>9.2f}/{b['seconds']:<10.2f}"
        )
    print(f"\n{failures} page(s) off target (equal queries, p95 big/small <= 1.5)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="size of the big database (1 = 200 clinics)"
    )
    parser.add_argument(
        "--small-clinics", type=int, default=2, help="clinics in the small database"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument(
        "--page-budget",
        type=float,
        default=15.0,
        help="seconds of timed requests per page before it gets no more (at least 3)",
    )
    parser.add_argument("--skip-pages", action="store_true", help="measure the daily jobs only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    parser.add_argument("--clinics", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.scale <= 0 or args.small_clinics < 1 or args.repeat < 1:
        parser.error("--scale must be above 0, --small-clinics and --repeat at least 1")
    big_clinics = max(1, round(CLINICS * args.scale))
    tmp = tempfile.mkdtemp(prefix="alliance-bench-scale-")
    print(
        f"small: {args.small_clinics} clinic(s); big: {big_clinics} clinic(s) "
        f"(~{big_clinics * THERAPISTS * CASELOAD + BIG_CASELOAD:,} clients)",
        flush=True,
    )
    small = _run_child("small", args.small_clinics, args, tmp)
    big = _run_child("big", big_clinics, args, tmp)
    return _compare(small, big)


if __name__ == "__main__":
    raise SystemExit(main())
