"""Credentials, registries and access rules end to end through the CLI against the emulator:
secrets from the environment that never reach state or any plan format, rotation told from
no change by the hash in state, access rules on a project of the same apply, a role change
replacing the rule, and bad input refused before any write.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import EXAMPLES, Cli, read_state, state_path, write_docs
from tests.emulator.helpers import Api

SECRET = "s3-secret-Zq81xPw"
ROTATED = "s3-secret-rotated-K0aa"
REGISTRY_PASSWORD = "registry-pass-9Uyt"
TOKEN_VALUE = "hub-token-Mm72"
CREDENTIAL = """
kind: Credential
metadata: {name: bucket, scope: {project: team-a}, description: Training data bucket}
spec:
  type: access-key
  accessKeyId: AKIAEXAMPLE
  secretAccessKey: ${S3_SECRET}
"""
GENERIC = f"""
kind: Credential
metadata: {{name: hub, scope: {{tenant: true}}}}
spec:
  type: generic-secret
  keyValuePairs:
    - {{key: token, value: !sensitive "{TOKEN_VALUE}"}}
"""
REGISTRY = """
kind: Registry
metadata: {name: internal, scope: {tenant: true}}
spec: {url: "https://registry.example.com", user: ci-bot, password: "${REGISTRY_PASSWORD}"}
"""
PROJECT = """
kind: Project
metadata: {name: vision, scope: {department: research}}
spec:
  resources:
    default: {gpu: {deserved: 1}}
