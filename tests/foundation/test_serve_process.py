"""`alliance serve` as a real process: a burst beyond capacity is refused fast, and it recovers.

A throw-away SQLite database and a free port; the burst is bounded (a fixed number of requests
from a fixed number of threads, each with a timeout) and only targets 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.foundation.test_demo_process import free_port

pytestmark = pytest.mark.slow  # starts gunicorn in a real process

BURST_REQUESTS = 240
BURST_THREADS = 48


def get(port: int, path: str, timeout: float) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_for_health(port: int, proc: subprocess.Popen[bytes], log: Path, within: float) -> float:
    """Seconds until /health/ answered 200; fails the test after ``within`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if get(port, "/health/", timeout=2)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/health/ did not answer within {within} s:\n" + log.read_text()[-3000:])


@pytest.mark.skipif(sys.platform != "linux", reason="gunicorn forks worker processes")
def test_a_burst_beyond_capacity_is_refused_fast_and_health_answers_right_after(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
        "ALLIANCE_DATA_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "-m", "alliance", "migrate", "-v0"], env=env, check=True, timeout=300
    )
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = open(log_path, "w+")  # noqa: SIM115 - read back below
    # One worker with one slot: any two requests at once are beyond capacity.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alliance",
            "serve",
            "--addrport",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for_health(port, proc, log_path, within=120)
        assert get(port, "/", timeout=30)[0] == 200

        start = threading.Barrier(BURST_THREADS)
        results: list[tuple[int, dict[str, str]]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            start.wait(timeout=30)
            for _ in range(BURST_REQUESTS // BURST_THREADS):
                try:
                    status, headers, _ = get(port, "/", timeout=30)
                    with lock:
                        results.append((status, headers))
                except OSError as exc:
                    with lock:
                        errors.append(type(exc).__name__)

        with ThreadPoolExecutor(BURST_THREADS) as pool:
            list(pool.map(client, range(BURST_THREADS)))
        recovered_in = wait_for_health(port, proc, log_path, within=10)

        statuses = [status for status, _ in results]
        assert errors == []
        assert len(results) == BURST_REQUESTS
        assert set(statuses) <= {200, 503}, sorted(set(statuses))
        refused = [headers for status, headers in results if status == 503]
        assert refused, "a burst of 48 at once against one slot was never refused"
        assert all(h.get("retry-after") == "5" for h in refused)
        assert 200 in statuses
        assert recovered_in < 10
        assert "overloaded: refused" in log_path.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert proc.returncode == 0, log_path.read_text()[-3000:]
