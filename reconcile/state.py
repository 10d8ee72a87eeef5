"""The state file: reading (with migrations), atomic writes with a backup, and the run lock.

`StateStore` is the only code that touches `state/<env>.json`, its `.backup` and its `.lock`.
It knows nothing of resource kinds or of the API, and never prints.
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconcile import __version__
from reconcile.errors import StateError, StateLockedError
from reconcile.gcpause import gc_paused
from reconcile.model import STATE_VERSION, State
from reconcile.state_text import StateText

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# Version N -> N+1 upgrades of the raw state dict. Version 1 is the first format, so there is
# nothing to migrate yet; a future format adds `MIGRATIONS[1] = _v1_to_v2` here.
MIGRATIONS: Mapping[int, Migration] = {}

_LOCK_POLL_SECONDS = 0.1


def migrate(
    data: Mapping[str, Any],
    *,
    migrations: Mapping[int, Migration] = MIGRATIONS,
    target: int = STATE_VERSION,
) -> dict[str, Any]:
    """Upgrade a raw state dict to `target`, one version at a time; refuse newer versions."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError("state file has no integer 'version'")
    if version > target:
        raise StateError(
            f"state file version {version} is newer than this tool understands ({target})",
            hint="upgrade runai-reconcile",
        )
    upgraded = dict(data)
    while version < target:
        step = migrations.get(version)
        if step is None:
            raise StateError(f"no migration from state file version {version} to {target}")
        upgraded = step(upgraded)
        if upgraded.get("version") != version + 1:
            raise StateError(f"the migration from state version {version} did not bump it")
        version += 1
    return upgraded


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state lock; written as JSON into the lock file while it is held."""

    id: str
    operation: str
    who: str
    pid: int
    when: str

    @classmethod
    def new(cls, operation: str) -> LockInfo:
        when = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(str(uuid.uuid4()), operation, _who(), os.getpid(), when)

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "operation": self.operation,
            "who": self.who,
            "pid": str(self.pid),
            "when": self.when,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LockInfo:
        return cls(
            id=str(data["id"]),
            operation=str(data.get("operation", "")),
            who=str(data.get("who", "")),
            pid=int(data.get("pid", 0)),
            when=str(data.get("when", "")),
        )

    def describe(self) -> str:
        return (
            f"{self.who} (pid {self.pid}) since {self.when} for {self.operation!r}, "
            f"lock id {self.id}"
        )


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment nor the passwd database
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StateStore:
    """Reads, writes and locks one state file. Writes come from one writer at a time."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        tool_version: str = __version__,
        migrations: Mapping[int, Migration] = MIGRATIONS,
    ) -> None:
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._tool_version = tool_version
        self._migrations = migrations
        self._write_lock = threading.RLock()
        self._current: State | None = None
        self._signature: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) of _current
        self._text = StateText()  # reuses unchanged entries' text from one write to the next

    # --- reading -------------------------------------------------------------------------

    def read(self, *, new_lineage: str | None = None) -> State:
        """The state on disk; a missing file is an empty state with a new random lineage, or
        with `new_lineage` (a saved plan made before the first write bound one: keep it)."""
        with self._write_lock:
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                lineage = new_lineage or str(uuid.uuid4())
                state = State(lineage=lineage, tool_version=self._tool_version)
                self._remember(state)
                return state
            except OSError as error:
                raise StateError(f"cannot read state file {self.path}: {error.strerror}") from None
            with gc_paused():  # 10,000 entries: the collector more than doubled the parse time
                state = self._parse(text)
            self._remember(state)
            return state

    def _parse(self, text: str) -> State:
        hint = f"restore the previous copy from {self.backup_path}"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise StateError(
                f"state file {self.path} is not valid JSON "
                f"(line {error.lineno}, column {error.colno}: {error.msg})",
                hint=hint,
            ) from None
        if not isinstance(data, dict):
            raise StateError(f"state file {self.path} does not hold a JSON object", hint=hint)
        try:
            return State.from_dict(migrate(data, migrations=self._migrations))
        except StateError as error:
            raise StateError(f"state file {self.path}: {error.message}", hint=error.hint) from None
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise StateError(
                f"state file {self.path} is malformed: {type(error).__name__}: {error}", hint=hint
            ) from None

    def _remember(self, state: State) -> None:
        self._current = state
        self._signature = self._disk_signature()

    def _disk_signature(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _latest(self) -> State | None:
        """The state as last seen, re-read only when the file changed behind our back."""
        if self._current is not None and self._signature == self._disk_signature():
            return self._current
        if not self.path.exists():
            return self._current
        return self.read()

    # --- writing -------------------------------------------------------------------------

    def write(self, state: State) -> State:
        """Write `state` atomically with serial + 1; the previous file is kept as `.backup`.

        The serial grows from the larger of the file's and `state`'s, so it only ever grows.
        A state of another lineage than the file's is refused (it would overwrite a stranger).
        """
        with self._write_lock:
            base = self._latest()
            if base is not None and base.lineage != state.lineage and self.path.exists():
                raise StateError(
                    f"refusing to overwrite state file {self.path}: its lineage {base.lineage} "
                    f"is not the lineage being written ({state.lineage})"
                )
            serial = max(state.serial, base.serial if base is not None else 0) + 1
            new = replace(
                state, serial=serial, tool_version=self._tool_version, version=STATE_VERSION
            )
            self._write_file(self._text.render(new))
            self._remember(new)
            return new

    def update(self, change: Callable[[State], State]) -> State:
        """Apply `change` to the latest state and write the result, as one writer.

        Parallel apply steps use this so that no step's entry overwrites another's.
        """
        with self._write_lock:
            current = self._latest()
            return self.write(change(current if current is not None else self.read()))

    def _write_file(self, text: str) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600: the state never exists world-readable.
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            self._keep_backup()
            os.replace(tmp_name, self.path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(directory)

    def _keep_backup(self) -> None:
        """Point `.backup` at the current file; atomic, so a crash leaves an old or new backup."""
        if not self.path.exists():
            return
        tmp_backup = self.backup_path.with_name(f".{self.backup_path.name}.{uuid.uuid4().hex}")
        try:
            os.link(self.path, tmp_backup)  # a hard link: no copy, same 0600 inode
        except OSError:
            shutil.copy2(self.path, tmp_backup)
        os.replace(tmp_backup, self.backup_path)

    # --- locking -------------------------------------------------------------------------

    @contextmanager
    def lock(self, operation: str, *, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the run lock (flock on `<state>.lock`) for the `with` block.

        `timeout` 0 means one try; a held lock raises `StateLockedError` naming the holder.
        """
        info = LockInfo.new(operation)
        fd = self._acquire(info, timeout)
        try:
            self._sweep_leftovers()
            yield info
        finally:
            self._release(fd)

    def _sweep_leftovers(self) -> None:
        """Remove temp files of writers that died mid-write (SIGKILL between mkstemp and
        rename). Only the lock holder writes, so with the lock held none is in use."""
        directory = self.path.parent
        patterns = (f".{self.path.name}.*.tmp", f".{self.backup_path.name}.*")
        for pattern in patterns:
            for leftover in directory.glob(pattern):
                with suppress(FileNotFoundError):
                    leftover.unlink()

    def _acquire(self, info: LockInfo, timeout: float) -> int:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            if self._try_flock(fd) and self._is_current_lock_file(fd):
                payload = json.dumps(info.to_dict(), sort_keys=True).encode("utf-8")
                os.ftruncate(fd, 0)
                os.pwrite(fd, payload, 0)
                os.fsync(fd)
                return fd
            os.close(fd)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._locked_error()
            time.sleep(min(_LOCK_POLL_SECONDS, remaining))

    @staticmethod
    def _try_flock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def _is_current_lock_file(self, fd: int) -> bool:
        """False when force-unlock replaced the lock file after we opened it."""
        try:
            return os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
        except FileNotFoundError:
            return False

    @staticmethod
    def _release(fd: int) -> None:
        try:
            os.ftruncate(fd, 0)  # no holder info is left behind for the next reader
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _locked_error(self) -> StateLockedError:
        holder = None
        for _ in range(5):  # the holder may have the lock but not yet have written its info
            holder = self.read_holder()
            if holder is not None:
                break
            time.sleep(0.02)
        if holder is None:
            return StateLockedError(f"state {self.path} is locked by another run")
        return StateLockedError(
            f"state {self.path} is locked by {holder.describe()}", holder=holder.to_dict()
        )

    def read_holder(self) -> LockInfo | None:
        """The holder info recorded in the lock file, or None when there is none.

        After a crash (SIGKILL) the kernel frees the lock but the info stays until the next
        run takes the lock, so this can name a holder that is gone.
        """
        try:
            text = self.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return LockInfo.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError):
            return None  # empty (released) or being written

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock recorded with `lock_id`; any other id is refused and nothing changes.

        A live holder keeps its lock on the old file, which is unlinked: later runs lock a new
        file. Use only when the holder is known to be gone or stuck.
        """
        holder = self.read_holder()
        if holder is None:
            raise StateError(f"state {self.path} is not locked; nothing to unlock")
        if holder.id != lock_id:
            raise StateError(
                f"lock id {lock_id!r} does not match the lock on {self.path} "
                f"(held by {holder.describe()}); nothing was unlocked"
            )
        fd = os.open(self.lock_path, os.O_RDWR)
        try:
            if self._try_flock(fd):  # the holder is gone: just clear its stale info
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
            elif _holder_id(fd) != lock_id:
                # The named holder left and a new run took the lock since we read it.
                raise StateError(
                    f"the lock on {self.path} changed hands while unlocking; nothing was "
                    "unlocked (run force-unlock again with the id the new error names)"
                )
            else:
                os.unlink(self.lock_path)
        finally:
            os.close(fd)
        return holder


def _holder_id(fd: int) -> str:
    """The holder id recorded in the open lock file `fd` ("" when none or unreadable)."""
    try:
        data = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
        return str(data.get("id", "")) if isinstance(data, dict) else ""
    except (ValueError, UnicodeDecodeError):
        return ""
