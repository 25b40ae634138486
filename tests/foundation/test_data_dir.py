"""One data directory per installation, private to its owner; database-free commands write nothing.

Real `alliance` processes with cwd, HOME and ALLIANCE_DATA_DIR pointed at empty folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.clinical.test_cli import SERIES

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "nlp" / "fixtures"
SCRUB = {
    "ALLIANCE_DATA_DIR",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "STATIC_ROOT",
    "XDG_DATA_HOME",
}


def alliance(cwd: Path, env_updates: dict[str, str], *args: str, umask: int | None = None):
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    # Everything a command could fall back on lies in the empty folder.
    env.update({"HOME": str(cwd), "XDG_DATA_HOME": str(cwd / "xdg")})
    env.update(env_updates)
    # The source tree, not the folder the command runs in, provides the package.
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "alliance", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "series.csv").write_text(SERIES)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("score", "phq9", "--answers", "1,2,0,3,1,0,2,1,0"),
        ("ruptures", "--file", "{inputs}/series.csv"),
        ("gas", "--levels", "0,1,-1", "--weights", "2,1,3"),
        ("analyze", str(FIXTURES / "plain.txt"), "--no-progress"),
        # The README's way to get a demo sign-in code, from any folder.
        ("demo_totp", "admin@demo.alliance.test"),
    ],
    ids=lambda a: a[0],
)
def test_commands_without_a_database_write_nothing(tmp_path, inputs, args):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = tuple(a.replace("{inputs}", str(inputs)) for a in args)
    result = alliance(empty, {"ALLIANCE_DATA_DIR": str(empty / "data")}, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert everything_under(empty) == []


@pytest.mark.slow
def test_production_still_requires_its_secrets_for_those_commands(tmp_path):
    result = alliance(
        tmp_path, {"ALLIANCE_ENV": "production"}, "score", "phq9", "--answers", "1,2,0,3,1,0,2,1,0"
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_check_prints_the_platform_data_directory_and_creates_it_private(tmp_path):
    # A permissive umask: the modes must come from the code, not from the environment.
    result = alliance(tmp_path, {}, "check", umask=0)
    assert result.returncode == 0, result.stderr
    data_dir = tmp_path / "xdg" / "alliance"
    assert f"Data directory: {data_dir}" in result.stdout
    assert f"Database: SQLite file {data_dir / 'alliance.sqlite3'}" in result.stdout
    assert "no issues" in result.stdout
    # Not ./var of whatever folder the command ran in.
    assert not (tmp_path / "var").exists()
    assert data_dir.stat().st_mode & 0o777 == 0o700
    for secret in ("secret_key", "field_encryption_key"):
        assert (data_dir / secret).stat().st_mode & 0o777 == 0o600
    # A folder the operator opened up is kept as it is, and check says so.
    data_dir.chmod(0o755)
    result = alliance(tmp_path, {}, "check")
    assert (
        f"Data directory: {data_dir} (mode 755: others can read it; `chmod 700` it)"
        in result.stdout
    )
    assert data_dir.stat().st_mode & 0o777 == 0o755


@pytest.mark.slow
def test_database_and_its_wal_files_are_readable_by_their_owner_only(tmp_path):
    data_dir = tmp_path / "state"
    probe = (
        "import os\n"
        "from django.db import connection\n"
        "from django.conf import settings\n"
        "connection.cursor().execute('CREATE TABLE probe (x)')\n"
        "name = str(settings.DATABASES['default']['NAME'])\n"
        "print(' '.join(f'{s}={os.stat(name + s).st_mode & 0o777:o}' for s in ('', '-wal', '-shm')))\n"
    )
    result = alliance(tmp_path, {"ALLIANCE_DATA_DIR": str(data_dir)}, "shell", "-c", probe, umask=0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["=600", "-wal=600", "-shm=600"]
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_the_test_run_has_a_data_directory_of_its_own():
    # Set before the settings loaded: by dev.py (the checkout's var/) or by alliance.pytest_plugin.
    assert os.environ["ALLIANCE_DATA_DIR"]
    assert Path(os.environ["ALLIANCE_DATA_DIR"]).resolve() == settings.DATA_DIR
