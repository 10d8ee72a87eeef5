"""StateStore on real files in a tmp dir: format, atomic writes, backup, lock, migrations."""

from __future__ import annotations

import json
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconcile.errors import ExitCode, StateError, StateLockedError
from reconcile.model import STATE_VERSION, Address, EntryStatus, State, StateEntry
from reconcile.state import MIGRATIONS, StateStore, migrate

ADDR = Address("workspace-template", "project=team-a", "jupyter")

# A child process that holds the lock until its stdin closes (or it is killed).
HOLDER = textwrap.dedent(
    """
    import sys
    from reconcile.state import StateStore
    store = StateStore(sys.argv[1])
    with store.lock("apply") as info:
        print(info.id, flush=True)
        sys.stdin.read()
    """
)

# A child process that writes the state in a loop until killed.
WRITER = textwrap.dedent(
    """
    import sys
    from reconcile.model import Address, StateEntry
    from reconcile.state import StateStore
    store = StateStore(sys.argv[1])
    state = store.read()
    i = 0
    while True:
        i += 1
        entry = StateEntry(Address("training-template", "tenant", f"t{i}"), str(i), {"n": i})
        state = store.write(state.with_entry(entry))
        if i == 1:
            print("wrote", flush=True)
    """
)


def entry(name: str = "jupyter", remote_id: str = "id-1", **spec: Any) -> StateEntry:
    return StateEntry(Address("workspace-template", "project=team-a", name), remote_id, spec)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state" / "default.json")


