"""The apply run's single state writer: every step's change is stored before it returns.

Parallel steps hand their changes to one `StateJournal`; changes that arrive while a write is
in progress are committed together by the next write (group commit), so a step is never
reported done before its entry is durable, yet 16 parallel creates do not cost 32 full
rewrites of the state file (or 32 database transactions) in a row. Knows nothing of kinds
or HTTP, and never prints.
"""

from __future__ import annotations

import threading

from reconcile.model import State
from reconcile.state import StateBackend, StateChange


class _Batch:
    """Changes committed by one write; `error` is what that write raised, if anything.

    Its own condition (on the journal's lock) wakes only the steps waiting for this write:
    one condition for all would wake every parallel step after every write.
    """

    def __init__(self, lock: threading.Lock) -> None:
        self.changes: list[StateChange] = []
        self.done = False
        self.error: BaseException | None = None
        self.finished = threading.Condition(lock)


class StateJournal:
    """Commits state changes through `StateBackend.update`, one write at a time.

    `commit(change)` blocks until a write that includes `change` has finished and re-raises
    that write's error. Changes are applied in arrival order to the latest state on disk.
    """

    def __init__(self, store: StateBackend, state: State) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._open = _Batch(self._lock)  # collecting changes for the next write
        self._writing = False
        self._state = state
        self.writes = 0  # how many state writes this journal made (diagnostics)

    @property
    def state(self) -> State:
        """The state as last written (or as given, before the first write)."""
        with self._lock:
            return self._state

    def commit(self, change: StateChange) -> State:
        """Write `change` (with any others waiting) and return the state it produced."""
        with self._lock:
            batch = self._open
            batch.changes.append(change)
            # Invariant: a batch not yet done is either being written or is the open one, so
            # a waiter that finds no write in progress leads the write of its own batch.
            while not batch.done:
                if self._writing:
                    batch.finished.wait()
                    continue
                self._lead(batch)
            if batch.error is not None:
                raise batch.error
            return self._state

    def _lead(self, batch: _Batch) -> None:
        """Write `batch` outside the lock (called holding it)."""
        self._writing = True
        self._open = _Batch(self._lock)
        self._lock.release()
        written: State | None = None
        try:
            written = self._store.update(lambda state: _apply_all(batch.changes, state))
        except BaseException as error:  # every step of the batch must learn its change failed
            batch.error = error
        finally:
            self._lock.acquire()
            if written is not None:
                self._state = written
                self.writes += 1
            batch.done = True
            self._writing = False
            batch.finished.notify_all()
            self._open.finished.notify()  # one waiting step leads the next write


def _apply_all(changes: list[StateChange], state: State) -> State:
    for change in changes:
        state = change(state)
    return state
