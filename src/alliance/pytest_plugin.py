"""Loaded by pytest (``-p alliance.pytest_plugin`` in pyproject.toml) before the settings.

A plain ``pytest`` run must not write generated secrets into the developer's own data
directory: unless ALLIANCE_DATA_DIR is already set (``python3 dev.py test`` sets the checkout's
``var/``), the session gets a private temporary one, removed when the session ends.
Subprocesses the tests start inherit it, so they share the session's secrets.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_created: str | None = None

if not os.environ.get("ALLIANCE_DATA_DIR", "").strip():
    # mkdtemp creates the folder 0700, as the settings would.
    _created = tempfile.mkdtemp(prefix="alliance-test-data-")
    os.environ["ALLIANCE_DATA_DIR"] = _created


def pytest_unconfigure(config: object) -> None:
    if _created is not None:
        shutil.rmtree(_created, ignore_errors=True)