"""
RULE = """
kind: AccessRule
metadata: {name: alice@example.com, scope: {project: vision}}
spec: {role: ML engineer}
"""
CREDENTIAL_ADDRESS = "credential/project=team-a/bucket"
RULE_ADDRESS = "access-rule/project=vision/alice@example.com"


def _env(secret: str = SECRET) -> dict[str, str | None]:
    return {"S3_SECRET": secret, "REGISTRY_PASSWORD": REGISTRY_PASSWORD}


def _config(root: Path, *docs: str) -> Path:
    write_docs(root / "config.yaml", docs)
    return root


def _writes(api: Api) -> list[tuple[str, str]]:
    log = api.request_log()["requests"]
    return [
        (r["method"], r["path"]) for r in log if r["method"] != "GET" and "token" not in r["path"]
    ]


def _entries(config: Path) -> dict[str, Any]:
    return {str(address): entry for address, entry in read_state(config).entries.items()}


def _no_secret(text: str) -> None:
    for value in (SECRET, ROTATED, REGISTRY_PASSWORD, TOKEN_VALUE):
        assert value not in text


def test_secrets_never_reach_state_or_any_plan_format_and_rotation_is_told_by_hash(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "c", CREDENTIAL, GENERIC, REGISTRY)
    run = cli("apply", "--auto-approve", config, env=_env())
    assert run.exit_code == 0, run.output
    _no_secret(run.output)
    _no_secret(state_path(config).read_text(encoding="utf-8"))
    served = api.get("/api/v1/asset/credentials").json()["entries"]
    assert {e["meta"]["name"] for e in served} == {"bucket", "hub"}
    for fmt in ("text", "json", "markdown"):
        again = cli("plan", config, "--format", fmt, env=_env())
        assert again.exit_code == 0, again.output
        _no_secret(again.output)
    assert "No changes." in cli("plan", config, env=_env()).stdout

    rotated = {fmt: cli("plan", config, "--format", fmt, env=_env(ROTATED)) for fmt in
               ("text", "json", "markdown")}  # fmt: skip
    for run in rotated.values():
        _no_secret(run.output)
    changes = [c for c in rotated["json"].json()["changes"] if c["action"] != "no-op"]
    # The API cannot update a credential's secret: the one change replaces it.
    assert [(c["address"], c["action"]) for c in changes] == [(CREDENTIAL_ADDRESS, "replace")]
    assert [f["path"] for f in changes[0]["fields"]] == ["spec.secretAccessKey"]
    assert changes[0]["fields"][0]["sensitive"] is True
    assert "spec.secretAccessKey: (sensitive) -> (sensitive)" in rotated["text"].stdout
    assert "secretAccessKey" in rotated["markdown"].stdout

    assert cli("drift", config, env=_env()).exit_code == 0  # the server's secret is no drift

    planfile = tmp_path / "rotate.plan.json"
    saved = cli("plan", config, "-out", planfile, env=_env(ROTATED))
    assert saved.exit_code == 0, saved.output
    _no_secret(planfile.read_text(encoding="utf-8"))
    api.clear_log()
    applied = cli("apply", "--auto-approve", planfile, config, env=_env(ROTATED))
    assert applied.exit_code == 0, applied.output
    assert [m for m, _ in _writes(api)] == ["DELETE", "POST"]
    _no_secret(state_path(config).read_text(encoding="utf-8"))
    assert "No changes." in cli("plan", config, env=_env(ROTATED)).stdout


def test_a_description_change_updates_the_credential_in_place(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "c", CREDENTIAL)
    assert cli("apply", "--auto-approve", config, env=_env()).exit_code == 0
    remote_id = _entries(config)[CREDENTIAL_ADDRESS].remote_id
    _config(config, CREDENTIAL.replace("Training data bucket", "Raw images"))
    api.clear_log()
    run = cli("apply", "--auto-approve", config, env=_env())
    assert run.exit_code == 0, run.output
    assert _writes(api) == [("PUT", f"/api/v1/asset/credentials/{remote_id}")]
    served = api.get(f"/api/v1/asset/credentials/{remote_id}").json()
    assert served["meta"]["description"] == "Raw images"
    assert "secretAccessKey" not in served["spec"]  # the server never answers the secret


def test_an_access_rule_on_a_project_of_the_same_apply_and_a_role_change_replaces_it(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "r", PROJECT, RULE)
    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 0, run.output
    state = _entries(config)
    rules = api.get("/api/v1/authorization/access-rules").json()["accessRules"]
    (rule,) = [r for r in rules if r["subjectId"] == "alice@example.com"]
    project_id = state["project/department=research/vision"].remote_id
    assert (rule["scopeType"], rule["scopeId"], rule["roleName"]) == (
        "project", project_id, "ML engineer"
    )  # fmt: skip
    assert "No changes." in cli("plan", config).stdout

    _config(config, PROJECT, RULE.replace("ML engineer", "Viewer"))
    planned = cli("plan", config, "--format", "json").json()["changes"]
    changed = [(c["address"], c["action"]) for c in planned if c["action"] != "no-op"]
    assert changed == [(RULE_ADDRESS, "replace")]
    api.clear_log()
    assert cli("apply", "--auto-approve", config).exit_code == 0
    assert [m for m, _ in _writes(api)] == ["DELETE", "POST"]
    rules = api.get("/api/v1/authorization/access-rules").json()["accessRules"]
    assert [r["roleName"] for r in rules if r["subjectId"] == "alice@example.com"] == ["Viewer"]


@pytest.mark.parametrize(
    ("doc", "env", "expected"),
    [
        pytest.param(
            CREDENTIAL.replace("${S3_SECRET}", SECRET),
            {},
            "a secret cannot be written in the config: write ${VAR}",
            id="literal-secret",
        ),
        pytest.param(
            CREDENTIAL.replace("  secretAccessKey: ${S3_SECRET}\n", ""),
            {},
            "exactly one of 'secretAccessKey' or 'existingSecretName' is required",
            id="no-secret",
        ),
        pytest.param(
            REGISTRY.replace('"${REGISTRY_PASSWORD}"', REGISTRY_PASSWORD),
            {},
            "a secret cannot be written in the config",
            id="literal-registry-password",
        ),
        pytest.param(
            RULE.replace("ML engineer", "ML enginer"),
            {},
            "role 'ML enginer' does not exist on the server (did you mean 'ML engineer'?)",
            id="unknown-role",
        ),
    ],
)
def test_bad_input_is_refused_before_any_write(
    cli: Cli, tmp_path: Path, api: Api, doc: str, env: dict[str, Any], expected: str
) -> None:
    config = _config(tmp_path / "bad", PROJECT, doc)
    api.clear_log()
    run = cli("plan", config, env={**_env(), **env})
    assert run.exit_code == 1, run.output
    assert expected in run.output
    _no_secret(run.output)
    run = cli("apply", "--auto-approve", config, env={**_env(), **env})
    assert run.exit_code == 1, run.output
    assert _writes(api) == []


def test_the_access_example_applies_and_keeps_its_demo_secrets_out_of_state(
    cli: Cli, tmp_path: Path
) -> None:
    config = tmp_path / "examples" / "access"
    shutil.copytree(EXAMPLES / "access", config)
    demo_secrets = ("demo-secret-access-key", "hf_demo_token", "demo-registry-password")
    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 0, run.output
    assert "Apply complete: 5 applied." in run.stdout
    state_text = state_path(config).read_text(encoding="utf-8")
    assert not [s for s in demo_secrets if s in run.output + state_text]
    assert "No changes." in cli("plan", config).stdout


def test_access_rules_are_read_past_a_full_page(cli: Cli, api: Api) -> None:
    """The list has no `next`: a full page of 500 is followed by the next one."""

    def grant(index: int) -> None:
        body = {"subjectId": f"user{index}@example.com", "subjectType": "user", "roleId": 8,
                "scopeType": "project", "scopeId": "42"}  # fmt: skip
        assert api.post("/api/v1/authorization/access-rules", body).status_code == 201

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(grant, range(501)))
    run = cli("get", "access-rules", "--format", "json")
    assert run.exit_code == 0, run.output
    assert len(run.json()) == 501


def test_get_lists_roles_credentials_registries_and_access_rules(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path / "c", CREDENTIAL, REGISTRY, PROJECT, RULE)
    assert cli("apply", "--auto-approve", config, env=_env()).exit_code == 0
    roles = cli("get", "roles", "--format", "json").json()
    assert {"name": "ML engineer", "scope": ""} in roles
    for what, row in (
        ("credentials", {"kind": "credential", "name": "bucket", "scope": "project=team-a"}),
        ("registries", {"kind": "registry", "name": "internal", "scope": "tenant"}),
        ("access-rules", {"kind": "access-rule", "name": "alice@example.com",
                          "scope": "project=vision"}),
    ):  # fmt: skip
        run = cli("get", what, "--format", "json")
        assert run.exit_code == 0, run.output
        assert run.json() == [row]


def test_import_skips_a_generic_secret_whose_pairs_the_server_never_shows(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    body = {"meta": {"name": "pairs", "scope": "tenant"},
            "spec": {"keyValuePairs": [{"key": "token", "value": TOKEN_VALUE}]}}  # fmt: skip
    assert api.post("/api/v1/asset/credentials/generic-secret", body).status_code == 202
    run = cli("import", tmp_path / "imported", "--kind", "Credential")
    assert run.exit_code == 1, run.output
    assert "credential/tenant/pairs: " in run.stderr
    assert "the server never shows its secret: write its document by hand" in run.stderr
    _no_secret(run.output)


def test_import_fold_keeps_a_document_per_credential_as_their_secrets_may_differ(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    for project, secret in (("42", SECRET), ("43", ROTATED)):
        meta = {"name": "bucket", "scope": "project", "projectId": int(project)}
        body = {"meta": meta, "spec": {"accessKeyId": "AKIA", "secretAccessKey": secret}}
        assert api.post("/api/v1/asset/credentials/access-key", body).status_code == 202
    run = cli("import", "--fold", "--kind", "Credential", tmp_path / "imported")
    assert run.exit_code == 0, run.output
    assert "Imported 2 objects into 2 files" in run.stdout
    assert not (tmp_path / "imported" / "credentials" / "many-scopes.yaml").exists()
    assert run.stdout.count("CREDENTIAL_PROJECT_TEAM_") == 2
