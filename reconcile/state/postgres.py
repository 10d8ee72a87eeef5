"""The PostgreSQL backend: one environment's state as rows, shared by CI jobs and laptops.

The only module that imports psycopg. Credentials come from libpq's own sources
(PGPASSWORD, PGPASSFILE, PGSSLMODE, service files), never from the URL (settings refuse a
password there). Tables live under one schema (`runai_reconcile`, or `?schema=NAME` in the
URL), created on first use and upgraded by forward migrations; a schema written by a newer
version is refused, never downgraded.

Layout: `states` holds one header row per environment (lineage, serial, server), `resources`
one row per (environment, address), `locks` the holder of each environment's lock. A write
is one transaction that moves the header from the serial this store last saw to the next one
and touches only the rows whose entry changed; if the serial moved under it, it fails.

The run lock is a session advisory lock per environment, held on this store's connection
for the whole run: a holder that dies (even SIGKILL) loses its session and so its lock.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reconcile import __version__, jsonfast
from reconcile.errors import StateError
from reconcile.model import State
from reconcile.state.base import (
    LockInfo,
    StateChange,
    bound,
    check_push,
    check_server,
    entries_changed,
    lock_lost_error,
    locked_error,
    next_state,
    state_from_data,
    unlock_mismatch,
)

DEFAULT_SCHEMA = "runai_reconcile"
SCHEMA_VERSION = 1
_LOCK_POLL_SECONDS = 0.1
_CONNECT_TIMEOUT_SECONDS = 10

# Forward migrations of the tables: MIGRATIONS[n] takes a schema at version n to n + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    0: (
        """CREATE TABLE {schema}.states (
            environment text PRIMARY KEY,
            lineage text NOT NULL,
            serial bigint NOT NULL,
            version integer NOT NULL,
            tool_version text NOT NULL,
            server text NOT NULL)""",
        """CREATE TABLE {schema}.resources (
            environment text NOT NULL,
            address text NOT NULL,
            entry text NOT NULL,
            PRIMARY KEY (environment, address))""",
        """CREATE TABLE {schema}.locks (
            environment text PRIMARY KEY,
            id text NOT NULL,
            operation text NOT NULL,
            who text NOT NULL,
            pid integer NOT NULL,
            since text NOT NULL,
            backend_pid integer NOT NULL)""",
    ),
}


class _Moved(Exception):
    """The header was not at the serial this store expected: another writer moved it."""


class PostgresStore:
    """One environment's state in a PostgreSQL database (see the module)."""

    def __init__(
        self,
        url: str,
        environment: str,
        *,
        server: str = "",
        tool_version: str = __version__,
    ) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query)
        # `schema` is ours, not libpq's (which refuses parameters it does not know).
        self._schema = dict(query).get("schema", DEFAULT_SCHEMA)
        kept = urlencode([(k, v) for k, v in query if k != "schema"])
        params = conninfo_to_dict(urlunsplit(parts._replace(query=kept)))
        self._conninfo = make_conninfo("", **params)
        host = params.get("host") or os.environ.get("PGHOST") or "localhost"
        port = params.get("port") or os.environ.get("PGPORT") or "5432"
        self.endpoint = f"{host}:{port}"
        self.environment = environment
        self.location = f"{url.split('?', 1)[0]} (environment {environment})"
        self.server = server
        self._tool_version = tool_version
        self._mutex = threading.RLock()
        self._connection: psycopg.Connection[Any] | None = None
        self._current: State | None = None
        self._stored = False  # whether `_current` has a header row (else the first write inserts)
        self._held: LockInfo | None = None

    # --- connection and tables -----------------------------------------------------------

    def _conn(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            conn = self._connect()
            try:
                self._prepare(conn)
            except BaseException:
                conn.close()  # a refused (newer) schema is refused on every later call too
                raise
            self._connection = conn
        return self._connection

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=_CONNECT_TIMEOUT_SECONDS,
                application_name="runai-reconcile",
            )
        except psycopg.Error as error:
            raise StateError(
                f"cannot connect to the state database at {self.endpoint}: {_first_line(error)}",
                hint="check the state URL, that the database is up, and PGPASSWORD/PGPASSFILE",
            ) from None

    def _prepare(self, conn: psycopg.Connection[Any]) -> None:
        """Create or upgrade the tables (one process at a time), or refuse a newer schema."""
        schema = sql.Identifier(self._schema)
        with self._failing("prepare"), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", [self._schema])
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.meta (key text PRIMARY KEY, value text NOT NULL)"
                ).format(schema)
            )
            row = conn.execute(
                sql.SQL("SELECT value FROM {}.meta WHERE key = 'schema_version'").format(schema)
            ).fetchone()
            version = int(row[0]) if row is not None else 0
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"the state tables in {self.endpoint} schema {self._schema} are version "
                    f"{version}, newer than this tool understands ({SCHEMA_VERSION})",
                    hint="upgrade runai-reconcile; the tables were left as they are",
                )
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version]:
                    conn.execute(sql.SQL(statement).format(schema=schema))
                version += 1
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {}.meta VALUES ('schema_version', %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                    ).format(schema),
                    [str(version)],
                )

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self._schema), sql.Identifier(name))

    @contextmanager
    def _failing(self, doing: str) -> Iterator[None]:
        """Database errors become StateErrors naming the database; a lost connection while
        the lock was held is reported as the lock taken away when it was (force-unlock)."""
        try:
            yield
        except _Moved:
            raise StateError(
                f"state {self.location} was written by another run while this one was "
                f"working ({doing}); nothing was overwritten",
                hint="run the command again: it starts from the state as it is now",
            ) from None
        except psycopg.Error as error:
            self._drop_connection()
            if self._held is not None and self._lock_taken_away(self._held):
                raise lock_lost_error(self.location, self._held) from None
            raise StateError(
                f"state database at {self.endpoint} failed ({doing}): {_first_line(error)}",
                hint="what was applied so far is recorded; run apply again once the database "
                "is back",
            ) from None

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _lock_taken_away(self, info: LockInfo) -> bool:
        """From a new session: is the holder row someone else's (or gone)?"""
        try:
            with psycopg.connect(self._conninfo, connect_timeout=_CONNECT_TIMEOUT_SECONDS) as c:
                row = c.execute(
                    sql.SQL("SELECT id FROM {} WHERE environment = %s").format(
                        self._table("locks")
                    ),
                    [self.environment],
                ).fetchone()
        except psycopg.Error:
            return False
        return row is None or row[0] != info.id

    def close(self) -> None:
        with self._mutex:
            self._drop_connection()

    # --- reading -------------------------------------------------------------------------

    def read(self, *, new_lineage: str | None = None) -> State:
        with self._mutex, self._failing("read"):
            conn = self._conn()
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                header = conn.execute(
                    sql.SQL(
                        "SELECT lineage, serial, version, tool_version, server FROM {} "
                        "WHERE environment = %s"
                    ).format(self._table("states")),
                    [self.environment],
                ).fetchone()
                # Each entry as UTF-8 bytes, in binary: the rows arrive without text decoding
                # and are parsed in C (jsonfast); one aggregated text cost the server more.
                rows = conn.execute(
                    sql.SQL(
                        "SELECT address, convert_to(entry, 'UTF8') FROM {} WHERE environment = %s"
                    ).format(self._table("resources")),
                    [self.environment],
                    binary=True,
                ).fetchall()
        if header is None:
            state = State(lineage=new_lineage or str(uuid.uuid4()), tool_version=self._tool_version)
        else:
            state = self._parse(header, rows)
        check_server(state, self.server, location=self.location)
        with self._mutex:
            self._current, self._stored = state, header is not None
        return state

    def _parse(self, header: Sequence[Any], rows: Sequence[tuple[str, bytes]]) -> State:
        lineage, serial, version, tool_version, server = header
        addresses = [address for address, _ in rows]
        texts = [text for _, text in rows]
        document = {
            "version": version,
            "lineage": lineage,
            "serial": serial,
            "tool_version": tool_version,
            "server": server,
            # A row that is not JSON stays its text, which the schema check refuses naming
            # the address (as not an object); every row is parsed on its own.
            "resources": dict(zip(addresses, jsonfast.loads_each(texts, _undecoded), strict=True)),
        }
        return state_from_data(document, f"state {self.location}")

    # --- writing -------------------------------------------------------------------------

    def write(self, state: State) -> State:
        with self._mutex:
            base = self._current if self._current is not None else self.read()
            return self._write(base, state, replace_all=False)

    def update(self, change: StateChange) -> State:
        with self._mutex:
            base = self._current if self._current is not None else self.read()
            return self._write(base, change(base), replace_all=False)

    def replace_state(self, state: State, *, force: bool) -> State:
        with self._mutex:
            current = self.read()
            existing = current if self._stored else None
            check_push(existing, state, location=self.location, force=force)
            same = existing is not None and existing.lineage == state.lineage
            return self._write(
                current, state, replace_all=True, lineage_of=existing if same else None
            )

    def _write(
        self,
        base: State,
        state: State,
        *,
        replace_all: bool,
        lineage_of: State | None = None,
    ) -> State:
        stored = base if self._stored else None
        reference = lineage_of if replace_all else stored
        new = next_state(
            reference,
            bound(state, self.server),
            location=self.location,
            tool_version=self._tool_version,
        )
        with self._failing("write"):
            conn = self._conn()
            with conn.transaction():
                self._check_lock(conn)
                self._move_header(conn, base.serial if self._stored else None, new)
                if replace_all:
                    conn.execute(
                        sql.SQL("DELETE FROM {} WHERE environment = %s").format(
                            self._table("resources")
                        ),
                        [self.environment],
                    )
                    changed: Sequence[str] = [str(a) for a in new.entries]
                else:
                    changed = list(entries_changed(base, new))
                self._write_rows(conn, new, changed)
        self._current, self._stored = new, True
        return new

    def _check_lock(self, conn: psycopg.Connection[Any]) -> None:
        """While this store holds the lock, a write first proves the holder row is still ours."""
        if self._held is None:
            return
        row = conn.execute(
            sql.SQL("SELECT id FROM {} WHERE environment = %s FOR SHARE").format(
                self._table("locks")
            ),
            [self.environment],
        ).fetchone()
        if row is None or row[0] != self._held.id:
            raise lock_lost_error(self.location, self._held)

    def _move_header(self, conn: psycopg.Connection[Any], expected: int | None, new: State) -> None:
        values = [new.lineage, new.serial, new.version, new.tool_version, new.server]
        if expected is None:
            cursor = conn.execute(
                sql.SQL(
                    "INSERT INTO {} (environment, lineage, serial, version, tool_version, server) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (environment) DO NOTHING"
                ).format(self._table("states")),
                [self.environment, *values],
            )
        else:
            cursor = conn.execute(
                sql.SQL(
                    "UPDATE {} SET lineage = %s, serial = %s, version = %s, tool_version = %s, "
                    "server = %s WHERE environment = %s AND serial = %s"
                ).format(self._table("states")),
                [*values, self.environment, expected],
            )
        if cursor.rowcount != 1:
            raise _Moved

    def _write_rows(
        self, conn: psycopg.Connection[Any], new: State, changed: Sequence[str]
    ) -> None:
        by_text = {str(a): e for a, e in new.entries.items()}
        upserts = [
            (self.environment, a, json.dumps(by_text[a].to_dict(), sort_keys=True))
            for a in changed
            if a in by_text
        ]
        gone = [a for a in changed if a not in by_text]
        with conn.cursor() as cursor:
            if upserts:
                cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {} (environment, address, entry) VALUES (%s, %s, %s) "
                        "ON CONFLICT (environment, address) DO UPDATE SET entry = EXCLUDED.entry"
                    ).format(self._table("resources")),
                    upserts,
                )
            if gone:
                cursor.execute(
                    sql.SQL("DELETE FROM {} WHERE environment = %s AND address = ANY(%s)").format(
                        self._table("resources")
                    ),
                    [self.environment, gone],
                )

    # --- locking -------------------------------------------------------------------------

    @contextmanager
    def lock(self, operation: str, *, timeout: float = 0.0) -> Iterator[LockInfo]:
        info = LockInfo.new(operation)
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._mutex, self._failing("lock"):
            conn = self._conn()
            while not self._try_lock(conn):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise locked_error(self.location, self.read_holder())
                time.sleep(min(_LOCK_POLL_SECONDS, remaining))
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (environment, id, operation, who, pid, since, backend_pid) "
                    "VALUES (%s, %s, %s, %s, %s, %s, pg_backend_pid()) "
                    "ON CONFLICT (environment) DO UPDATE SET id = EXCLUDED.id, "
                    "operation = EXCLUDED.operation, who = EXCLUDED.who, pid = EXCLUDED.pid, "
                    "since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid"
                ).format(self._table("locks")),
                [self.environment, info.id, operation, info.who, info.pid, info.when],
            )
            self._held = info
        try:
            yield info
        finally:
            with self._mutex:
                self._held = None
                self._unlock(info)

    def _try_lock(self, conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [self._lock_key()]
        ).fetchone()
        return bool(row and row[0])

    def _lock_key(self) -> str:
        return f"{self._schema}/{self.environment}"

    def _unlock(self, info: LockInfo) -> None:
        conn = self._connection
        if conn is None or conn.closed:
            return  # the session ended, and with it the advisory lock
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE environment = %s AND id = %s").format(
                        self._table("locks")
                    ),
                    [self.environment, info.id],
                )
            conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [self._lock_key()])
        except psycopg.Error:
            self._drop_connection()  # ending the session frees the lock all the same

    def read_holder(self) -> LockInfo | None:
        with self._mutex, self._failing("read the lock holder"):
            row = (
                self._conn()
                .execute(
                    sql.SQL(
                        "SELECT id, operation, who, pid, since FROM {} WHERE environment = %s"
                    ).format(self._table("locks")),
                    [self.environment],
                )
                .fetchone()
            )
        if row is None:
            return None
        return LockInfo(id=row[0], operation=row[1], who=row[2], pid=row[3], when=row[4])

    def force_unlock(self, lock_id: str) -> LockInfo:
        """A gone holder's row is cleared; a live holder's session is ended (which frees its
        advisory lock), after its row is removed so that it learns why."""
        holder = self.read_holder()
        if holder is None or holder.id != lock_id:
            raise unlock_mismatch(self.location, lock_id, holder)
        with self._mutex, self._failing("force-unlock"):
            conn = self._conn()
            with conn.transaction():
                row = conn.execute(
                    sql.SQL(
                        "DELETE FROM {} WHERE environment = %s AND id = %s RETURNING backend_pid"
                    ).format(self._table("locks")),
                    [self.environment, lock_id],
                ).fetchone()
            if row is None:
                raise unlock_mismatch(self.location, lock_id, self.read_holder())
            if self._try_lock(conn):  # the holder is gone (its pid may be another's now)
                conn.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [self._lock_key()]
                )
            else:
                conn.execute("SELECT pg_terminate_backend(%s)", [row[0]])
        return holder


def _undecoded(entry: bytes) -> str:
    return entry.decode("utf-8", "replace")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
