"""Shared fixtures: one real emulator per test session, reset before every test that uses it.

- `emulator_server` (session): an `EmbeddedEmulator` serving HTTP on 127.0.0.1 and an
  ephemeral port, over a `:memory:` store with the packaged default seed, accepting the
  credentials `tests.emulator.helpers.TEST_CLIENT_ID` / `TEST_CLIENT_SECRET`. Its `.url` is
  the base URL; `.app` is the WSGI app (tests should prefer HTTP over reaching into it).
- `emulator` (function): the same server after a reset: objects back to the seed, faults off,
  settings as started, request log cleared, RNGs reseeded. Use it in any test that talks to
  the emulator, so tests never see each other's objects.
- `emulator_token` (session): a valid bearer token for it (a reset keeps tokens valid).
- `api` (function): `tests.emulator.helpers.Api` bound to the reset emulator with that token;
  `.get/.post/.put/.patch/.delete(path, ...)` return `requests.Response`s, and
  `.set_faults(...)`, `.set_settings(...)`, `.request_log()`, `.clear_log()`, `.reset()`
  drive the loopback admin API.
With `pytest -n 2` every xdist worker gets its own emulator.
- `postgres_cluster` (session): a throwaway PostgreSQL cluster (tests/postgres.py), one per
  xdist worker, started on first use and stopped at the end; `pg_url` (function): a URL of
  that cluster naming a fresh schema, so tests never see each other's tables.
- `_unfreeze_gc` (autouse): commands run in-process freeze what they built (`gc_paused(freeze=
  True)`, for a fast exit); the test process lives on, so it is unfrozen after every test.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET, Api, get_token
from tests.postgres import Cluster, remove_cluster, start_cluster


@pytest.fixture(autouse=True)
def _unfreeze_gc() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        remove_cluster(cluster)


@pytest.fixture
def pg_url(postgres_cluster: Cluster) -> str:
    return postgres_cluster.url()


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmbeddedEmulator]:
    server = EmbeddedEmulator(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    with server:
        yield server


@pytest.fixture(scope="session")
def emulator_token(emulator_server: EmbeddedEmulator) -> str:
    # Made before the function-scoped `emulator` resets the server (pytest sets up wider
    # scopes first), so faults an earlier test left on must be cleared here too.
    assert emulator_server.app is not None
    emulator_server.app.reset()
    return get_token(emulator_server.url)


@pytest.fixture
def emulator(emulator_server: EmbeddedEmulator) -> EmbeddedEmulator:
    assert emulator_server.app is not None
    emulator_server.app.reset()
    return emulator_server


@pytest.fixture
def api(emulator: EmbeddedEmulator, emulator_token: str) -> Api:
    return Api(emulator.url, emulator_token)
