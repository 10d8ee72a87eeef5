"""The read side of `plan` and `drift`: the checked config, the server and the state, with the
live objects the state owns read while a big config is still being checked.

Checking 10,000 documents keeps worker processes busy for most of a second while this process
only waits; reading the state and listing what it owns (all a no-change plan needs) fits in
that wait. That early read is speculative: it is made without retries, and if anything in it
fails, it is dropped and the command reads again after the config is checked, so errors keep
the order a user expects (a bad config before any state, credential or server error) and a
dead server never delays the report of a bad config by its retries. One error is not held
back: a state bound to another server is refused as soon as it is read, whatever the
documents hold (the run could not go on with any config).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass

from reconcile.cli.common import Server, announce, connect
from reconcile.config import Config, ConfigReading
from reconcile.errors import ReconcileError
from reconcile.live_view import LiveView
from reconcile.model import State
from reconcile.settings import Settings
from reconcile.state import open_store
from reconcile.state.base import check_server
from reconcile.workflow import read_owned


@dataclass(frozen=True)
class ReadSession:
    """What a read-only command starts from."""

    config: Config
    server: Server
    state: State  # read without the lock: these commands never write it
    known: LiveView | None  # the live objects the state owns, when read early


@contextmanager
def read_session(
    reading: ConfigReading, *, ca_bundle: str | None, insecure: bool
) -> Iterator[ReadSession]:
    """The config `reading` checks, and meanwhile its state and the server (see the module).
    The caller started `reading` and ends it (`start_config`)."""
    with ExitStack() as stack:
        state: State | None = None
        server: Server | None = None
        known: LiveView | None = None
        if reading.in_background and reading.settings_ok:
            state, server, known = _early(reading, stack, ca_bundle=ca_bundle, insecure=insecure)
        config = reading.checked()  # read already unless big: nothing to overlap then
        if state is None:
            state = _read_state(config.settings)
        if server is None:
            server = stack.enter_context(
                connect(config.settings, ca_bundle=ca_bundle, insecure=insecure, quiet=True)
            )
        announce(config.settings, insecure=insecure)
        yield ReadSession(config=config, server=server, state=state, known=known)


def _early(
    reading: ConfigReading, stack: ExitStack, *, ca_bundle: str | None, insecure: bool
) -> tuple[State | None, Server | None, LiveView | None]:
    """The state, the server and the owned live objects, as far as they could be read.

    A state bound to another server is refused at once (StateError), before the documents
    are checked: whatever they hold, this run must not go on."""
    try:
        state, location = _stored_state(reading.settings)
    except ReconcileError:  # met again, in order, once the config is checked
        return None, None, None
    check_server(state, reading.settings.server_label, location=location)
    server: Server | None = None
    try:
        server = stack.enter_context(
            connect(reading.settings, ca_bundle=ca_bundle, insecure=insecure, quiet=True)
        )
        with server.client.retries_off():
            return state, server, read_owned(server.client, state)
    except ReconcileError:  # met again, in order and retried, once the config is checked
        return state, server, None


def _read_state(settings: Settings) -> State:
    """The state, read without the lock (these commands never write it); a state bound to
    another server is refused before anything is sent to it."""
    state, location = _stored_state(settings)
    check_server(state, settings.server_label, location=location)
    return state


def _stored_state(settings: Settings) -> tuple[State, str]:
    """The state as stored, whichever server it is bound to, and where it is kept."""
    with closing(open_store(settings, bind=False)) as store:
        return store.read(), store.location
