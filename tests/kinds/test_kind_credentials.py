"""Credentials, registries and access rules: each type through its own endpoints and back,
secrets sent and never read, roles and scopes by name, what an update can change."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.errors import PlanError
from reconcile.kinds.access_rules import ACCESS_RULE
from reconcile.kinds.base import Kind
from reconcile.kinds.credentials import CREDENTIAL, TYPES
from reconcile.kinds.lookups import PLANNED_PREFIX, Lookups, Named
from reconcile.kinds.registries import REGISTRY
from reconcile.model import Address, Spec
from reconcile.paths import delete
from tests.kinds.driver import KindDriver

# A document spec of each credential type, with its secret.
CREDENTIALS: dict[str, dict[str, Any]] = {
    "access-key": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "s3cret"},
    "password": {"user": "reader", "password": "s3cret"},
    "docker-registry": {"user": "bot", "password": "s3cret", "url": "https://r.example.com"},
    "generic-secret": {"keyValuePairs": [{"key": "token", "value": "s3cret"}]},
    "ngc-api-key": {"ngc_api_key": "nvapi-s3cret"},
}
SCOPES = ("tenant", "cluster=cluster-a", "department=research", "project=team-a")


def _doc(kind: str, **extra: Any) -> Spec:
    return {"metadata": {"description": "made here"}, "spec": {"type": kind, **CREDENTIALS[kind]},
            **extra}  # fmt: skip


def _shown(kind: Kind, spec: Spec) -> Spec:
    """`spec` without what the server never answers with."""
    out = kind.normalize(spec)
    for path in kind.write_only_paths:
        delete(out, path)
    return out


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("kind_name", sorted(TYPES))
def test_each_credential_type_round_trips_without_its_secret(
    driver: KindDriver, kind_name: str, scope: str
) -> None:
    lk = driver.lookups()
    address = Address("credential", scope, f"{kind_name}-c")
    doc = CREDENTIAL.normalize(_doc(kind_name))
    request = CREDENTIAL.create_request(address, doc, lk)
    assert request.path == f"/api/v1/asset/credentials/{kind_name}"
    remote_id = CREDENTIAL.remote_id_from_response(driver.call(request))
    assert remote_id.startswith(f"{kind_name}/")
    spec, meta = driver.live(CREDENTIAL, lk)[str(address)]
    assert spec == _shown(CREDENTIAL, doc) and meta.remote_id == remote_id
    # The per-type GET answers the spec flat: read the same.
    detail = driver.call(CREDENTIAL.get_request(remote_id))
    assert CREDENTIAL.from_live(detail, lk)[1] == spec
    assert driver.find(CREDENTIAL, address, lk) == [remote_id]


def test_a_credential_update_sends_the_description_alone(driver: KindDriver) -> None:
    lk = driver.lookups()
    address = Address("credential", "project=team-a", "db")
    remote_id = CREDENTIAL.remote_id_from_response(
        driver.call(CREDENTIAL.create_request(address, _doc("password"), lk))
    )
    changed = {**_doc("password"), "metadata": {"description": "rotated"}}
    request = CREDENTIAL.update_request(address, remote_id, changed, fields=(), lookups=lk)
    assert (request.method, request.body) == ("PUT", {"meta": {"description": "rotated"}})
    driver.call(request)
    assert driver.live(CREDENTIAL, lk)[str(address)][0]["metadata"] == {"description": "rotated"}
    assert CREDENTIAL.immutable_paths(["metadata.description"]) == ()
    assert CREDENTIAL.immutable_paths(["spec.password", "spec.type"]) == (
        "spec.password", "spec.type"
    )  # fmt: skip


def test_a_credential_without_its_secret_is_refused_before_the_request(lookups: Lookups) -> None:
    address = Address("credential", "tenant", "bare")
    spec = CREDENTIAL.normalize({"spec": {"type": "access-key", "accessKeyId": "AKIA"}})
    with pytest.raises(PlanError, match=r"needs spec.secretAccessKey \(from \$\{VAR\}"):
        CREDENTIAL.create_request(address, spec, lookups)
    named = CREDENTIAL.normalize({"spec": {"type": "access-key", "existingSecretName": "s3"}})
    assert CREDENTIAL.create_request(address, named, lookups).body == {
        "meta": {"name": "bare", "scope": "tenant"}, "spec": {"existingSecretName": "s3"},
    }  # fmt: skip


def test_a_registry_round_trips_renames_in_place_and_never_reads_its_password(
    driver: KindDriver,
) -> None:
    lk = driver.lookups()
    address = Address("registry", "tenant", "hub")
    doc = REGISTRY.normalize(
        {"spec": {"url": "https://r.example.com", "user": "bot", "password": "s3cret"}}
    )
    request = REGISTRY.create_request(address, doc, lk)
    assert request.body["spec"]["credentialKind"] == "password"  # type: ignore[index]
    remote_id = REGISTRY.remote_id_from_response(driver.call(request))
    assert driver.live(REGISTRY, lk)[str(address)][0] == _shown(REGISTRY, doc)
    renamed = Address("registry", "tenant", "hub-2")
    driver.call(REGISTRY.update_request(renamed, remote_id, doc, fields=(), lookups=lk))
    assert list(driver.live(REGISTRY, lk)) == [str(renamed)]
    assert REGISTRY.renames_in_place
    assert REGISTRY.immutable_paths(["metadata.description", "spec.url"]) == ("spec.url",)


def test_an_access_rule_names_its_role_and_scope_and_has_no_update(driver: KindDriver) -> None:
    lk = driver.lookups()
    address = Address("access-rule", "department=research", "ml-team")
    doc = ACCESS_RULE.normalize({"spec": {"subjectType": "group", "role": "L1 researcher"}})
    request = ACCESS_RULE.create_request(address, doc, lk)
    assert request.body == {
        "roleId": 5, "scopeId": "2", "scopeType": "department", "subjectId": "ml-team",
        "subjectType": "group",
    }  # fmt: skip
    remote_id = ACCESS_RULE.remote_id_from_response(driver.call(request))
    spec, meta = driver.live(ACCESS_RULE, lk)[str(address)]
    assert spec == doc and meta.remote_id == remote_id
    assert driver.find(ACCESS_RULE, address, lk) == [remote_id]
    tenant = ACCESS_RULE.create_request(Address("access-rule", "tenant", "a@b.c"), doc, lk)
    assert tenant.body["scopeId"] == "1"  # type: ignore[index]
    assert ACCESS_RULE.immutable_paths(["spec.role"]) == ("spec.role",)
    with pytest.raises(PlanError, match="no update"):
        ACCESS_RULE.update_request(address, remote_id, doc, fields=(), lookups=lk)


def test_an_access_rule_defaults_to_a_user_and_import_leaves_the_default_out() -> None:
    doc = ACCESS_RULE.normalize({"spec": {"role": "Viewer"}})
    assert doc == {"spec": {"role": "Viewer", "subjectType": "user"}}
    assert ACCESS_RULE.minimal(doc) == {"spec": {"role": "Viewer"}}


def test_an_unknown_role_names_the_closest_ones() -> None:
    roles = Lookups.from_api({"roles": [{"id": 7, "name": "ML engineer"}]})
    doc = ACCESS_RULE.normalize({"spec": {"role": "ML enginer"}})
    with pytest.raises(PlanError, match=r"role 'ML enginer' does not exist.*'ML engineer'"):
        ACCESS_RULE.create_request(Address("access-rule", "tenant", "a@b.c"), doc, roles)


def test_an_access_rule_on_a_project_the_plan_creates_takes_its_planned_id() -> None:
    planned = Named(f"{PLANNED_PREFIX}project/department=research/new", "new", "c", "2")
    lk = Lookups.from_api({"roles": [{"id": 8, "name": "Viewer"}]})
    lk = lk.with_records("project", [planned])
    doc = ACCESS_RULE.normalize({"spec": {"role": "Viewer"}})
    request = ACCESS_RULE.create_request(Address("access-rule", "project=new", "a@b.c"), doc, lk)
    assert request.body["scopeId"] == planned.id  # type: ignore[index]
