"""Durable object storage for the emulator: JSON dicts in named collections, in SQLite.

Every object lives in memory (insertion-ordered dicts, so listing is fast) and in SQLite
(WAL, one row per object), so a restart on the same db path finds it again. One lock guards
both. The store knows nothing about HTTP or about what the objects mean.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

KeyFn = Callable[[dict[str, Any]], Hashable]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects (collection TEXT NOT NULL, id TEXT NOT NULL, "
    "seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (collection, id))",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class Store:
    """Thread-safe collections of JSON objects, durable unless the path is `:memory:`.

    `get` returns a private deep copy (edit it, then `replace`); `peek`, `all`, `find` and
    `lookup` return the stored dicts themselves, for speed: callers must not mutate them.
    """

    def __init__(
        self, path: str = ":memory:", *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self._lock = threading.RLock()
        if path != ":memory:" and not os.path.exists(path):
            # The db holds the token signing key: owner-only, like a state file.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            # WAL + NORMAL: a commit is an append, not an fsync; durable across a clean stop.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._data: dict[str, dict[str, dict[str, Any]]] = {}
        self._counters: dict[str, int] = {}
        self._created: dict[tuple[str, str], float] = {}
        self._monotonic = monotonic  # when objects were inserted (the visibility delay)
        self._seq = 0
        self._hidden = threading.local()
        # Secondary indexes: collection -> index name -> (key function, key -> {id: None}).
        self._indexes: dict[str, dict[str, tuple[KeyFn, dict[Hashable, dict[str, None]]]]] = {}
        self._load()

    def _load(self) -> None:
        rows = self._db.execute("SELECT collection, id, seq, body FROM objects ORDER BY seq")
        for collection, obj_id, seq, body in rows:
            self._data.setdefault(collection, {})[obj_id] = json.loads(body)
            self._seq = max(self._seq, seq)
        for name, value in self._db.execute("SELECT name, value FROM counters"):
            self._counters[name] = value

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- visibility (the --visibility-delay-ms fault) -----------------------------------

    @contextmanager
    def hide_newer_than(self, seconds: float) -> Iterator[None]:
        """Within this block, on this thread, objects inserted less than `seconds` ago are
        invisible to get/all/find: the app wraps read requests in it."""
        self._hidden.window = seconds
        try:
            yield
        finally:
            self._hidden.window = 0.0

    def _visible(self, collection: str, obj_id: str) -> bool:
        window: float = getattr(self._hidden, "window", 0.0)
        if window <= 0:
            return True
        born = self._created.get((collection, obj_id))
        return born is None or self._monotonic() - born >= window

    # --- objects --------------------------------------------------------------------------

    def insert(self, collection: str, obj_id: str, obj: dict[str, Any]) -> None:
        """Add a new object; raises KeyError when the id is taken."""
        with self._lock:
            items = self._data.setdefault(collection, {})
            if obj_id in items:
                raise KeyError(f"{collection}/{obj_id} exists")
            self._seq += 1
            body = json.dumps(obj, sort_keys=True)
            self._db.execute(
                "INSERT INTO objects (collection, id, seq, body) VALUES (?, ?, ?, ?)",
                (collection, obj_id, self._seq, body),
            )
            items[obj_id] = json.loads(body)
            self._created[(collection, obj_id)] = self._monotonic()
            self._index_add(collection, obj_id, items[obj_id])

    def replace(self, collection: str, obj_id: str, obj: dict[str, Any]) -> None:
        """Overwrite an existing object in place (its list position is kept)."""
        with self._lock:
            items = self._data.get(collection, {})
            if obj_id not in items:
                raise KeyError(f"{collection}/{obj_id} missing")
            body = json.dumps(obj, sort_keys=True)
            self._db.execute(
                "UPDATE objects SET body = ? WHERE collection = ? AND id = ?",
                (body, collection, obj_id),
            )
            self._index_remove(collection, obj_id, items[obj_id])
            items[obj_id] = json.loads(body)
            self._index_add(collection, obj_id, items[obj_id])

    def delete(self, collection: str, obj_id: str) -> bool:
        with self._lock:
            items = self._data.get(collection, {})
            old = items.pop(obj_id, None)
            if old is None:
                return False
            self._index_remove(collection, obj_id, old)
            self._db.execute(
                "DELETE FROM objects WHERE collection = ? AND id = ?", (collection, obj_id)
            )
            self._created.pop((collection, obj_id), None)
            return True

    def get(self, collection: str, obj_id: str) -> dict[str, Any] | None:
        with self._lock:
            obj = self._data.get(collection, {}).get(obj_id)
            if obj is None or not self._visible(collection, obj_id):
                return None
            return copy.deepcopy(obj)

    def peek(self, collection: str, obj_id: str) -> dict[str, Any] | None:
        """Like `get` but the stored dict itself (no copy): read it, never mutate it."""
        with self._lock:
            obj = self._data.get(collection, {}).get(obj_id)
            if obj is None or not self._visible(collection, obj_id):
                return None
            return obj

    def all(self, collection: str) -> list[dict[str, Any]]:
        """Every object in insertion order (shared dicts: do not mutate)."""
        with self._lock:
            items = self._data.get(collection, {})
            if getattr(self._hidden, "window", 0.0) > 0:
                return [o for k, o in items.items() if self._visible(collection, k)]
            return list(items.values())

    def find(
        self, collection: str, predicate: Callable[[dict[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        return [obj for obj in self.all(collection) if predicate(obj)]

    def id_in_use(self, obj_id: str) -> bool:
        """Whether any collection holds an object with this id (fresh-id checks)."""
        with self._lock:
            return any(obj_id in items for items in self._data.values())

    def count(self, collection: str) -> int:
        with self._lock:
            return len(self._data.get(collection, {}))

    def collections(self) -> list[str]:
        with self._lock:
            return sorted(name for name, items in self._data.items() if items)

    # --- secondary indexes ---------------------------------------------------------------

    def ensure_index(self, collection: str, name: str, key: KeyFn) -> None:
        """Keep objects of `collection` findable by `key(obj)` (idempotent; cheap when it
        exists). Handlers use it where a scan per request would be quadratic in bulk loads."""
        with self._lock:
            per = self._indexes.setdefault(collection, {})
            if name in per:
                return
            buckets: dict[Hashable, dict[str, None]] = {}
            for obj_id, obj in self._data.get(collection, {}).items():
                buckets.setdefault(key(obj), {})[obj_id] = None
            per[name] = (key, buckets)

    def lookup(self, collection: str, name: str, value: Hashable) -> list[dict[str, Any]]:
        """Objects whose index key equals `value`, in insertion order (shared dicts)."""
        with self._lock:
            _, buckets = self._indexes[collection][name]
            items = self._data.get(collection, {})
            ids = buckets.get(value, {})
            return [items[i] for i in ids if self._visible(collection, i)]

    def _index_add(self, collection: str, obj_id: str, obj: dict[str, Any]) -> None:
        for key, buckets in self._indexes.get(collection, {}).values():
            buckets.setdefault(key(obj), {})[obj_id] = None

    def _index_remove(self, collection: str, obj_id: str, obj: dict[str, Any]) -> None:
        for key, buckets in self._indexes.get(collection, {}).values():
            bucket = buckets.get(key(obj))
            if bucket is not None:
                bucket.pop(obj_id, None)
                if not bucket:
                    del buckets[key(obj)]

    def _rebuild_indexes(self) -> None:
        defined = {c: {n: k for n, (k, _) in per.items()} for c, per in self._indexes.items()}
        self._indexes.clear()
        for collection, per in defined.items():
            for name, key in per.items():
                self.ensure_index(collection, name, key)

    # --- counters and housekeeping ----------------------------------------------------------

    def next_int(self, counter_name: str) -> int:
        """The next value of a durable counter, starting at 1 (for integer ids)."""
        with self._lock:
            value = self._counters.get(counter_name, 0) + 1
            self._counters[counter_name] = value
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (counter_name, value),
            )
            return value

    def meta(self, key: str, default: Callable[[], str]) -> str:
        """A durable store-level value (e.g. the token signing key), made once by `default`."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            value = default()
            self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    def clear(self) -> None:
        """Drop every object and counter (store-level meta such as the signing key stays)."""
        with self._lock:
            self._db.execute("DELETE FROM objects")
            self._db.execute("DELETE FROM counters")
            self._data.clear()
            self._counters.clear()
            self._created.clear()
            self._rebuild_indexes()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes into one SQLite transaction (seeding, bulk loads)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._reload()
                raise
            self._db.execute("COMMIT")

    def _reload(self) -> None:
        self._data.clear()
        self._counters.clear()
        self._load()
        self._rebuild_indexes()
