"""Random live objects, made from the 2.24 request schemas through the plain API, import into
documents that read back as exactly what the server holds: the plan has no changes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reconcile.client import Client
from reconcile.config import load_config
from reconcile.credentials import Credentials
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.importer import Imported, Selection, collect, render_files, write_files
from reconcile.live import read_live
from reconcile.model import State, StateEntry
from reconcile.planner import BindingSource, PlanOptions
from reconcile.sensitive import redact
from reconcile.workflow import plan_run
from tests.cli.tenant import FLAVORS, SCOPES
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET, Api
from tests.schema_objects import objects

PER_EXAMPLE = 55
EXAMPLES = 10  # 550 objects drawn; the emulator refuses a few (its semantic checks)
SPECS = {
    "workspaces": ("workspace-template.json", "WorkspaceTemplateSpec"),
    "trainings": ("training-template.json", "TrainingTemplateSpec"),
    "distributed": ("distributed-template.json", "DistributedTemplateSpec"),
    "inferences": ("inference-template.json", "InferenceTemplateSpec"),
}
OBJECT = st.sampled_from(sorted(FLAVORS)).flatmap(
    lambda flavor: st.tuples(
        st.just(flavor), st.sampled_from(sorted(SCOPES)), objects(*SPECS[flavor])
    )
)


def placeholder_values(document: Any, spec: Any, env: dict[str, str]) -> None:
    """The value behind each `${VAR}` of an imported document: the same place in its spec."""
    if isinstance(document, str) and document.startswith("${"):
        env[document[2:-1]] = str(spec)
    elif isinstance(document, dict) and isinstance(spec, dict):
        for key, value in document.items():
            placeholder_values(value, spec.get(key), env)
    elif isinstance(document, list) and isinstance(spec, list):
        for item, other in zip(document, spec, strict=False):
            placeholder_values(item, other, env)


def adopted(objects_: tuple[Imported, ...]) -> State:
    state = State(lineage="property")
    for imported in objects_:
        stored = redact(imported.spec, imported.sensitive, state.lineage)
        state = state.with_entry(StateEntry(imported.address, imported.remote_id, stored))
    return state


def test_random_objects_round_trip_without_changes(api: Api, emulator: EmbeddedEmulator) -> None:
    accepted: list[int] = []
    creds = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # a batch shrinks slowly: report it as found
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=st.lists(OBJECT, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE))
    def round_trip(batch: list[tuple[str, str, dict[str, Any]]]) -> None:
        api.reset()
        made = 0
        for index, (flavor, scope, spec) in enumerate(batch):
            scope_type, scope_id = SCOPES[scope]
            body: dict[str, Any] = {
                "meta": {"name": f"o{index}", "scopeType": scope_type, "scopeId": scope_id},
                "spec": spec,
            }
            answer = api.post(f"/api/v1/workload-templates/{flavor}", body)
            assert answer.status_code in (202, 400), answer.text
            made += answer.status_code == 202
        with Client(emulator.url, credentials=creds) as client:
            slugs = frozenset(FLAVORS.values())
            result = collect(read_live(client, slugs=slugs, interesting=()), Selection(slugs))
            assert not result.skipped, result.skipped[0]
            assert len(result.objects) == made
            env: dict[str, str] = {}
            for imported in result.objects:
                placeholder_values(imported.document, imported.spec, env)
            with tempfile.TemporaryDirectory() as tmp:
                directory = Path(tmp)
                write_files(directory, render_files(result.objects)[0])
                config = load_config(directory, env=env)
                plan = plan_run(
                    client,
                    config.resources,
                    adopted(result.objects),
                    source=BindingSource(emulator.url, tmp),
                    options=PlanOptions(),
                ).plan
        assert not plan.has_changes, [
            c.to_dict() for c in plan.changes if c.action.value != "no-op"
        ][:2]
        accepted.append(made)

    round_trip()
    assert sum(accepted) >= 500, accepted
