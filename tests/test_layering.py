"""Holds the import rules of docs/design.md, section 2 by parsing every module's imports."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconcile"

# Lower layers never import higher ones: {errors, paths, printable, jsonfast} <- model <- {kinds,
# diff, schema} <- the rest (paths: the path grammar; printable: text shown on one line;
# jsonfast: JSON in C; none imports anything of ours).
RANK = {
    "errors": 0,
    "paths": 0,
    "printable": 0,
    "jsonfast": 0,
    "model": 1,
    "kinds": 2,
    "diff": 2,
    "schema": 2,
    "sensitive": 2,
}
TOP_RANK = 3  # config, live, planner, safety, render, applier, state, client, ...

# Each third-party library has one gateway module or package (`client` is the package
# reconcile/client/; the emulator package is its own world).
GATEWAYS = {
    "requests": {"client"},
    "urllib3": {"client"},
    "jsonschema": {"schema"},
    "jsonschema_rs": set(),  # the emulator's quick body check only
    "deepdiff": {"diff"},
    "orjson": {"jsonfast"},
    "ruamel": {"config", "yamlformat"},  # reading; round-trip formatting for `fmt`
    "yaml_rs": {"fastyaml"},  # plain files read straight into values
    "click": {"cli"},
    "psycopg": {"state.postgres"},
    # Standard library, but pausing the collector is a whole-command decision: one home.
    "gc": {"gcpause"},
}


# Modules that decide (plan, order, budget, build documents) or drive the apply work only
# through what kinds describe: they never read the server themselves, and find a kind in
# the registry, not in the live reader.
NO_SERVER_IO = (
    "planner",
    "applier",
    "ordering",
    "safety",
    "asset_use",
    "documents",
    "expand",
    "lifecycle",
    "refusals",
    "bases",
    "extending",
)
SERVER_IO = ("client", "live")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _top(path: Path) -> str:
    """The first component under reconcile/ of a module path: `kinds`, `render`, `cli`, ..."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _ours(names: list[str]) -> set[str]:
    return {n.split(".")[1] for n in names if n.startswith("reconcile.") and n.count(".") >= 1}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_respects_layers(path: Path) -> None:
    top = _top(path)
    if top == "__main__":
        return  # `python -m reconcile` only calls the CLI
    imported = _ours(_imports(path)) - {top}
    if top == "emulator":
        assert not imported, f"the emulator must stay an independent witness: imports {imported}"
        return
    assert "cli" not in imported, "nothing imports cli"
    assert "emulator" not in imported or top == "cli", "only the CLI starts the emulator"
    if top == "render":
        # `sensitive` is the model's masking primitives (pure), shared with the state writer.
        allowed = {"model", "errors", "paths", "sensitive", "printable"}
        assert imported <= allowed, f"render knows only model: imports {imported}"
    rank = RANK.get(top, TOP_RANK)
    for name in imported:
        other = RANK.get(name, TOP_RANK)
        # Modules of the same top layer may use each other (live uses client); lower may not
        # reach up.
        assert other < rank or (other == rank == TOP_RANK) or (other == rank == 2), (
            f"{top} (layer {rank}) must not import {name} (layer {other})"
        )


@pytest.mark.parametrize("library", sorted(GATEWAYS))
def test_third_party_library_has_one_gateway(library: str) -> None:
    users = set()
    for path in _modules():
        if _top(path) == "emulator":
            continue
        if any(n == library or n.startswith(library + ".") for n in _imports(path)):
            users.add(path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", "."))
    gateways = GATEWAYS[library]
    outside = {u for u in users if not any(u == g or u.startswith(g + ".") for g in gateways)}
    assert not outside, f"{library} imported outside its gateway: {outside}"


@pytest.mark.parametrize("module", NO_SERVER_IO)
def test_deciding_modules_do_not_import_the_http_client_or_the_live_reader(module: str) -> None:
    imported = _ours(_imports(PACKAGE / f"{module}.py"))
    assert not imported & set(SERVER_IO), f"{module} imports {sorted(imported & set(SERVER_IO))}"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(("reconcile", *parts))


def test_no_module_imports_form_a_cycle() -> None:
    """Imports under `if TYPE_CHECKING:` count too: a cycle hidden there is still two
    modules that cannot be understood (or tested) one without the other."""
    names = {_module_name(p): p for p in _modules()}
    graph = {
        name: {n for n in _imports(path) if n in names and n != name}
        for name, path in names.items()
    }
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_yaml_writer_uses_the_standard_library_only() -> None:
    # ruamel stays the one YAML reader (config.py); the writer needs no library at all.
    names = _imports(PACKAGE / "yamlwrite.py")
    assert all(
        n.split(".")[0] in {"__future__", "math", "re", "functools", "collections", "typing"}
        for n in names
    ), names