@dataclass
class Holder:
    proc: subprocess.Popen[str]
    lock_id: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def holder(store: StateStore) -> Iterator[Holder]:
    """Another process holding the state lock (released when its stdin closes)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    yield Holder(proc, proc.stdout.readline().strip())
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_missing_file_is_an_empty_state_with_a_new_lineage(store: StateStore) -> None:
    first, second = store.read(), StateStore(store.path).read()
    assert first.entries == {} and first.serial == 0 and first.version == STATE_VERSION
    assert first.lineage and first.lineage != second.lineage
    assert not store.path.exists()


def test_write_bumps_serial_and_round_trips(store: StateStore) -> None:
    state = store.read()
    written = store.write(state.with_entry(entry(image="jupyter/base")))
    assert written.serial == 1 and written.lineage == state.lineage
    assert StateStore(store.path).read() == written
    raw = store.path.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert raw == json.dumps(data, sort_keys=True, indent=2) + "\n"
    assert data["resources"][str(ADDR)] == {
        "last_applied": {"image": "jupyter/base"},
        "remote_id": "id-1",
        "status": "applied",
    }
    assert data["tool_version"] and data["version"] == STATE_VERSION


def test_files_are_private_and_previous_copy_is_kept(store: StateStore) -> None:
    first = store.write(store.read().with_entry(entry(remote_id="one")))
    second = store.write(first.with_entry(entry(remote_id="two")))
    assert second.serial == 2
    assert json.loads(store.backup_path.read_text())["serial"] == 1
    assert json.loads(store.backup_path.read_text())["resources"][str(ADDR)]["remote_id"] == "one"
    for path in (store.path, store.backup_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = sorted(p.name for p in store.path.parent.iterdir())
    assert leftovers == ["default.json", "default.json.backup"]


def test_every_kind_of_write_keeps_the_replaced_file_as_backup(tmp_path: Path) -> None:
    """A write, a commit (`update`) and a forced push of another lineage each leave the file
    they replaced as `.backup`; the first write makes the missing state directory."""
    store = StateStore(tmp_path / "new" / "dir" / "default.json")
    first = store.write(store.read().with_entry(entry(remote_id="one")))
    assert not store.backup_path.exists()
    second = store.update(lambda s: s.with_entry(entry(remote_id="two")))
    assert json.loads(store.backup_path.read_text())["serial"] == first.serial
    stranger = State(lineage="another-lineage").with_entry(entry(remote_id="three"))
    store.replace_state(stranger, force=True)
    kept = json.loads(store.backup_path.read_text())
    assert (kept["lineage"], kept["serial"]) == (second.lineage, second.serial)
    assert StateStore(store.path).read().lineage == "another-lineage"


def test_serial_only_grows_even_from_a_stale_copy(store: StateStore) -> None:
    stale = store.read()
    for _ in range(3):
        store.write(stale)
    assert store.write(stale).serial == 4
    other = StateStore(store.path)  # another store instance, e.g. a second command
    assert other.write(stale).serial == 5
    assert store.write(stale).serial == 6  # notices the file moved behind its back


def test_other_lineage_is_refused(store: StateStore) -> None:
    store.write(store.read())
    with pytest.raises(StateError, match="lineage"):
        store.write(State(lineage="someone-else"))
    assert store.read().serial == 1


def test_failed_write_leaves_file_and_dir_untouched(store: StateStore) -> None:
    good = store.write(store.read().with_entry(entry()))
    before = store.path.read_bytes()
    with pytest.raises(TypeError):
        store.write(good.with_entry(entry(bad=object())))
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["default.json"]


def test_state_file_always_parses_when_the_writer_is_killed(store: StateStore) -> None:
    rng = random.Random(4)
    serials = []
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "wrote"
        time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = StateStore(store.path).read()
        serials.append(state.serial)
        if store.backup_path.exists():
            assert StateStore(store.backup_path).read().lineage == state.lineage
    # Every writer wrote at least once before it was killed, and nothing was lost.
    assert serials == sorted(set(serials))


def test_update_from_many_threads_loses_no_entry(store: StateStore) -> None:
    store.read()

    def work(worker: int) -> None:
        for i in range(10):
            step = entry(name=f"w{worker}-{i}", remote_id=f"{worker}-{i}")
            store.update(lambda state, e=step: state.with_entry(e))  # type: ignore[misc]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = StateStore(store.path).read()
    assert len(final.entries) == 60 and final.serial == 60


def test_without_and_pending_status_round_trip(store: StateStore) -> None:
    pending = StateEntry(ADDR, "", {"image": "x"}, EntryStatus.PENDING_CREATE)
    state = store.write(store.read().with_entry(pending))
    assert StateStore(store.path).read().entries[ADDR].status is EntryStatus.PENDING_CREATE
    assert store.write(state.without(ADDR)).entries == {}


def test_newer_version_is_refused(store: StateStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({"version": STATE_VERSION + 1, "lineage": "x"}))
    with pytest.raises(StateError, match="newer") as info:
        store.read()
    assert str(store.path) in info.value.message and "upgrade" in info.value.hint


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"version": 1, "lineage": ', "not valid JSON"),
        ("[1, 2]", "does not hold a JSON object"),
        ('{"lineage": "x"}', "no integer 'version'"),
        ('{"version": 1}', r"\$\.lineage: missing required field 'lineage'"),
        (
            '{"version": 1, "lineage": "x", "resources": {"no-slash": {}}}',
            r"\$\.resources: .*no-slash",
        ),
        (
            '{"version": 2, "lineage": "x", "resources": {"a/b": {"remote_id": "1", '
            '"status": "odd"}}}',
            r"\$\.resources\[\\?\"a/b\\?\"\]\.status: .*applied",
        ),
        (b'{"version": 2, "lineage": "\xff"}', "not UTF-8"),
        # Addresses are printed as they are: one that could rewrite the terminal is refused,
        # and the error shows it escaped.
        (
            '{"version": 2, "lineage": "x", "resources": {"a/b/c\\u001b[2J": {"remote_id": "1"}}}',
            r"\$\.resources: .*c\\x1b\[2J",
        ),
    ],
)
def test_corrupt_file_is_a_state_error_naming_it(
    store: StateStore, content: str | bytes, expected: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(StateError, match=expected) as info:
        store.read()
    assert str(store.path) in info.value.message


def test_migrations_upgrade_older_files(tmp_path: Path) -> None:
    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in data.items() if k != "objects"}
        return {**kept, "version": 1, "resources": data["objects"]}

    old = {"version": 0, "lineage": "L", "serial": 7, "objects": {str(ADDR): {"remote_id": "9"}}}
    assert migrate(old, migrations={0: v0_to_v1}, target=1)["resources"] == old["objects"]
    with pytest.raises(StateError, match="no migration from state file version 0"):
        migrate(old, migrations={}, target=1)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    state = StateStore(path, migrations={0: v0_to_v1, **MIGRATIONS}).read()
    assert state.serial == 7 and state.entries[ADDR].remote_id == "9"
    with pytest.raises(StateError, match="no migration"):
        StateStore(path).read()


def test_held_lock_names_its_holder(store: StateStore, holder: Holder) -> None:
    with pytest.raises(StateLockedError) as info, store.lock("plan"):
        pass
    error = info.value
    assert error.exit_code == ExitCode.LOCKED
    assert error.holder["id"] == holder.lock_id
    assert error.holder["operation"] == "apply"
    assert error.holder["pid"] == str(holder.pid)
    assert "@" in error.holder["who"] and error.holder["when"].endswith("Z")
    assert holder.lock_id in error.message and "apply" in error.message


def test_lock_timeout_waits_for_the_holder(store: StateStore, holder: Holder) -> None:
    threading.Timer(0.3, holder.release).start()
    with store.lock("apply", timeout=10) as info:
        assert store.read_holder() == info
    assert store.read_holder() is None  # released: no holder info left behind


def test_lock_is_exclusive_within_one_process_too(store: StateStore) -> None:
    with store.lock("apply"), pytest.raises(StateLockedError), store.lock("apply"):
        pass
    with store.lock("apply"):
        pass


def test_force_unlock_needs_the_matching_id(store: StateStore, holder: Holder) -> None:
    with pytest.raises(StateError, match="does not match"):
        store.force_unlock("wrong-id")
    with pytest.raises(StateLockedError), store.lock("apply"):
        pass
    removed = store.force_unlock(holder.lock_id)
    assert removed.pid == holder.pid
    with store.lock("apply") as info:
        assert store.read_holder() == info
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock(info.id)


def test_a_killed_holder_leaves_stale_info_but_no_lock(store: StateStore, holder: Holder) -> None:
    holder.kill()
    stale = store.read_holder()
    assert stale is not None and stale.pid == holder.pid
    with store.lock("apply") as info:  # the kernel released the flock with the process
        assert store.read_holder() == info
    assert info.id != holder.lock_id


def test_force_unlock_clears_stale_info_of_a_dead_holder(store: StateStore, holder: Holder) -> None:
    holder.kill()
    assert store.force_unlock(holder.lock_id).pid == holder.pid
    assert store.read_holder() is None


def test_taking_the_lock_sweeps_temp_files_of_killed_writers(store: StateStore) -> None:
    store.write(store.write(store.read()))  # twice: the second keeps a .backup
    directory = store.path.parent
    leftovers = [
        directory / f".{store.path.name}.abc123.tmp",
        directory / f".{store.backup_path.name}.deadbeef",
    ]
    for leftover in leftovers:
        leftover.write_text("half a state", encoding="utf-8")
    unrelated = directory / "notes.tmp"
    unrelated.write_text("mine", encoding="utf-8")
    with store.lock("apply"):
        assert not any(p.exists() for p in leftovers)
    assert unrelated.exists() and store.path.exists() and store.backup_path.exists()
