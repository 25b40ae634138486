#!/usr/bin/env python3
"""Set up and run Alliance from a fresh checkout, with only Python 3.11+ and PyPI access.

    python3 dev.py demo   # create .venv, install, migrate SQLite, seed the demo, serve :8000
    python3 dev.py test   # create .venv, install with test tools, run the whole test suite
    python3 dev.py messages  # refresh the catalogues (makemessages -l es), then compile them

Both are safe to re-run: the environment is reused and existing data is kept.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".alliance-install-stamp"


def run(*cmd: str | os.PathLike[str], **kwargs: object) -> None:
    kwargs.setdefault("cwd", ROOT)
    result = subprocess.run([str(c) for c in cmd], **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_env(extras: str) -> None:
    if not PY.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print(f"Installing Alliance{extras} into .venv ...", flush=True)
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "help"
    if command in {"demo", "test"}:
        # The checkout keeps its own state in var/ (the demo's SQLite file and its secrets),
        # instead of the platform's per-user data directory that `alliance` uses by default.
        os.environ.setdefault("ALLIANCE_DATA_DIR", str(ROOT / "var"))
    if command == "demo":
        ensure_env("")
        if os.name == "posix":  # become the demo process, so Ctrl-C and `kill` reach it directly
            os.execv(PY, [str(PY), "-m", "alliance", "demo", *argv[1:]])
        run(PY, "-m", "alliance", "demo", *argv[1:])
    elif command == "test":
        ensure_env("[dev]")
        run(PY, "-m", "pytest", *argv[1:])
    elif command == "messages":
        # Needs GNU gettext (xgettext, msgmerge, msgfmt). The catalogue is
        # src/alliance/locale/es/LC_MESSAGES/django.po; translators edit it, then run this again.
        ensure_env("[dev]")
        app = ROOT / "src" / "alliance"
        common = ["--ignore", "static/*", "--ignore", "tests/*", "--ignore", "artifacts/*"]
        run(PY, "-m", "alliance", "makemessages", "-l", "es", *common, *argv[1:], cwd=app)
        run(PY, "-m", "alliance", "compilemessages", "-l", "es", cwd=app)
    else:
        print(__doc__)
        sys.exit(0 if command in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
