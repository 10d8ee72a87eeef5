"""The config loader on real directories: the desired set, the settings, env interpolation,
YAML details, both YAML parsers, and reading in parallel."""

from __future__ import annotations

import os
import random
import shutil
import threading
from pathlib import Path

import pytest

from reconcile import config as config_module
from reconcile.config import load_config, load_settings, read_config, start_config
from reconcile.desired import PARALLEL_BYTES
from reconcile.errors import ConfigError
from reconcile.model import Address
from reconcile.settings import EMBEDDED

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
INVALID = REPO / "tests" / "data" / "invalid"
NO_ENV: dict[str, str] = {}


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_examples_build_the_desired_set() -> None:
    config = load_config(EXAMPLES, env=NO_ENV)
    assert [str(a) for a in config.resources] == [
        "asset-template/project=detection/detectron-notebook",
        "asset-template/project=team-a/legacy-jupyter",
        "asset-template/tenant/pytorch-half-gpu",
        "compute/department=vision/a100-pair",
        "datasource/project=detection/coco",
        "department/cluster=cluster-a/vision",
        "distributed-template/department=research/ddp-4x",
        "distributed-template/project=team-b/mpi-horovod",
        "environment/project=detection/detectron",
        "inference-template/department=platform/small-model",
        "inference-template/project=inference/llm-serving",
        "node-pool/cluster=cluster-a/a100",
        "project/department=vision/detection",
        "training-template/project=team-b/hpo-sweep",
        "training-template/tenant/batch-1gpu",
        "workload/project=inference/model-gateway",
        "workload/project=team-b/pytorch-mnist",
        "workload-type/Notebook",
        "workload-type/PyTorchJob",
        "workspace-template/cluster=cluster-a/cpu-sandbox",
        "workspace-template/department=research/vscode",
        "workspace-template/project=team-a/jupyter-small",
    ]
    assert config.documents == 23  # the shared base is a document, not an object
    assert config.files == 11  # the manifest file is not a document file


def test_normalized_spec_shape() -> None:
    resources = load_config(EXAMPLES, env=NO_ENV).resources
    ddp = resources[Address("distributed-template", "department=research", "ddp-4x")]
    assert set(ddp.spec) == {"metadata", "spec", "masterSpecSameAsWorker"}
    assert ddp.spec["metadata"] == {
        "description": "PyTorch DDP over 4 workers; the master runs the worker spec"
    }
    mpi = resources[Address("distributed-template", "project=team-b", "mpi-horovod")]
    assert mpi.spec["master"]["spec"]["command"] == "horovodrun"
    workload_type = resources[Address("workload-type", "", "PyTorchJob")]
    assert workload_type.spec == {"spec": {"category": "Train", "priority": "medium-high"}}
    legacy = resources[Address("asset-template", "project=team-a", "legacy-jupyter")]
    assert legacy.spec["spec"]["assets"] == {
        "environment": "jupyter-lab",
        "compute": "one-gpu",
        "datasources": [{"name": "home", "kind": "pvc"}],
    }


