"""The file backend: `state/<env>.json` with atomic writes, a backup, a commit log and a flock
run lock.

`StateStore` is the only code that touches the state file, its `.backup`, its `.log`
(commit_log.py) and its `.lock`. While a run holds the lock, its commits (`update`) are
appended to the log; the log is folded into the file (one atomic whole write) when it grows
past the file's size and when the lock is released, so that a finished command leaves the
file alone holding the whole state. It knows nothing of resource kinds or of the API, and
never prints.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from reconcile import __version__, jsonfast
from reconcile.errors import StateError, StateLockedError
from reconcile.model import State
from reconcile.state.base import (
    MIGRATIONS,
    LockInfo,
    Migration,
    StateChange,
    bound,
    check_push,
    check_server,
    lock_lost_error,
    locked_error,
    next_state,
    state_from_data,
    unlock_mismatch,
)
from reconcile.state.commit_log import (
    CommitLog,
    Signature,
    fsync_dir,
    log_path,
    record_line,
    replay,
    signature_of,
)
from reconcile.state_text import StateText

_LOCK_POLL_SECONDS = 0.1
# The log is folded into the file once it outgrows the file (or this, for small states):
# a read then costs at most about twice the file's.
_LOG_FLOOR_BYTES = 4 << 20
# A reader without the lock may read the file just before a fold replaces it and the log
# just after (records missing, or a gap in the serials): it reads both again.
_READ_ATTEMPTS = 5
_DiskSignature = tuple[Signature | None, Signature | None]  # the file's and the log's


class StateStore:
    """Reads, writes and locks one state file. Writes come from one writer at a time."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        server: str = "",
        tool_version: str = __version__,
        migrations: Mapping[int, Migration] = MIGRATIONS,
    ) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.server = server
        self._held: tuple[int, LockInfo] | None = None  # our lock file's fd, while locked
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._tool_version = tool_version
        self._migrations = migrations
        self._write_lock = threading.RLock()
        self._current: State | None = None
        self._signature: _DiskSignature | None = None  # the files _current was read from
        self._text = StateText()  # reuses unchanged entries' text from one write to the next
        self._log = CommitLog(log_path(self.path))

    # --- reading -------------------------------------------------------------------------

    def read(self, *, new_lineage: str | None = None) -> State:
        """The state on disk; a missing file is an empty state with a new random lineage, or
        with `new_lineage` (a saved plan made before the first write bound one: keep it)."""
        with self._write_lock:
            signature = self._disk_signature()
            if (
                self._current is not None
                and signature[0] is not None
                and signature == self._signature
            ):
                # The files this store last read or wrote, unchanged: a state is immutable,
                # so `apply`'s check before connecting and its plan share one parse.
                return self._current
            state = self._read_disk(new_lineage)
            check_server(state, self.server, location=self.location)
            return state

    def _read_disk(self, new_lineage: str | None = None) -> State:
        """The state file, then its log's commits; remembered with what was read."""
        for attempt in range(_READ_ATTEMPTS):
            raw, file_signature = self._read_file()
            log_raw, log_signature = self._log.read()
            if self._file_signature() != file_signature and attempt + 1 < _READ_ATTEMPTS:
                # A fold replaced the file while we read the log: the log we read may have
                # lost records the file we read lacks. Read both again.
                continue
            state = self._combine(raw, log_raw, new_lineage)
            self._current, self._signature = state, (file_signature, log_signature)
            return state
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _read_file(self) -> tuple[bytes | None, Signature | None]:
        try:
            with self.path.open("rb") as handle:
                return handle.read(), signature_of(os.fstat(handle.fileno()))
        except FileNotFoundError:
            return None, None
        except OSError as error:
            raise StateError(f"cannot read state file {self.path}: {error.strerror}") from None

    def _combine(self, raw: bytes | None, log_raw: bytes, new_lineage: str | None) -> State:
        if raw is None:
            if log_raw:
                raise StateError(
                    f"state file {self.path} is missing but its commit log {self._log.path} "
                    "is there",
                    hint=f"{self._restore_hint()}, or remove {self._log.path} to start afresh",
                )
            return State(lineage=new_lineage or str(uuid.uuid4()), tool_version=self._tool_version)
        state = self._parse(raw)
        if not log_raw:
            return state
        return replay(
            state,
            log_raw,
            source=f"state commit log {self._log.path}",
            migrations=self._migrations,
            hint=f"{self._log.path} holds the commits made since {self.path} was written; "
            f"{self._restore_hint()} and remove {self._log.path} only if its commits may be "
            "lost (plan then shows what the server holds that the state does not)",
        )

    def _restore_hint(self) -> str:
        return f"restore the previous copy from {self.backup_path}"

    def _parse(self, raw: bytes) -> State:
        hint = self._restore_hint()
        try:
            data = jsonfast.loads(raw)
        except UnicodeDecodeError as error:
            raise StateError(
                f"state file {self.path} is not UTF-8 text (byte {error.start})", hint=hint
            ) from None
        except (json.JSONDecodeError, RecursionError) as error:
            where = (
                f"line {error.lineno}, column {error.colno}: {error.msg}"
                if isinstance(error, json.JSONDecodeError)
                else "nested too deeply"
            )
            raise StateError(
                f"state file {self.path} is not valid JSON ({where})", hint=hint
            ) from None
        return state_from_data(
            data, f"state file {self.path}", migrations=self._migrations, hint=hint
        )

    def _remember(self, state: State) -> None:
        self._current = state
        self._signature = self._disk_signature()

    def _file_signature(self) -> Signature | None:
        try:
            return signature_of(self.path.stat())
        except FileNotFoundError:
            return None

    def _disk_signature(self) -> _DiskSignature:
        return (self._file_signature(), self._log.signature())

    def _base(self) -> tuple[State | None, bool]:
        """The state as last seen, re-read only when the files changed behind our back, and
        whether the file exists. Two stats: every apply step's commit comes through here."""
        signature = self._disk_signature()
        if signature[0] is None:
            return self._current, False
        if self._current is not None and signature == self._signature:
            return self._current, True
        return self.read(), True

    # --- writing -------------------------------------------------------------------------

    def write(self, state: State) -> State:
        """Write `state` atomically with serial + 1; the previous file is kept as `.backup`.

        The serial grows from the larger of the file's and `state`'s, so it only ever grows.
        A state of another lineage than the file's is refused (it would overwrite a stranger).
        """
        with self._write_lock:
            self._check_held()
            base, on_disk = self._base()
            return self._store(base if on_disk else None, state, on_disk=on_disk, whole=True)

    def _store(self, base: State | None, state: State, *, on_disk: bool, whole: bool) -> State:
        """Write `state` as the next after `base`; `on_disk`: a file is there to back up.

        A commit (not `whole`) of the lock holder is appended to the log while the log is
        smaller than the file; anything else writes the whole file, which folds the log.
        """
        new = next_state(
            base,
            bound(state, self.server),
            location=self.location,
            tool_version=self._tool_version,
        )
        if not whole and base is not None and self._held is not None and not self._log_full():
            log_signature = self._log.append(record_line(base, new))
            self._current = new
            self._signature = (self._signature[0] if self._signature else None, log_signature)
            return new
        self._write_whole(new, replacing=on_disk)
        return new

    def _log_full(self) -> bool:
        """Whether the log (as `_base` last saw it) has outgrown the file."""
        file_signature, log_signature = self._signature or (None, None)
        if log_signature is None:
            return False
        file_size = file_signature[1] if file_signature is not None else 0
        return log_signature[1] >= max(file_size, _LOG_FLOOR_BYTES)

    def _write_whole(self, state: State, *, replacing: bool) -> None:
        """Write `state` as the whole file, then drop the log it holds (after the rename is
        durable: a crash between the two leaves records the file has, which reads skip)."""
        try:
            self._write_file(self._text.render(state), replacing=replacing)
        except FileNotFoundError:  # our temp file swept by a run that took the lock away
            self._check_held()
            raise
        self._log.remove()
        self._remember(state)

    def replace_state(self, state: State, *, force: bool) -> State:
        """`state push`: `state` replaces the file (same lineage, serial not lower, or force)."""
        with self._write_lock:
            self._check_held()
            current, on_disk = self._base()
            current = current if on_disk else None
            check_push(current, state, location=self.location, force=force)
            same = current is not None and current.lineage == state.lineage
            return self._store(current if same else None, state, on_disk=on_disk, whole=True)

    def _check_held(self) -> None:
        """While this store holds the lock, a write first proves it still does."""
        if self._held is not None and not self._is_current_lock_file(self._held[0]):
            raise lock_lost_error(self.location, self._held[1])

    def close(self) -> None:
        """Nothing is held open between calls."""

    def update(self, change: StateChange) -> State:
        """Apply `change` to the latest state and write the result, as one writer.

        Parallel apply steps use this so that no step's entry overwrites another's.
        """
        with self._write_lock:
            current, on_disk = self._base()
            changed = change(current if current is not None else self.read())
            self._check_held()
            return self._store(current if on_disk else None, changed, on_disk=on_disk, whole=False)

    def _write_file(self, text: str, *, replacing: bool) -> None:
        """Write `text` as the file, atomically; `replacing`: a file is there (backed up)."""
        directory = self.path.parent
        try:
            fd, tmp_name = self._temp_file()
        except FileNotFoundError:  # the first write: its directory may not exist yet
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = self._temp_file()
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            if replacing:
                self._keep_backup()
            os.replace(tmp_name, self.path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        fsync_dir(directory)

    def _temp_file(self) -> tuple[int, str]:
        # mkstemp creates the file with mode 0600: the state never exists world-readable.
        return tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")

    def _keep_backup(self) -> None:
        """Point `.backup` at the current file; atomic, so a crash leaves an old or new backup."""
        tmp_backup = self.backup_path.with_name(f".{self.backup_path.name}.{uuid.uuid4().hex}")
        try:
            os.link(self.path, tmp_backup)  # a hard link: no copy, same 0600 inode
        except FileNotFoundError:  # no file to keep after all
            return
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
        self._held = (fd, info)
        try:
            self._sweep_leftovers()
            yield info
        finally:
            try:
                self._fold_log(fd)
            finally:
                self._held = None
                self._release(fd)

    def _sweep_leftovers(self) -> None:
        """Remove temp files of writers that died mid-write (SIGKILL between mkstemp and
        rename), and a torn last line of the log (SIGKILL mid-append). Only the lock holder
        writes, so with the lock held none is in use."""
        directory = self.path.parent
        patterns = (f".{self.path.name}.*.tmp", f".{self.backup_path.name}.*")
        for pattern in patterns:
            for leftover in directory.glob(pattern):
                with suppress(FileNotFoundError):
                    leftover.unlink()
        self._log.cut_torn_tail()

    def _fold_log(self, lock_fd: int) -> None:
        """Fold the log into the file as the lock is released, so that the file alone holds
        the state between runs. Not done when the lock was taken away (its new holder owns
        the files) or the state cannot be read (the log stays, and reads still see it)."""
        with self._write_lock:
            if self._log.signature() is None or not self._is_current_lock_file(lock_fd):
                return
            with suppress(StateError, OSError):
                current, on_disk = self._base()
                if current is not None and on_disk:
                    self._write_whole(current, replacing=True)

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
        return locked_error(self.location, holder)

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

        A live holder keeps its flock on the old file, which is unlinked: later runs lock a new
        file, and the holder's next write finds its file gone and stops (`_check_held`).
        """
        holder = self.read_holder()
        if holder is None or holder.id != lock_id:
            raise unlock_mismatch(self.location, lock_id, holder)
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
