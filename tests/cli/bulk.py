"""A no-change setup at scale: N workspace templates desired, on the server, and in state.

The first template is created through the API by the planner and apply engine
(`helpers.put_on_server`); the rest are cloned straight into the emulator's store (N POSTs
would only make the setup slow) and the state file gets one entry per clone. Shared by
`tests/cli/test_plan_scale.py` and `bench/bench_plan.py`.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from reconcile.emulator.store import Store
from reconcile.model import Address, StateEntry
from reconcile.state import StateStore
from tests.cli.helpers import put_on_server, state_path

PROJECT = "team-a"
# Block style on purpose: in flow style (`{image: python:3.11}`) libyaml refuses the ':' in a
# plain scalar and config.py re-reads the whole file with the pure-Python parser.
DOC = """kind: WorkspaceTemplate
metadata:
  name: {name}
  scope:
    project: {project}
  description: bulk template
spec:
  image: python:3.11
  compute:
    gpuDevicesRequest: 1
    cpuCoreRequest: 0.5
"""


def name_of(index: int) -> str:
    return f"bulk-{index:05d}"


def write_bulk_config(config_dir: Path, count: int, *, files: int = 10) -> None:
    """Settings (state beside the config dir) and `count` documents spread over `files` files."""
    config_dir.mkdir(parents=True, exist_ok=True)
    settings = "server: embedded\nstate: ../state/bulk.json\n"
    (config_dir / "runai-reconcile.yaml").write_text(settings, encoding="utf-8")
    for f in range(min(files, count)):
        docs = [DOC.format(name=name_of(i), project=PROJECT) for i in range(f, count, files)]
        (config_dir / f"bulk-{f:02d}.yaml").write_text("---\n".join(docs), encoding="utf-8")


def seed_bulk(config_dir: Path, url: str, store: Store, count: int) -> None:
    """Make `config_dir` hold `count` templates that the server and the state already match.

    `store` is the store of the emulator serving `url` (reached in-process for the clones).
    """
    write_bulk_config(config_dir, 1)
    state = put_on_server(config_dir, url)
    first = Address("workspace-template", f"project={PROJECT}", name_of(0))
    entry = state.entries[first]
    collection = next(c for c in store.collections() if store.get(c, entry.remote_id))
    stored = store.get(collection, entry.remote_id)
    assert stored is not None
    entries = dict(state.entries)
    with store.batch():
        for i in range(1, count):
            doc = copy.deepcopy(stored)
            remote_id = f"00000000-0000-4000-8000-{i:012d}"
            doc["meta"].update(id=remote_id, name=name_of(i))
            store.insert(collection, remote_id, doc)
            address = replace(first, name=name_of(i))
            entries[address] = StateEntry(address, remote_id, entry.last_applied)
    write_bulk_config(config_dir, count)
    StateStore(state_path(config_dir)).write(replace(state, entries=entries))
