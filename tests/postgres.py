"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, pg_ctl on a free
loopback port, stopped and removed at the end.

Debian's postgresql-15 keeps its binaries in a versioned folder, not on PATH. initdb refuses
to run as root, so when the tests run as root the cluster belongs to the `postgres` OS user.
Missing binaries FAIL the test that needs the database (CI must not skip it silently).

Authentication: trust for the `postgres` superuser on loopback, a password (scram) for the
role `secured`, whose password tests give libpq through PGPASSWORD, never in a URL.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SECURED_ROLE = "secured"
SECURED_PASSWORD = "s3cret-for-tests"
_STOP_TIMEOUT_S = 60


def _bin(name: str) -> str:
    for folder in (*PG_BIN_DIRS, *(Path(p) for p in os.environ.get("PATH", "").split(":"))):
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    pytest.fail(
        f"PostgreSQL's {name} was not found (looked in /usr/lib/postgresql/*/bin and PATH): "
        "install the postgresql package (Debian: postgresql-15)",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running cluster: `url()` names a fresh schema in it, so tests never share tables."""

    directory: Path
    port: int
    owner: str | None  # the OS user the server runs as (None: this process's user)

    def url(self, *, user: str = "postgres", schema: str | None = None) -> str:
        name = schema or f"t_{uuid.uuid4().hex[:12]}"
        return f"postgresql://{user}@127.0.0.1:{self.port}/postgres?schema={name}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=_STOP_TIMEOUT_S
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off "
            "-c full_page_writes=off"
        )
        done = self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-o",
            options,
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "start",
        )
        if done.returncode != 0:
            log = (self.directory / "server.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"pg_ctl start failed: {done.stderr}\n{log}", pytrace=False)

    def stop(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop")

    def psql(self, statement: str) -> str:
        done = self._run(
            _bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            statement,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


def start_cluster() -> Cluster:
    """initdb and start a cluster on a free loopback port (the caller stops it)."""
    initdb = _bin("initdb")
    directory = Path(tempfile.mkdtemp(prefix="runai-reconcile-pg-"))
    owner = None
    if os.geteuid() == 0:
        owner = "postgres"
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    cluster = Cluster(directory=directory, port=_free_port(), owner=owner)
    done = cluster._run(
        initdb, "-D", str(directory / "data"), "-U", "postgres", "-A", "trust", "--no-sync"
    )
    if done.returncode != 0:
        pytest.fail(f"initdb failed: {done.stderr}", pytrace=False)
    hba = directory / "data" / "pg_hba.conf"
    hba.write_text(
        "local all all trust\n"
        f"host all {SECURED_ROLE} 127.0.0.1/32 scram-sha-256\n"
        "host all all 127.0.0.1/32 trust\n"
    )
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(hba, entry.pw_uid, entry.pw_gid)
    cluster.start()
    cluster.psql(f"CREATE ROLE {SECURED_ROLE} LOGIN PASSWORD '{SECURED_PASSWORD}'")
    cluster.psql(f"GRANT CREATE ON DATABASE postgres TO {SECURED_ROLE}")
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.directory, ignore_errors=True)
