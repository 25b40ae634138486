"""Read-only report queries through a PostgreSQL read replica.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` database alias. Code that only
reads aggregates (the clinic report, the development page) runs inside ``replica_reads()``
(or a view wrapped in ``replica_reads_view``), and ``ReplicaRouter`` sends its reads there.
Everything else reads and writes the primary (``default``):

- every write, always (a replica is read-only);
- every read inside a transaction on the primary, so a writer reads its own writes and the
  audit chain's "last entry" is never read from a copy that lags behind;
- every read outside a ``replica_reads()`` block, so pages that act on what they show (the
  caseload, alerts, check-ins) never see stale rows.

Without the alias the router sends nothing anywhere: the app runs on one database as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_ALIASES = (DEFAULT_DB_ALIAS, REPLICA)
_reading_from_replica: ContextVar[bool] = ContextVar("alliance_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block may come from the replica (when one is configured)."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def replica_reads_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a read-only view's queries on the replica. The signed-in user and the session are
    read from the primary first: a session created a moment ago may not have reached the
    replica yet, and the visitor would seem signed out."""

    @functools.wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 (evaluates the lazy user on the primary)
            getattr(user, "membership", None)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Sends reads inside ``replica_reads()`` to the replica; everything else to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if (
            _reading_from_replica.get()
            and replica_configured()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the same rows: an object read there may relate to one from the primary.
        # (Called on every foreign-key assignment, so it stays a pair of tuple lookups.)
        if obj1._state.db in _ALIASES and obj2._state.db in _ALIASES:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        # The replica follows the primary through PostgreSQL replication, never through migrate.
        return db == DEFAULT_DB_ALIAS
