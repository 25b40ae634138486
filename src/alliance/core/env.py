"""Typed readers for environment variables, the data directory, and locally kept secrets."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

# Commands that need no database. Run through `alliance`, they write nothing at all: no secret
# files, no data directory, no static folder (a stray `alliance score` must not leave state
# behind in whatever folder it ran in).
STATELESS_COMMANDS = frozenset({"score", "ruptures", "gas", "analyze", "demo_totp"})
_stateless = False

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def mark_stateless() -> None:
    """Called by the `alliance` command, before settings load, for a STATELESS_COMMANDS entry."""
    global _stateless
    _stateless = True


def is_stateless() -> bool:
    return _stateless


def default_data_dir() -> str:
    """One data directory per installation, whatever folder a command runs in.

    The platform's per-user data folder (``~/.local/share/alliance`` on Linux); `dev.py` points
    ALLIANCE_DATA_DIR at the checkout's ``var/`` instead.
    """

    return platformdirs.user_data_dir("alliance", appauthor=False)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by its owner only (0700).

    An existing folder keeps its mode: the operator may have chosen it on purpose.
    """
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode passes through the umask; chmod makes it exact.
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create an empty file readable by its owner only (0600), if it does not exist yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Path(path)
    os.close(fd)
    return Path(path)


def local_secret(data_dir: Path, filename: str, kind: str, *, create: bool = True) -> str:
    """Return a secret kept in the local data directory, creating it on first use.

    Only for development and the demo: production mode requires the secret from the
    environment. The folder is created with mode 0700 and the file with mode 0600. With
    ``create=False`` (commands that need no database) a missing secret is replaced by a
    throw-away one held in memory only, and nothing is written.
    """
    path = Path(data_dir) / filename
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    value = Fernet.generate_key().decode() if kind == "fernet" else secrets.token_urlsafe(64)
    if not create:
        return value
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
