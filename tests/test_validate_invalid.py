"""`runai-reconcile validate` on every fixture of tests/data/invalid/: one failure mode each.

Each case runs the real CLI and must exit 1 with exactly the listed problems, each at its
exact file:line:col and JSON path. A few cases that cannot be committed as files (a 10 MiB
file, symlinks, an empty directory) are built in a temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import main

CASES = Path(__file__).resolve().parent / "data" / "invalid"
OK = "kind: WorkloadType\nmetadata: {name: Job}\nspec: {category: Train, priority: low}\n"

# case -> [(file in the case, line, col, JSON path ("" for none), message fragment)]
EXPECTED: dict[str, list[tuple[str, int, int, str, str]]] = {
    "credential-literal-secret": [
        ("doc.yaml", 6, 20, "$.spec.secretAccessKey", "a secret cannot be written in the config"),
    ],
    "credential-without-secret": [
        ("doc.yaml", 4, 3, "$.spec", "exactly one of 'password' or 'existingSecretName'"),
        ("doc.yaml", 6, 3, "$.spec.accessKeyId", "'accessKeyId' is not allowed: not a field"),
    ],
    "asset-template-asset-by-id": [
        ("doc.yaml", 7, 9, "$.spec.assets.datasources[0].name", "missing required field 'name'"),
        ("doc.yaml", 7, 10, "$.spec.assets.datasources[0].id", "unknown field 'id'"),
    ],
    "asset-template-datasource-kind": [
        (
            "doc.yaml",
            7,
            28,
            "$.spec.assets.datasources[0].kind",
            "must be one of: compute, environment, accessKey,",
        )
    ],
    "asset-template-missing-environment": [
        ("doc.yaml", 5, 5, "$.spec.assets.environment", "missing required field 'environment'")
    ],
    "description-too-long": [
        ("doc.yaml", 5, 16, "$.metadata.description", "must be at most 250 characters long")
    ],
    "distributed-master-and-same-as-worker": [
        ("doc.yaml", 5, 1, "$.master", "'master' must not be set when masterSpecSameAsWo")
    ],
    "distributed-master-unknown-field": [
        ("doc.yaml", 6, 3, "$.master.assets", "unknown field 'assets'")
    ],
    "document-not-a-mapping": [
        ("doc.yaml", 1, 1, "$", "a document must be a mapping with kind, metadata")
    ],
    "duplicate-address": [
        ("b.yaml", 4, 9, "$.metadata.name", "duplicate address workspace-template/project=tea")
    ],
    "env-variable-unset": [
        (
            "doc.yaml",
            8,
            28,
            "$.spec.environmentVariables[0].value",
            "variable RUNAI_RECONCILE_TEST_UNSET is set neither ",
        )
    ],
    "inference-template-unknown-field": [
        ("doc.yaml", 5, 3, "$.spec.completions", "unknown field 'completions'")
    ],
    "kind-missing": [("doc.yaml", 1, 1, "$.kind", "missing required field 'kind'")],
    "kind-unknown": [
        ("doc.yaml", 1, 7, "$.kind", "must be one of: NodePool, Department, Project,")
    ],
    "metadata-name-missing": [
        ("doc.yaml", 2, 11, "$.metadata.name", "missing required field 'name'")
    ],
    "scope-empty": [
        ("doc.yaml", 4, 10, "$.metadata.scope", "must have exactly one of: cluster, department, p")
    ],
    "scope-missing": [("doc.yaml", 3, 3, "$.metadata.scope", "missing required field 'scope'")],
    "scope-tenant-false": [("doc.yaml", 4, 19, "$.metadata.scope.tenant", "must be true")],
    "scope-two-types": [
        ("doc.yaml", 4, 10, "$.metadata.scope", "must have exactly one of: cluster, department, p")
    ],
    "scope-unknown-type": [
        ("doc.yaml", 4, 11, "$.metadata.scope.namespace", "unknown field 'namespace'")
    ],
    "settings-bad-server": [
        (
            "runai-reconcile.yaml",
            1,
            9,
            "$.server",
            "must match the pattern '^(embedded|https?://\\\\S+",
        )
    ],
    "settings-fraction-above-one": [
        ("runai-reconcile.yaml", 2, 24, "$.safety.max_delete_fraction", "must be at most 1")
    ],
    "settings-in-subdirectory": [
        ("sub/runai-reconcile.yaml", 1, 1, "", "a settings file belongs at the top of the config")
    ],
    "settings-two-documents": [
        ("runai-reconcile.yaml", 3, 1, "", "the settings file must hold one document")
    ],
    "settings-unknown-key": [("runai-reconcile.yaml", 2, 1, "$.sever", "unknown field 'sever'")],
    "spec-bad-enum": [
        (
            "doc.yaml",
            7,
            20,
            "$.spec.imagePullPolicy",
            "must be one of: Always, Never, IfNotPresent (got",
        )
    ],
    "spec-below-minimum": [("doc.yaml", 5, 15, "$.spec.numWorkers", "must be at least 1")],
    "spec-list-item-unknown-field": [
        ("doc.yaml", 9, 7, "$.spec.environmentVariables[0].vaule", "unknown field 'vaule'")
    ],
    "spec-missing": [("doc.yaml", 1, 1, "$.spec", "missing required field 'spec'")],
    "spec-misspelled-field": [
        ("doc.yaml", 7, 3, "$.spec.imagePullPolicyy", "unknown field 'imagePullPolicyy'")
    ],
    "spec-nested-unknown-field": [
        ("doc.yaml", 8, 5, "$.spec.compute.gpus", "unknown field 'gpus'")
    ],
    "spec-not-a-mapping": [("doc.yaml", 3, 7, "$.spec", "expected mapping, got list")],
    "spec-pattern-mismatch": [
        (
            "doc.yaml",
            8,
            23,
            "$.spec.compute.cpuMemoryRequest",
            "must match the pattern '^([+]?[0-9.]+)([eEinumkK",
        )
    ],
    "spec-wrong-type": [
        (
            "doc.yaml",
            8,
            24,
            "$.spec.compute.gpuDevicesRequest",
            "expected integer or null, got string",
        )
    ],
    "template-unknown-priority-class": [
        ("doc.yaml", 7, 18, "$.spec.priorityClass", "unknown priority 'highest'")
    ],
    "top-level-unknown-field": [("doc.yaml", 4, 1, "$.specs", "unknown field 'specs'")],
    "use-given-name-as-prefix": [
        (
            "doc.yaml",
            5,
            3,
            "$.metadata.useGivenNameAsPrefix",
            "'useGivenNameAsPrefix' is not allowed: a generat",
        )
    ],
    "workload-manifest-and-file": [
        ("doc.yaml", 4, 3, "$.spec", "exactly one of 'manifest' or 'manifestFile' is r")
    ],
    "workload-manifest-file-missing": [
        ("doc.yaml", 4, 17, "$.spec.manifestFile", "manifestFile manifests/web.yaml not found")
    ],
    "workload-manifest-file-no-api-version": [
        ("web.yaml", 2, 1, "$.apiVersion", "the manifest needs 'apiVersion'")
    ],
    "workload-manifest-file-outside": [
        (
            "doc.yaml",
            4,
            17,
            "$.spec.manifestFile",
            "manifestFile leads outside the config directory",
        )
    ],
    "workload-manifest-file-two-objects": [
        (
            "doc.yaml",
            4,
            17,
            "$.spec.manifestFile",
            "manifestFile manifests/web.yaml must hold one Ku",
        )
    ],
    "workload-manifest-no-kind": [
        ("doc.yaml", 5, 5, "$.spec.manifest.kind", "the manifest needs 'kind'")
    ],
    "workload-manifest-no-name": [
        ("doc.yaml", 7, 15, "$.spec.manifest.metadata.name", "the manifest needs 'metadata.name'")
    ],
    "workload-name-too-long": [
        ("doc.yaml", 3, 9, "$.metadata.name", "must be at most 63 characters long")
    ],
    "workload-no-manifest": [
        ("doc.yaml", 4, 3, "$.spec", "exactly one of 'manifest' or 'manifestFile' is r")
    ],
    "workload-scope-not-project": [
        ("doc.yaml", 4, 11, "$.metadata.scope.department", "unknown field 'department'")
    ],
    "workload-type-name-pattern": [
        ("doc.yaml", 2, 18, "$.metadata.name", "must match the pattern '^[A-Z][a-z0-9]*([A-Z][a-")
    ],
    "workload-type-unknown-category": [
        ("doc.yaml", 3, 18, "$.spec.category", "unknown category 'Training'")
    ],
    "workload-type-with-scope": [("doc.yaml", 4, 3, "$.metadata.scope", "unknown field 'scope'")],
    "workload-unknown-category": [
        ("doc.yaml", 4, 13, "$.spec.category", "unknown category 'deploy'")
    ],
    "workload-unknown-priority": [
        ("doc.yaml", 4, 13, "$.spec.priority", "unknown priority 'urgent'")
    ],
    "yaml-alias-bomb": [
        ("doc.yaml", 1, 4, "$.a", "aliases expand past 10000 extra nodes; not read")
    ],
    "yaml-collection-key": [
        ("doc.yaml", 4, 5, "$.spec", "a mapping key must be a plain value, not a colle")
    ],
    "yaml-control-character": [
        ("doc.yaml", 2, 21, "", "YAML syntax: unacceptable character #x0007: spec")
    ],
    "yaml-duplicate-key": [("doc.yaml", 5, 3, "$.spec.category", "duplicate key 'category'")],
    "yaml-empty-document": [("doc.yaml", 5, 1, "$", "empty document (remove the stray '---')")],
    "yaml-infinite-number": [
        (
            "doc.yaml",
            7,
            29,
            "$.spec.compute.cpuCoreRequest",
            "not a finite number (JSON cannot carry it)",
        )
    ],
    "yaml-not-utf8": [("doc.yaml", 3, 20, "", "not UTF-8 text: byte 0xe4 cannot be decoded")],
    "yaml-recursive-alias": [
        ("doc.yaml", 2, 11, "$.metadata", "an alias refers to its own parent (a recursive d")
    ],
    "yaml-syntax-bad-indent": [
        ("doc.yaml", 4, 2, "", "YAML syntax: expected <block end>, but found '<b")
    ],
    # Where the parser noticed, and where the unclosed construct began.
    "yaml-syntax-unclosed-flow": [
        (
            "doc.yaml",
            4,
            1,
            "",
            "YAML syntax: expected ',' or '}', but got '<stream end>' "
            "(while parsing a flow mapping that began at line 3, column 7)",
        )
    ],
    "yaml-syntax-unclosed-sequence": [
        (
            "doc.yaml",
            8,
            3,
            "",
            "YAML syntax: expected ',' or ']', but got '<scalar>' "
            "(while parsing a flow sequence that began at line 5, column 23)",
        )
    ],
    "yaml-syntax-unclosed-quote": [
        (
            "doc.yaml",
            6,
            1,
            "",
            "YAML syntax: found unexpected end of stream "
            "(while scanning a quoted scalar that began at line 3, column 9)",
        )
    ],
    "yaml-tab-indent": [("doc.yaml", 3, 1, "", "a tab character: YAML indents with spaces only")],
    "yaml-too-deep": [
        (
            "doc.yaml",
            4,
            122,
            "$.spec.resourceInterfaces[0][0][0][0][0][0][0][0][0][0]...",
            "nested deeper than 100 levels",
        )
    ],
    "yaml-unsupported-tag": [
        ("doc.yaml", 3, 18, "$.spec.category", "unsupported YAML tag !!binary")
    ],
}


def _validate(directory: Path, *args: str) -> tuple[int, list[str], str]:
    # The one variable a fixture references must be unset, whatever the caller's env holds.
    env = {"RUNAI_RECONCILE_TEST_UNSET": None}
    result = CliRunner().invoke(main, ["validate", str(directory), *args], env=env)
    return result.exit_code, result.stdout.splitlines(), result.stderr


def test_every_fixture_is_listed() -> None:
    found = sorted(p.name for p in CASES.iterdir() if p.is_dir())
    assert found == sorted(EXPECTED)
    assert len(found) >= 40


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_invalid_fixture(case: str) -> None:
    directory = CASES / case
    code, lines, stderr = _validate(directory)
    assert code == 1, lines
    assert "Traceback" not in stderr
    expected = EXPECTED[case]
    assert len(lines) == len(expected), lines
    for out, (file, line, col, path, fragment) in zip(lines, expected, strict=True):
        assert out.startswith(f"{directory / file}:{line}:{col}: error: {fragment}"), out
        if path:
            assert out.endswith(f" [{path}]"), out
        else:
            assert " [$" not in out, out


def test_file_over_ten_mib_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    big = tmp_path / "big.yaml"
    big.write_text(OK + "#" * (10 * 1024 * 1024) + "\n")
    code, lines, _ = _validate(tmp_path)
    assert code == 1
    assert lines == [f"{big}:1:1: error: file is larger than 10 MiB; not read"]


def test_symlink_leading_outside_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "ok.yaml").write_text(OK)
    (tmp_path / "outside.yaml").write_text(OK.replace("Job", "Pod"))
    os.symlink(tmp_path / "outside.yaml", config / "link.yaml")
    os.symlink(tmp_path, config / "up")
    code, lines, _ = _validate(config)
    assert code == 1
    assert lines == [
        f"{config / 'link.yaml'}:1:1: error: symlink leads outside the config directory; not read",
        f"{config / 'up'}:1:1: error: symlink leads outside the config directory; not followed",
    ]


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    os.symlink(tmp_path / "gone.yaml", tmp_path / "dangling.yaml")
    code, lines, _ = _validate(tmp_path)
    assert code == 1
    assert lines == [
        f"{tmp_path / 'dangling.yaml'}:1:1: error: cannot read the file: No such file or directory"
    ]


def test_directory_without_documents_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("no YAML here")
    (tmp_path / "comments-only.yaml").write_text("# nothing yet\n")
    code, lines, _ = _validate(tmp_path)
    assert code == 1
    assert lines == [
        f"{tmp_path}: error: no documents found: an empty desired set would delete "
        "everything it manages"
    ]


def test_a_file_that_failed_to_parse_is_not_also_reported_as_no_documents(
    tmp_path: Path,
) -> None:
    (tmp_path / "only.yaml").write_text("kind: WorkloadType\nmetadata: {name: [Job\n")
    code, lines, _ = _validate(tmp_path)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{tmp_path / 'only.yaml'}:3:1: error: YAML syntax: "), lines
    assert "flow sequence that began at line 2, column 18" in lines[0]


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    code, lines, _ = _validate(tmp_path / "nope")
    assert code == 1
    assert lines == [f"{tmp_path / 'nope'}: error: not a directory (or it does not exist)"]


def test_manifest_file_over_two_mib(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(
        "kind: Workload\nmetadata: {name: web, scope: {project: team-a}}\n"
        "spec:\n  manifestFile: big.json\n"
    )
    padding = "x" * (2 * 1024 * 1024)
    (tmp_path / "big.json").write_text(
        f'{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "web"}}, '
        f'"data": {{"blob": "{padding}"}}}}'
    )
    code, lines, _ = _validate(tmp_path)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'web.yaml'}:4:17: error: manifestFile big.json is ")
    assert lines[0].endswith("the API takes at most 2 MiB [$.spec.manifestFile]")


def test_inline_manifest_over_two_mib(tmp_path: Path) -> None:
    blob = "x" * (2 * 1024 * 1024)
    (tmp_path / "web.yaml").write_text(
        "kind: Workload\nmetadata: {name: web, scope: {project: team-a}}\nspec:\n  manifest:\n"
        f"    apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: web}}\n"
        f"    data: {{blob: {blob}}}\n"
    )
    code, lines, _ = _validate(tmp_path)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'web.yaml'}:5:5: error: the manifest is ")
    assert lines[0].endswith(" [$.spec.manifest]")
