"""The PostgreSQL backend against a real cluster: rows, serial checks, locks, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile.errors import ConfigError, StateError, StateLockedError
from reconcile.model import Address, State, StateEntry
from reconcile.settings import check_state_url
from reconcile.state.postgres import PostgresStore
from tests.postgres import SECURED_PASSWORD, SECURED_ROLE, Cluster

REPO = Path(__file__).resolve().parent.parent.parent


def _entry(name: str, remote_id: str = "1") -> StateEntry:
    return StateEntry(Address("workload-type", "", name), remote_id, {"spec": {"name": name}})


def _schema(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def test_round_trip_and_one_row_per_entry_write(pg_url: str, postgres_cluster: Cluster) -> None:
    store = PostgresStore(pg_url, "prod", server="https://a.example")
    state = store.read()
    for name in ("a", "b", "c"):
        state = store.write(state.with_entry(_entry(name)))
    table = f"{_schema(pg_url)}.resources"
    before = postgres_cluster.psql(f"SELECT address, xmin FROM {table} ORDER BY address")
    state = store.write(state.with_entry(_entry("b", "2")))
    after = postgres_cluster.psql(f"SELECT address, xmin FROM {table} ORDER BY address")
    changed = set(before.splitlines()) ^ set(after.splitlines())
    assert {line.split("|")[0] for line in changed} == {"workload-type/b"}  # only b's row
    again = PostgresStore(pg_url, "prod").read()
    assert again == state and again.serial == 4 and again.server == "https://a.example"
    assert PostgresStore(pg_url, "staging").read().entries == {}  # another environment


def test_a_writer_whose_serial_moved_fails_and_overwrites_nothing(pg_url: str) -> None:
    first, second = PostgresStore(pg_url, "prod"), PostgresStore(pg_url, "prod")
    first.write(first.read().with_entry(_entry("a")))
    stale = second.read()
    first.write(first.read().with_entry(_entry("b")))
    with pytest.raises(StateError, match="written by another run"):
        second.write(stale.with_entry(_entry("c")))
    final = PostgresStore(pg_url, "prod").read()
    assert sorted(a.name for a in final.entries) == ["a", "b"] and final.serial == 2


def test_a_schema_written_by_a_newer_version_is_refused(
    pg_url: str, postgres_cluster: Cluster
) -> None:
    PostgresStore(pg_url, "prod").read()  # creates the tables
    meta = f"{_schema(pg_url)}.meta"
    postgres_cluster.psql(f"UPDATE {meta} SET value = '99' WHERE key = 'schema_version'")
    store = PostgresStore(pg_url, "prod")
    for _ in range(2):  # and again: the refusal is not a one-off
        with pytest.raises(StateError, match="version 99, newer") as info:
            store.read()
    assert "upgrade" in info.value.hint
    assert postgres_cluster.psql(f"SELECT value FROM {meta}").strip() == "99"  # not downgraded


def test_unreachable_database_names_host_and_port(postgres_cluster: Cluster) -> None:
    with pytest.raises(StateError, match=r"127\.0\.0\.1:1\b") as info:
        PostgresStore("postgresql://postgres@127.0.0.1:1/postgres", "prod").read()
    assert "cannot connect" in info.value.message


def test_password_only_from_libpq_sources(
    postgres_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_cluster.url(user=SECURED_ROLE)
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(StateError, match="password authentication failed") as info:
        PostgresStore(url, "prod").read()
    assert "wrong" not in info.value.message
    monkeypatch.setenv("PGPASSWORD", SECURED_PASSWORD)
    assert PostgresStore(url, "prod").read().serial == 0


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECURED_PASSWORD}@db:5432/x",
        f"postgresql://u@db/x?password={SECURED_PASSWORD}",
    ],
)
def test_a_password_in_the_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_state_url(url)
    text = info.value.message + "".join(p.message for p in info.value.problems)
    assert "password" in text and SECURED_PASSWORD not in text


def test_lock_names_its_holder_and_waits(pg_url: str) -> None:
    holder, other = PostgresStore(pg_url, "prod"), PostgresStore(pg_url, "prod")
    with holder.lock("apply") as info:
        with pytest.raises(StateLockedError, match=info.id) as locked, other.lock("plan"):
            pass
        assert locked.value.holder["operation"] == "apply"
        with PostgresStore(pg_url, "staging").lock("apply"):  # environments lock apart
            pass
    with other.lock("apply", timeout=1):
        assert other.read_holder() is not None
    assert other.read_holder() is None


_HOLD = """
import sys, time
from reconcile.state.postgres import PostgresStore
store = PostgresStore(sys.argv[1], "prod")
with store.lock("apply") as info:
    print(info.id, flush=True)
    time.sleep(600)
"""


def test_a_holder_killed_with_sigkill_frees_the_lock(pg_url: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, pg_url], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lock_id = process.stdout.readline().strip()
        with (
            pytest.raises(StateLockedError, match=lock_id),
            PostgresStore(pg_url, "prod").lock("apply"),
        ):
            pass
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    # The server notices the dead session at once (the socket closed); wait its turn anyway.
    with PostgresStore(pg_url, "prod").lock("apply", timeout=30) as info:
        assert info.id != lock_id


def test_force_unlock_of_a_live_holder_stops_its_next_write(pg_url: str) -> None:
    holder = PostgresStore(pg_url, "prod")
    with holder.lock("apply") as info:
        state = holder.write(holder.read().with_entry(_entry("a")))
        taken = PostgresStore(pg_url, "prod").force_unlock(info.id)
        assert taken.id == info.id
        with pytest.raises(StateError, match="taken away by force-unlock"):
            holder.write(state.with_entry(_entry("b")))
        with PostgresStore(pg_url, "prod").lock("apply"):  # free for the next run
            pass
    assert sorted(a.name for a in PostgresStore(pg_url, "prod").read().entries) == ["a"]


def test_force_unlock_needs_the_holders_id(pg_url: str) -> None:
    store = PostgresStore(pg_url, "prod")
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock("nope")
    with store.lock("apply"):
        with pytest.raises(StateError, match="does not match"):
            PostgresStore(pg_url, "prod").force_unlock("nope")
        store.write(store.read())  # still the holder


def test_push_refuses_another_lineage_or_an_older_serial(pg_url: str) -> None:
    store = PostgresStore(pg_url, "prod")
    current = store.write(store.write(store.read().with_entry(_entry("a"))))
    stranger = State(lineage="another", serial=9, entries={_entry("z").address: _entry("z")})
    with pytest.raises(StateError, match="lineage"):
        store.replace_state(stranger, force=False)
    with pytest.raises(StateError, match="lower"):
        store.replace_state(State(lineage=current.lineage, serial=1), force=False)
    assert PostgresStore(pg_url, "prod").read() == current
    pushed = store.replace_state(stranger, force=True)
    again = PostgresStore(pg_url, "prod").read()
    assert again == pushed and list(again.entries) == [_entry("z").address]


def test_a_corrupt_row_is_refused_naming_its_address(
    pg_url: str, postgres_cluster: Cluster
) -> None:
    store = PostgresStore(pg_url, "prod")
    store.write(store.read().with_entry(_entry("a")).with_entry(_entry("b")))
    table = f"{_schema(pg_url)}.resources"
    postgres_cluster.psql(f"UPDATE {table} SET entry = '{{oops' WHERE address = 'workload-type/b'")
    with pytest.raises(
        StateError, match=r"resources\[\"workload-type/b\"\]: expected mapping"
    ) as info:
        PostgresStore(pg_url, "prod").read()
    assert "environment prod" in info.value.message
