"""Django's SQLite backend, creating a new database file with mode 0600.

SQLite gives the -wal, -shm and -journal files the mode of the database file, so creating the
file 0600 before SQLite opens it keeps all of them private, whatever the process umask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base

from alliance.core.env import private_dir, private_file


def is_file_database(name: object) -> bool:
    text = str(name)
    return bool(text) and text != ":memory:" and not text.startswith("file:")


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        name = conn_params.get("database", "")
        if is_file_database(name) and not Path(name).exists():
            private_dir(Path(name).parent)
            private_file(Path(name))
        return super().get_new_connection(conn_params)
