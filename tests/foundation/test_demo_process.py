"""The Quick start's `alliance demo` serves, and `kill PID` stops it with its worker and scheduler.

A real process on a free port with its own throw-away SQLite database: the demo starts a
db_worker and a scheduler beside the web server, and they must not outlive it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from alliance.demo.management.commands.demo import demo_site_url

pytestmark = pytest.mark.slow  # starts the demo in a real process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


@pytest.mark.skipif(sys.platform != "linux", reason="uses pgrep and /proc")
def test_demo_serves_and_sigterm_stops_worker_and_scheduler(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = open(tmp_path / "demo.log", "w+")  # noqa: SIM115 - read back below
    proc = subprocess.Popen(
        [sys.executable, "-m", "alliance", "demo", "--addrport", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    helpers: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-2000:]
        else:
            pytest.fail(
                "the demo did not answer /health/ in time:\n"
                + (tmp_path / "demo.log").read_text()[-2000:]
            )
        helpers = children(proc.pid)
        assert len(helpers) == 2  # the db_worker and the scheduler
        # runserver's own request line for a refused link is redacted.
        secret = "Zq9Xw8Vu7Ts6Rr5Qp4On3Ml2"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/m/{secret}/?t={secret}", timeout=5)
        except urllib.error.HTTPError as refused:
            assert refused.code == 404
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in helpers), "worker or scheduler outlived the demo"
        text = (tmp_path / "demo.log").read_text()
        assert "Ready in" in text
        # Links in the seeded emails and the printed logins follow --addrport.
        assert f"http://127.0.0.1:{port}/" in text and ":8000" not in text
        # The seeded emails come first and the logins last, so they do not scroll away.
        assert "Subject:" in text and text.rindex("Subject:") < text.index("Alliance demo on")
        assert "printed here deliberately" in text
        assert "/m/<token>/?<query>" in text and secret not in text
    finally:
        for pid in [proc.pid, *helpers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()


def test_demo_site_url_follows_addrport():
    assert demo_site_url("127.0.0.1:8123") == "http://127.0.0.1:8123"
    assert demo_site_url("8123") == "http://127.0.0.1:8123"
    assert demo_site_url("0.0.0.0:8123") == "http://127.0.0.1:8123"
    assert demo_site_url("[::]:8123") == "http://[::1]:8123"
