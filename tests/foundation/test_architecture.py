"""The import contract in pyproject.toml ([tool.importlinter]): apps depend downward only, and
``alliance.lib`` / ``alliance.nlp`` import no Django. It runs the real ``lint-imports`` and
shows, on a copy of the source, that an upward import (even one inside a function) breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "alliance",
        src / "alliance",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "*.json", "*.pkl*"),
    )
    return src


def test_the_import_contract_holds():
    result = lint_imports(ROOT / "src", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path):
    src = copy_of_source(tmp_path)
    assert lint_imports(src, tmp_path).returncode == 0  # the copy passes as it is
    probe = src / "alliance" / "clients" / "upward_probe.py"
    probe.write_text(
        "def caseload_rows_for(user):\n"
        "    from alliance.monitoring.caseload import caseload_rows\n\n"
        "    return caseload_rows(user)\n"
    )
    result = lint_imports(src, tmp_path)
    assert result.returncode == 1
    assert "alliance.clients is not allowed to import alliance.monitoring" in result.stdout
    assert "alliance.clients.upward_probe -> alliance.monitoring.caseload" in result.stdout


def test_lib_may_not_import_django(tmp_path):
    src = copy_of_source(tmp_path)
    (src / "alliance" / "lib" / "probe.py").write_text("from django.utils import timezone\n")
    result = lint_imports(src, tmp_path)
    assert result.returncode == 1
    assert "lib and nlp import no Django BROKEN" in result.stdout


def test_the_app_contract_has_no_ignored_imports():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in contracts["contracts"] if c["id"] == "app-layers"]
    assert "ignore_imports" not in layers
    assert layers["layers"][0] == "demo"  # the demo command reads every app


def test_alliance_demo_runs_the_demo_apps_command():
    # Django takes a command from the first app in INSTALLED_APPS that has it: only the demo
    # app has `demo`, so its place at the end of the list does not hide it.
    assert get_commands()["demo"] == "alliance.demo"
    assert get_commands()["db_worker"] == "alliance.core"
