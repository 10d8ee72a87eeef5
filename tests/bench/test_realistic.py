"""The realistic config generator writes what the tool accepts: a platform team's tenant
(org tree and assets as documents, asset templates naming them) validates, and a rewrite
with changes differs from the plain config only where asked."""

from __future__ import annotations

from pathlib import Path

from bench.realistic import SECRET_VARIABLES, Tenant, write_config
from tests.cli.helpers import Cli


def test_platform_tenant_config_validates(tmp_path: Path) -> None:
    tenant = Tenant.of(3, 9, assets=12, org_as_code=True)
    config = tmp_path / "config"
    write_config(config, 60, tenant)
    checked = Cli("http://127.0.0.1:9")("validate", config, env=SECRET_VARIABLES)
    assert checked.exit_code == 0, checked.output
    # 3 departments, 9 projects, 12 assets and 60 templates, 3 of them asset templates.
    assert "Valid: 84 documents" in checked.stdout
    texts = "".join(p.read_text() for p in sorted(config.glob("*.yaml")))
    assert texts.count("kind: AssetTemplate") == 3 and texts.count("kind: Project") == 9


def test_changed_config_differs_in_every_hundredth_template_only(tmp_path: Path) -> None:
    tenant = Tenant.of(2, 4, assets=6)
    plain, changed = tmp_path / "plain", tmp_path / "changed"
    write_config(plain, 300, tenant)
    write_config(changed, 300, tenant, changed_every=100)
    differing = [
        p.name
        for p in sorted(plain.glob("*.yaml"))
        if p.read_text() != (changed / p.name).read_text()
    ]
    assert differing == ["templates-000.yaml"]
    assert (changed / "templates-000.yaml").read_text().count("-v1") == 3
