"""A tenant set up by bench/clone.py equals one applied whole through the CLI.

Two emulators over db files, seeded with the same realistic tenant: one gets every template
by `apply`, the other a sample by `apply` and the rest cloned. Their stored templates (ids and
times aside) and their states (remote ids aside) must be equal, and a no-change plan over the
cloned one must say so.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bench.clone import OWN_META, clone_rest, sample
from bench.realistic import SECRET_VARIABLES, Tenant, documents, write_documents, write_seed
from reconcile.emulator.handlers.template_shape import COLLECTION
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.emulator.store import Store
from reconcile.model import State
from reconcile.sensitive import salted_hash
from reconcile.state import StateStore
from tests.cli.helpers import Cli, state_path
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET

SHAPES = 8  # specs repeat every 8 documents (two of each template type)


def _docs(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    docs = list(documents(count, tenant))
    for index, doc in enumerate(docs):
        doc["spec"] = copy.deepcopy(docs[index % SHAPES]["spec"])
    return docs


def _set_up(root: Path, tenant: Tenant, docs: list[dict[str, Any]], *, cloned: bool) -> Any:
    """The stored templates and the state of a tenant holding `docs`, and a no-change plan."""
    root.mkdir()
    seed = root / "seed.yaml"
    write_seed(seed, tenant)
    config = root / "config"
    chosen = sample(docs) if cloned else list(range(len(docs)))
    with EmbeddedEmulator(
        db=root / "emulator.sqlite3",
        seed=seed,
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
    ) as emulator:
        assert emulator.app is not None
        store: Store = emulator.app.ctx.store
        cli = Cli(emulator.url)
        write_documents(config, {}, [docs[i] for i in chosen])
        applied = cli("apply", "--auto-approve", config, env=SECRET_VARIABLES)
        assert applied.exit_code == 0, applied.output
        if cloned:
            assert len(chosen) < len(docs)
            states = StateStore(state_path(config))
            states.write(clone_rest(docs, chosen, store, states.read()))
            write_documents(config, {}, docs)
        plan = cli("plan", "--detailed-exitcode", config, env=SECRET_VARIABLES)
        assert (plan.exit_code, plan.stdout.splitlines()[-1:]) == (0, ["No changes."]), plan.output
        return _templates(store), _entries(StateStore(state_path(config)).read())


def _templates(store: Store) -> dict[tuple[str, str, str], Any]:
    """Each stored template by scope and name, without what differs between any two applies."""
    found = {}
    for obj in store.all(COLLECTION):
        meta = obj["meta"]
        kept = {k: v for k, v in meta.items() if k not in {"id", "createdAt", "updatedAt"}}
        found[(meta["scopeType"], meta["scopeId"], meta["name"])] = {**obj, "meta": kept}
    return found


def _entries(state: State) -> dict[str, Any]:
    """Each entry without its remote id, a secret's salted hash (salted with the state's own
    lineage) replaced by the name of the secret it hashes."""
    secret_of = {salted_hash(state.lineage, v): n for n, v in SECRET_VARIABLES.items()}
    text = json.dumps(
        {
            str(address): {**entry.to_dict(), "remote_id": None}
            for address, entry in state.entries.items()
        }
    )
    for hashed, name in secret_of.items():
        text = text.replace(hashed, name)
    return dict(json.loads(text))


def test_cloned_tenant_equals_applied_tenant(tmp_path: Path) -> None:
    tenant = Tenant.of(2, 4)
    docs = _docs(tenant, 40)
    applied = _set_up(tmp_path / "applied", tenant, docs, cloned=False)
    cloned = _set_up(tmp_path / "cloned", tenant, docs, cloned=True)
    assert len(applied[0]) >= len(docs) and len(applied[1]) == len(docs)
    assert cloned == applied


def test_the_sample_holds_each_shape_and_scope_once_first() -> None:
    tenant = Tenant.of(2, 4)
    docs = _docs(tenant, 40)
    chosen = sample(docs)
    assert chosen == list(range(SHAPES))  # 8 shapes cover the 6 scopes
    assert "scopeType" not in OWN_META and "name" in OWN_META
