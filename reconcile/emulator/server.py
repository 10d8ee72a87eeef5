"""Starting the emulator: assemble store, spec, tokens and app; serve in-process or blocking.

`EmbeddedEmulator` runs the threaded server (werkzeug's, keeping connections alive:
`keepalive.py`) on a background thread (tests, the CLI's `server: embedded`); `serve` blocks
(the `emulator serve` command). Nothing here prints.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from reconcile.emulator.app import EmulatorApp, collect_routes
from reconcile.emulator.auth import DEFAULT_TTL_S, Credentials, TokenAuthority
from reconcile.emulator.framework import EmulatorContext, EmulatorSettings
from reconcile.emulator.keepalive import KeepAliveServer, make_keepalive_server
from reconcile.emulator.openapi import OpenApi
from reconcile.emulator.seed import load_seed
from reconcile.emulator.store import Store
from reconcile.emulator.versions import LATEST, served


@cache
def shared_openapi() -> OpenApi:
    """The spec slice is read-only, so every emulator in the process shares one copy."""
    return OpenApi()


def build_app(
    *,
    db: str | Path = ":memory:",
    seed: str | Path | None = None,
    credentials: Credentials | None = None,
    token_ttl: int = DEFAULT_TTL_S,
    settings: EmulatorSettings | None = None,
    api_version: str = LATEST,
    wall_clock: Callable[[], float] = time.time,
) -> EmulatorApp:
    """A ready WSGI app over `db`, seeded when the store is empty, serving what Run:ai
    `api_version` serves (ValueError for a version the emulator cannot be). `wall_clock`
    dates the tokens it issues and tells when they expire."""
    routes = served(collect_routes(), api_version)
    store = Store(str(db))
    settings = settings or EmulatorSettings()
    credentials = credentials or Credentials.resolve()
    tokens = TokenAuthority(store, credentials, ttl_s=token_ttl, wall=wall_clock)
    ctx = EmulatorContext(
        store=store,
        openapi=shared_openapi(),
        settings=settings,
        tokens=tokens,
        random=random.Random(settings.seed_random),
        api_version=api_version,
    )

    def reset() -> None:
        store.clear()
        load_seed(store, None if seed is None else str(seed))

    load_seed(store, None if seed is None else str(seed))
    return EmulatorApp(ctx, routes=routes, reset=reset)


class EmbeddedEmulator:
    """The emulator on a background thread, on loopback and an ephemeral port by default.

    `with EmbeddedEmulator(db=path) as emu: requests.get(emu.url + ...)`; stopping and
    starting again on the same db path finds the same objects.
    """

    def __init__(
        self,
        *,
        db: str | Path = ":memory:",
        seed: str | Path | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_ttl: int = DEFAULT_TTL_S,
        settings: EmulatorSettings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_version: str = LATEST,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.seed = seed
        self.credentials = Credentials.resolve(client_id, client_secret)
        self.token_ttl = token_ttl
        self.settings = settings or EmulatorSettings()
        self.host = host
        self.port = port
        self.api_version = api_version
        self.wall_clock = wall_clock
        self._server: KeepAliveServer | None = None
        self._thread: threading.Thread | None = None
        self.app: EmulatorApp | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> EmbeddedEmulator:
        if self._server is not None:
            return self
        self.app = build_app(
            db=self.db,
            seed=self.seed,
            credentials=self.credentials,
            token_ttl=self.token_ttl,
            settings=self.settings,
            api_version=self.api_version,
            wall_clock=self.wall_clock,
        )
        self._server = make_keepalive_server(self.host, self.port, self.app, quiet=True)
        # A short poll interval makes stop() quick (tests start and stop many servers).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="runai-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.app is not None:
            self.app.ctx.store.close()
        self._server, self._thread = None, None

    def __enter__(self) -> EmbeddedEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    on_ready: Callable[[str], Any] | None = None,
    quiet: bool = False,
    **options: Any,
) -> None:
    """Serve until interrupted; `options` are `build_app`'s. `on_ready(url)` runs once bound."""
    app = build_app(**options)
    server = make_keepalive_server(host, port, app, quiet=quiet)
    if on_ready is not None:
        on_ready(f"http://{host}:{server.server_port}")
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.close_connections()
        app.ctx.store.close()
