"""SQLite backup while the application writes, and the cost of a checked restore.

Builds a throw-away SQLite installation in a temporary folder (migrated, with N goals whose
wording is encrypted), then:

* runs a writer in another process (small transactions in WAL mode, as the web server and the
  worker write) and takes `alliance backup` meanwhile: seconds, MB/s, and the writer's commits
  and slowest commit during the backup (an online backup must not stall it);
* restores the backup with `alliance restore` (stage, quick_check, key sample, audit chain,
  swap): seconds and MB/s.

    python benchmarks/bench_backup.py [--goals 20000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=20, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS bench_writes (at REAL, payload TEXT)")
print("ready", flush=True)
with open(sys.argv[2], "w") as log:
    while True:
        started = time.time()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bench_writes VALUES (?, ?)", (started, "x" * 200))
        db.execute("COMMIT")
        log.write(f"{started} {time.time() - started}\\n")
        log.flush()
        time.sleep(0.002)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goals", type=int, default=20000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-backup-")

    os.environ.update(
        {
            "ALLIANCE_DATA_DIR": f"{tmp}/data",
            "DATABASE_URL": f"sqlite:///{tmp}/data/alliance.sqlite3",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": "bench-" + "k" * 60,
            "DJANGO_SETTINGS_MODULE": "alliance.settings",
        }
    )
    # Django and the app load once the script has set its own environment (settings, data dir).
    import django  # noqa: PLC0415

    django.setup()
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.conf import settings  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415

    from alliance.accounts.models import Clinic, Membership, Role, User  # noqa: PLC0415
    from alliance.clients.models import ClientRecord  # noqa: PLC0415
    from alliance.core import audit  # noqa: PLC0415
    from alliance.core.backup import backup, restore  # noqa: PLC0415
    from alliance.goals.models import Goal  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Bench Clinic")
    therapist = User.objects.create_user("t@bench.test", "x" * 16, full_name="T")
    Membership.objects.create(clinic=clinic, user=therapist, role=Role.THERAPIST)
    client_user = User.objects.create_user("c@bench.test", full_name="C")
    client = ClientRecord.objects.create(clinic=clinic, user=client_user, full_name="C")
    started = time.perf_counter()
    batch = [
        Goal(
            clinic=clinic,
            client=client,
            wording=f"Goal {i}: walk to the park and back " * 4,
            proposed_by=therapist,
            proposed_by_side="therapist",
        )
        for i in range(args.goals)
    ]
    Goal.objects.bulk_create(batch, batch_size=2000)
    for _ in range(50):
        audit.record(
            clinic=clinic,
            actor=therapist,
            action="view",
            record_type="client_record",
            client=client,
        )
    print(f"built {args.goals} encrypted goals in {time.perf_counter() - started:.1f} s")
    # Django and the app load once the script has set its own environment (settings, data dir).
    from django.db import connection  # noqa: PLC0415

    connection.close()
    live = Path(settings.DATABASES["default"]["NAME"])
    size_mb = live.stat().st_size / 1e6

    log = Path(tmp) / "writes.log"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live), str(log)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    time.sleep(1.0)  # the writer's pace before the backup, for comparison
    t0 = time.time()
    written = backup(Path(tmp) / "b.sqlite3")
    t1 = time.time()
    time.sleep(0.5)
    writer.kill()
    writer.wait()
    rows = [
        tuple(map(float, line.split())) for line in log.read_text().splitlines() if line.strip()
    ]
    before = [lat for at, lat in rows if at < t0]
    during = [lat for at, lat in rows if t0 <= at <= t1]
    print(
        f"database {size_mb:.1f} MB; backup {t1 - t0:.2f} s ({size_mb / (t1 - t0):.0f} MB/s), "
        f"{written.stat().st_size / 1e6:.1f} MB written"
    )
    print(
        f"writer in another process: {len(before)} commits in the 1 s before "
        f"(slowest {max(before) * 1000:.1f} ms); {len(during)} commits during the backup "
        f"(slowest {max(during, default=0) * 1000:.1f} ms)"
    )

    t0 = time.perf_counter()
    result = restore(written)
    t1 = time.perf_counter()
    print(
        f"restore {t1 - t0:.2f} s ({size_mb / (t1 - t0):.0f} MB/s): {result.encrypted_checked} "
        f"encrypted values checked, {result.audit_entries} audit entries verified"
    )

    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
