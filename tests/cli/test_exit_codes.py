"""Exit codes of `plan`, `show` and `drift` (docs/design.md, section 6), and that no token or client
secret ever reaches an output or a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.helpers import Cli, put_on_server, state_path, write_docs
from tests.emulator.helpers import TEST_CLIENT_SECRET

TEMPLATES = ("workspaces.yaml", "trainings.yaml", "inference.yaml", "distributed.yaml")


def _drop_templates(config_dir: Path, count: int) -> None:
    """Remove `count` template documents (whole files first) from the examples copy."""
    removed = 0
    for name in TEMPLATES:
        path = config_dir / "templates" / name
        if not path.exists():
            continue
        docs = path.read_text(encoding="utf-8").split("\n---\n")
        keep = docs[: max(0, len(docs) - (count - removed))]
        removed += len(docs) - len(keep)
        if keep:
            path.write_text("\n---\n".join(keep), encoding="utf-8")
        else:
            path.unlink()
        if removed == count:
            return
    raise AssertionError(f"could not remove {count} templates")


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--no-such-option"),
        ("plan",),
        ("plan", "DIR", "--format", "yaml"),
        ("show",),
        ("drift", "DIR", "--bogus"),
        ("no-such-command",),
    ],
)
def test_usage_errors_exit_64(cli: Cli, examples_dir: Path, args: tuple[str, ...]) -> None:
    run = cli(*(str(examples_dir) if a == "DIR" else a for a in args))
    assert run.exit_code == 64, run.output
    assert "Usage:" in run.stderr or "Error" in run.stderr


BROKEN = """kind: WorkspaceTemplate
metadata: {name: broken, scope: {project: team-a}}
spec: {gpu: 1}
"""


def test_bad_config_exits_1_and_names_the_place(cli: Cli, examples_dir: Path) -> None:
    write_docs(examples_dir / "templates" / "broken.yaml", [BROKEN])
    for args in (("plan", "--detailed-exitcode"), ("drift",)):
        run = cli(args[0], examples_dir, *args[1:])
        assert run.exit_code == 1, run.output
        assert run.stdout == ""
        assert "templates/broken.yaml:3" in run.stderr


def test_unknown_name_on_the_server_exits_1(cli: Cli, examples_dir: Path) -> None:
    path = examples_dir / "templates" / "workspaces.yaml"
    text = path.read_text(encoding="utf-8").replace("{project: team-a}", "{project: team-z}")
    path.write_text(text, encoding="utf-8")
    run = cli("plan", examples_dir)
    assert run.exit_code == 1
    assert "team-z" in run.stderr


def test_over_the_delete_budget_exits_3(cli: Cli, examples_dir: Path) -> None:
    state = put_on_server(examples_dir, cli.url)
    assert len(state.entries) == 22  # >= min_managed (10): the budget applies
    _drop_templates(examples_dir, 6)  # 6 of 22 = 27 %: within the 30 % budget
    within = cli("plan", examples_dir, "--detailed-exitcode")
    assert within.exit_code == 2, within.output
    assert "6 to destroy" in within.stdout

    _drop_templates(examples_dir, 1)  # 7 of 22 = 32 %
    over = cli("plan", examples_dir)
    assert over.exit_code == 3, over.output
    assert "Safety budget exceeded" in over.stdout
    assert "destroy 7 of 22 managed objects (32%)" in over.stdout
    assert cli("plan", examples_dir, "--detailed-exitcode").exit_code == 3
    plan = cli("plan", examples_dir, "--format", "json").json()
    assert plan["safety_violations"] and plan["summary"]["destroy"] == 7


def test_unreadable_state_exits_1(cli: Cli, examples_dir: Path) -> None:
    path = state_path(examples_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    run = cli("plan", examples_dir)
    assert run.exit_code == 1 and "state file" in run.stderr


def test_token_and_secret_never_appear(
    cli: Cli, examples_dir: Path, tmp_path: Path, emulator: EmbeddedEmulator, emulator_token: str
) -> None:
    put_on_server(examples_dir, cli.url)
    path = examples_dir / "templates" / "trainings.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("backoffLimit: 3", "backoffLimit: 4"))
    token_env = {
        "RUNAI_TOKEN": emulator_token,
        "RUNAI_CLIENT_ID": None,
        "RUNAI_CLIENT_SECRET": None,
    }
    plan_file = tmp_path / "x.plan"
    seen: list[str] = []
    for env in (token_env, {}):  # a bearer token, then client credentials
        for fmt in ("text", "json", "markdown"):
            for args in (("plan", examples_dir, "-out", plan_file), ("drift", examples_dir)):
                run = cli(*args, "--format", fmt, env=env)
                assert run.exit_code in (0, 2), run.output
                seen += [run.stdout, run.stderr]
            seen.append(plan_file.read_text(encoding="utf-8"))
            seen.append(cli("show", plan_file, "--format", fmt).stdout)
    refused = cli("plan", examples_dir, env={**token_env, "RUNAI_TOKEN": emulator_token + "x"})
    assert refused.exit_code == 1
    seen += [refused.stdout, refused.stderr, state_path(examples_dir).read_text(encoding="utf-8")]
    assert "401" in refused.stderr or "token" in refused.stderr.lower(), refused.stderr
    assert "~ spec.backoffLimit: 3 -> 4" in seen[0]  # these runs did reach the server
    for text in seen:
        assert emulator_token not in text
        assert TEST_CLIENT_SECRET not in text
        assert "eyJ" not in text  # the start of any JWT
