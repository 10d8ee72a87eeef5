"""Credentials, registries, roles and access rules over HTTP: secrets taken and never given
back, the update that changes only the description, rules by role and scope id."""

from __future__ import annotations

from typing import Any

from tests.emulator.helpers import RESEARCH, TEAM_A, Api, assert_valid

CREDENTIALS = "/api/v1/asset/credentials"
REGISTRIES = "/api/v1/asset/registries"
RULES = "/api/v1/authorization/access-rules"
SECRET = "s3cret-never-answered"


def _credential(name: str = "bucket", **spec: Any) -> dict[str, Any]:
    meta = {"name": name, "scope": "project", "projectId": int(TEAM_A)}
    return {"meta": meta, "spec": spec or {"accessKeyId": "AKIA", "secretAccessKey": SECRET}}


def test_a_credential_is_never_answered_with_its_secret(api: Api) -> None:
    created = api.post(f"{CREDENTIALS}/access-key", _credential())
    assert created.status_code == 202, created.text
    assert_valid("AccessKey", created.json())
    asset_id = created.json()["meta"]["id"]
    one = api.get(f"{CREDENTIALS}/access-key/{asset_id}").json()
    listed = api.get(CREDENTIALS).json()["entries"]
    assert one["spec"] == {"accessKeyId": "AKIA", "keyId": 1}
    assert [e["spec"]["accessKey"] for e in listed] == [one["spec"]]
    assert one["meta"]["projectId"] == int(TEAM_A) and one["meta"]["kind"] == "accessKey"
    for text in (
        created.text,
        api.get(CREDENTIALS).text,
        api.get(f"{CREDENTIALS}/access-key").text,
    ):
        assert SECRET not in text


def test_a_credential_needs_its_secret_or_an_existing_secret(api: Api) -> None:
    bare = api.post(f"{CREDENTIALS}/password", _credential(user="reader"))
    assert bare.status_code == 400 and "password" in bare.json()["message"]
    named = api.post(f"{CREDENTIALS}/password", _credential(existingSecretName="db"))
    assert named.status_code == 202, named.text
    again = api.post(f"{CREDENTIALS}/ngc-api-key", _credential(ngc_api_key="k"))
    assert again.status_code == 409  # names are unique per scope among credentials


def test_a_credential_update_changes_the_description_alone(api: Api) -> None:
    asset_id = api.post(f"{CREDENTIALS}/access-key", _credential()).json()["meta"]["id"]
    updated = api.put(f"{CREDENTIALS}/access-key/{asset_id}", {"meta": {"description": "new"}})
    assert updated.status_code == 202 and updated.json()["meta"]["description"] == "new"
    assert api.get(f"{CREDENTIALS}/password/{asset_id}").status_code == 404  # its own type only
    assert api.delete(f"{CREDENTIALS}/access-key/{asset_id}").status_code == 202
    assert api.get(f"{CREDENTIALS}/access-key/{asset_id}").status_code == 404


def test_a_registry_answers_a_masked_password_and_renames(api: Api) -> None:
    spec = {"url": "https://r.example.com", "credentialKind": "password", "user": "bot",
            "password": SECRET}  # fmt: skip
    created = api.post(REGISTRIES, {"meta": {"name": "hub", "scope": "tenant"}, "spec": spec})
    assert created.status_code == 201 and created.json()["spec"]["password"] == "********"
    asset_id = created.json()["meta"]["id"]
    renamed = api.put(f"{REGISTRIES}/{asset_id}", {"meta": {"name": "hub-2"}, "spec": {}})
    assert renamed.status_code == 200 and renamed.json()["meta"]["name"] == "hub-2"
    assert SECRET not in api.get(REGISTRIES).text
    assert api.delete(f"{REGISTRIES}/{asset_id}").status_code == 204


def test_access_rules_name_roles_and_scopes_by_id(api: Api) -> None:
    roles = api.get("/api/v1/authorization/roles").json()
    assert {"ML engineer", "Viewer"} <= {r["name"] for r in roles}
    body = {"subjectId": "ml-team", "subjectType": "group", "roleId": 8,
            "scopeType": "department", "scopeId": RESEARCH}  # fmt: skip
    created = api.post(RULES, body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["roleName"], rule["scopeName"]) == ("Viewer", "research")
    assert api.post(RULES, body).status_code == 409
    assert api.post(RULES, {**body, "roleId": 999}).status_code == 404
    assert api.post(RULES, {**body, "scopeId": "999"}).status_code == 404
    listed = api.get(RULES, filterBy="subjectId==ml-team").json()
    assert listed["totalRecords"] == 1 and listed["accessRules"] == [rule]
    assert api.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert api.get(f"{RULES}/{rule['id']}").status_code == 404
