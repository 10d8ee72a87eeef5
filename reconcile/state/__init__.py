"""The state: what the tool owns, kept in a backend behind one protocol (base.StateBackend).

`open_store` picks the backend a config's settings name: the file `state/<env>.json`
(file.py) or the rows of one environment in PostgreSQL (postgres.py, loaded only then).
"""

from __future__ import annotations

from reconcile.settings import Settings
from reconcile.state.base import (
    MIGRATIONS,
    LockInfo,
    Migration,
    StateBackend,
    StateChange,
    migrate,
)
from reconcile.state.file import StateStore

__all__ = [
    "MIGRATIONS",
    "LockInfo",
    "Migration",
    "StateBackend",
    "StateChange",
    "StateStore",
    "migrate",
    "open_store",
]


def open_store(settings: Settings, *, bind: bool) -> StateBackend:
    """The state of `settings`' environment. `bind`: for runs that talk to the server, which
    the state is bound to (reads refuse a state of another server, the first write records
    it); commands that only edit the state pass False."""
    server = settings.server_label if bind else ""
    if settings.state_url:
        from reconcile.state.postgres import PostgresStore

        return PostgresStore(settings.state_url, settings.environment, server=server)
    return StateStore(settings.state_path, server=server)