def test_manifest_file_is_resolved_into_the_manifest() -> None:
    resources = load_config(EXAMPLES, env=NO_ENV).resources
    job = resources[Address("workload", "project=team-b", "pytorch-mnist")]
    assert "manifestFile" not in job.spec["spec"]
    manifest = job.spec["spec"]["manifest"]
    assert (manifest["apiVersion"], manifest["kind"]) == ("kubeflow.org/v1", "PyTorchJob")
    assert manifest["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] == 2


def test_origin_points_at_the_document() -> None:
    resources = load_config(EXAMPLES, env=NO_ENV).resources
    vscode = resources[Address("workspace-template", "department=research", "vscode")]
    assert vscode.origin is not None
    assert (vscode.origin.file, vscode.origin.line, vscode.origin.col) == (
        str(EXAMPLES / "templates" / "workspaces.yaml"),
        26,
        1,
    )


def test_plain_values_are_not_sensitive() -> None:
    resources = load_config(EXAMPLES, env=NO_ENV).resources
    hpo = resources[Address("training-template", "project=team-b", "hpo-sweep")]
    assert hpo.spec["spec"]["environmentVariables"] == [{"name": "WANDB_MODE", "value": "offline"}]
    assert hpo.sensitive == frozenset()


def test_examples_settings_put_state_in_the_repository() -> None:
    settings = load_settings(EXAMPLES, env=NO_ENV)
    assert settings.server == EMBEDDED and settings.embedded
    assert settings.state_path == REPO / "state" / "default.json"
    assert settings.emulator_db == REPO / "state" / "default.emulator.sqlite3"
    assert settings.safety.min_managed == 10


def test_settings_defaults_and_runai_url_override(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": "kind: WorkloadType\nmetadata: {name: Job}\nspec: {}\n"})
    settings = read_config(tmp_path, env=NO_ENV).settings
    assert settings.settings_file is None
    assert settings.state_path == tmp_path.resolve() / "state" / "default.json"
    assert (settings.parallelism, settings.plan_ttl_seconds) == (8, 86400)
    overridden = load_settings(tmp_path, env={"RUNAI_URL": "https://acme.run.ai"})
    assert overridden.server == "https://acme.run.ai"
    assert overridden.server_from_env and not overridden.embedded


def test_settings_environment_names_the_state_file(tmp_path: Path) -> None:
    _write(tmp_path, {"runai-reconcile.yml": "environment: staging\nparallelism: 2\n"})
    settings = load_settings(tmp_path, env=NO_ENV)
    assert settings.state_path == tmp_path.resolve() / "state" / "staging.json"
    assert settings.parallelism == 2


def test_invalid_settings_raise_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(INVALID / "settings-bad-server", env=NO_ENV)
    assert raised.value.problems[0].json_path == "$.server"


def test_load_config_raises_with_every_problem() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(INVALID / "asset-template-asset-by-id", env=NO_ENV)
    assert len(raised.value.problems) == 2


WITH_TOKEN = """\
kind: WorkspaceTemplate
metadata: {name: app, scope: {project: team-a}, description: "${TEAM} workspace"}
spec:
  image: "registry.example.com/${TEAM}/app:1"
  args: "--base=/$${RUNAI_PROJECT}"
  environmentVariables:
    - {name: API_TOKEN, value: "${API_TOKEN}"}
"""


def test_env_interpolation_marks_values_sensitive(tmp_path: Path) -> None:
    _write(tmp_path, {"app.yaml": WITH_TOKEN})
    env = {"TEAM": "vision", "API_TOKEN": "tok-123"}
    resource = next(iter(load_config(tmp_path, env=env).resources.values()))
    spec = resource.spec
    assert spec["metadata"]["description"] == "vision workspace"
    assert spec["spec"]["image"] == "registry.example.com/vision/app:1"
    assert spec["spec"]["args"] == "--base=/${RUNAI_PROJECT}"  # $${...} is a literal ${...}
    assert spec["spec"]["environmentVariables"][0]["value"] == "tok-123"
    assert resource.sensitive == {
        "metadata.description",
        "spec.image",
        "spec.environmentVariables[name=API_TOKEN].value",
    }


MARKED = """\
kind: TrainingTemplate
metadata: {name: app, scope: {project: team-a}}
spec:
  image: img
  environmentVariables:
    - {name: NCCL_DEBUG, value: INFO}
    - {name: DB_PASSWORD, value: !sensitive hunter2}
    - name: EXTRA
      value: !sensitive 42
  nodeAffinityRequired: !sensitive {nodeSelectorTerms: []}
"""


@pytest.mark.parametrize("backend", ["libyaml", "python"])
def test_values_tagged_sensitive_are_hidden_and_kept_as_strings(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, {"app.yaml": MARKED})
    monkeypatch.setattr(config_module, "YAML_BACKEND", backend)
    config = read_config(tmp_path, env=NO_ENV)
    assert config.ok, config.problems
    resource = next(iter(config.resources.values()))
    variables = resource.spec["spec"]["environmentVariables"]
    assert [v["value"] for v in variables] == ["INFO", "hunter2", "42"]
    assert resource.sensitive == {
        "spec.environmentVariables[name=DB_PASSWORD].value",
        "spec.environmentVariables[name=EXTRA].value",
        "spec.nodeAffinityRequired",
    }


HIDDEN_NAMES = """\
kind: WorkspaceTemplate
metadata:
  name: "${NAME}"
  scope: {project: "${PROJECT}"}
spec:
  image: img
  nodePools: [!sensitive pool-a]
  environmentVariables:
    - {name: "${VAR_NAME}", value: "${OK}"}
"""


def test_hidden_values_in_names_are_refused_with_their_place(tmp_path: Path) -> None:
    _write(tmp_path, {"app.yaml": HIDDEN_NAMES})
    env = {"NAME": "n-secret", "PROJECT": "p-secret", "VAR_NAME": "v-secret", "OK": "fine"}
    problems = read_config(tmp_path, env=env).problems
    refused = [(p.line, p.col, p.json_path, p.message.split(" cannot")[0]) for p in problems]
    assert refused == [
        (3, 9, "$.metadata.name", "a value from ${VAR}"),
        (4, 20, "$.metadata.scope.project", "a value from ${VAR}"),
        (7, 15, "$.spec.nodePools[0]", "a value tagged !sensitive"),
        (9, 14, "$.spec.environmentVariables[0].name", "a value from ${VAR}"),
    ]
    assert all(p.file.endswith("app.yaml") for p in problems)
    text = "".join(str(p) for p in problems)
    assert "secret" not in text


def test_missing_env_variable_names_it_but_never_a_value(tmp_path: Path) -> None:
    _write(tmp_path, {"app.yaml": WITH_TOKEN})
    problems = read_config(tmp_path, env={"TEAM": "vision"}).problems
    assert [(p.line, p.col, p.json_path) for p in problems] == [
        (7, 32, "$.spec.environmentVariables[0].value")
    ]
    assert "variable API_TOKEN is set neither" in problems[0].message


def test_yaml_details(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "a.yml": """\
kind: WorkloadType
metadata: {name: Job}
spec:
  <<: &base {category: Train, priority: low}
  priority: high
---
kind: TrainingTemplate
metadata: {name: t, scope: {tenant: true}, description: 2024-01-31}
spec: {image: repo/img:tag, completions: 0x10, parallelism: 1_000, tty: TRUE, stdin: no}
""",
            ".hidden/broken.yaml": "{{{",
            "notes.txt": "{{{",
        },
    )
    config = read_config(tmp_path, env=NO_ENV)
    job = config.resources[Address("workload-type", "", "Job")]
    assert job.spec == {"spec": {"category": "Train", "priority": "high"}}
    template = config.resources[Address("training-template", "tenant", "t")]
    assert template.spec["metadata"] == {"description": "2024-01-31"}  # dates stay text
    assert template.spec["spec"] == {
        "image": "repo/img:tag",  # a ':' in a flow plain scalar: YAML 1.2 allows it
        "completions": 16,
        "parallelism": 1000,
        "tty": True,
        "stdin": "no",  # YAML 1.2: not a boolean, so the schema rejects it
    }
    assert [(p.line, p.col, p.json_path, p.message) for p in config.problems] == [
        (9, 86, "$.spec.stdin", "expected boolean or null, got string")
    ]


def test_symlinked_file_inside_the_directory_is_read(tmp_path: Path) -> None:
    _write(tmp_path, {"real/job.yaml": "kind: WorkloadType\nmetadata: {name: Job}\nspec: {}\n"})
    os.symlink(tmp_path / "real", tmp_path / "alias")
    config = read_config(tmp_path, env=NO_ENV)
    assert config.ok, config.problems
    assert config.files == 1  # the same directory through a link is read once


@pytest.mark.parametrize("directory", [EXAMPLES, *sorted(INVALID.iterdir())], ids=str)
def test_both_yaml_parsers_agree(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = read_config(directory, env=NO_ENV)
    monkeypatch.setattr(config_module, "YAML_BACKEND", "python")
    pure = read_config(directory, env=NO_ENV)
    assert pure.resources == fast.resources
    assert [(p.file, p.line, p.col, p.json_path) for p in pure.problems] == [
        (p.file, p.line, p.col, p.json_path) for p in fast.problems
    ]


def test_parallel_read_matches_serial(tmp_path: Path) -> None:
    for index in range(6):
        _write(
            tmp_path,
            {
                f"t{index}.yaml": f"kind: WorkspaceTemplate\nmetadata: {{name: w{index}, scope: "
                f"{{project: team-a}}}}\nspec: {{image: img, imagee: {index}}}\n"
            },
        )
    serial = read_config(tmp_path, env=NO_ENV, workers=1)
    parallel = read_config(tmp_path, env=NO_ENV, workers=2)
    assert parallel == serial
    assert len(parallel.resources) == 6 and len(parallel.problems) == 6


def test_a_big_config_is_checked_in_the_background(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "big")
    padding = "# padding\n" * (PARALLEL_BYTES // 10 + 1)
    with (tmp_path / "big" / "templates" / "padding.yaml").open("w", encoding="utf-8") as out:
        out.write(padding)
    with start_config(tmp_path / "big", env=NO_ENV) as reading:
        assert reading.in_background and reading.settings_ok  # settings read, documents not
        assert reading.settings == load_settings(tmp_path / "big", env=NO_ENV)
        big = reading.checked()
        assert not reading.in_background and reading.result() is big
    with start_config(EXAMPLES, env=NO_ENV) as small:
        assert not small.in_background  # read at once: too small for worker processes
    specs = {a: r.spec for a, r in small.result().resources.items()}
    assert {a: r.spec for a, r in big.resources.items()} == specs


def test_pool_spawns_when_another_thread_runs(tmp_path: Path) -> None:
    # fork is unsafe once threads run (an embedded emulator, say): the pool must spawn.
    for index in range(2):
        _write(
            tmp_path,
            {
                f"t{index}.yaml": f"kind: WorkloadType\nmetadata: {{name: T{index}}}\n"
                "spec: {category: Train}\n"
            },
        )
    stop = threading.Event()
    runner = threading.Thread(target=stop.wait, daemon=True)
    runner.start()
    try:
        parallel = read_config(tmp_path, env=NO_ENV, workers=2)
    finally:
        stop.set()
        runner.join()
    assert parallel == read_config(tmp_path, env=NO_ENV, workers=1)
    assert [str(a) for a in parallel.resources] == ["workload-type/T0", "workload-type/T1"]


def test_garbled_yaml_never_raises(tmp_path: Path) -> None:
    # Bad input never crashes the loader: random edits of the examples, each read on its own.
    rng = random.Random(20240531)
    sources = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*.yaml"))]
    alphabet = ":-[]{}&*!|>'\"#%@`\t\n ?,\\${}<<"
    for case in range(150):
        text = list(rng.choice(sources))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(text))
            action = rng.random()
            if action < 0.4:
                del text[at]
            elif action < 0.8:
                text.insert(at, rng.choice(alphabet))
            else:
                text[at : at + 3] = text[at : at + 3][::-1]
        directory = tmp_path / f"case{case}"
        _write(directory, {"doc.yaml": "".join(text)})
        config = read_config(directory, env=NO_ENV)
        assert all(p.file for p in config.problems)


def test_a_tagged_value_repeated_by_an_alias_is_hidden_at_every_place(tmp_path: Path) -> None:
    doc = MARKED.replace("value: !sensitive hunter2", "value: &pw !sensitive hunter2")
    doc += "  args: *pw\n"
    _write(tmp_path, {"app.yaml": doc})
    config = read_config(tmp_path, env=NO_ENV)
    assert config.ok, config.problems
    resource = next(iter(config.resources.values()))
    assert resource.spec["spec"]["args"] == "hunter2"
    assert {"spec.args", "spec.environmentVariables[name=DB_PASSWORD].value"} <= resource.sensitive
