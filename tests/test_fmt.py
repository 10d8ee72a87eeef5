"""`fmt`: the canonical layout, `--check`, comments kept, and (as properties over every
example, every fixture and generated documents) idempotent and invisible to `validate`."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.cli import main
from reconcile.config import Config, read_config
from reconcile.yamlformat import UnformattableError, format_yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
INVALID = REPO / "tests" / "data" / "invalid"
# Every config directory the suite reads: the examples and each invalid fixture.
CONFIG_DIRS = [EXAMPLES, *sorted(p for p in INVALID.iterdir() if p.is_dir())]

MESSY = """\
# yaml-language-server: $schema=../schemas/workload-type.json
spec:   # the API's own fields
   category: Train
   priority: "high"
metadata: {name: PyTorchJob}   # a built-in type
kind: WorkloadType
---
metadata:
  name: jupyter
  scope: {project: team-a}
kind: WorkspaceTemplate
spec:
  image: 'jupyter/scipy-notebook'
  exposedUrls:
  - {name: jupyter, container: 8888}
"""


def _fmt(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["fmt", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def _seen(config: Config) -> tuple[object, Counter[str]]:
    """What validate reads from a directory: the desired set, and the problems' messages
    (their lines may move with the keys)."""
    return dict(config.resources), Counter(p.message for p in config.problems)


def test_the_canonical_layout() -> None:
    out = format_yaml(MESSY)
    assert out.splitlines()[1:2] == ["kind: WorkloadType"]
    assert [line for line in out.splitlines() if not line.startswith((" ", "#", "-"))] == [
        "kind: WorkloadType",
        "metadata: {name: PyTorchJob}   # a built-in type",
        "spec:   # the API's own fields",
        "kind: WorkspaceTemplate",
        "metadata:",
        "spec:",
    ]
    assert "    - {name: jupyter, container: 8888}" in out  # sequences under their key
    assert 'priority: "high"' in out and "image: 'jupyter/scipy-notebook'" in out  # quotes kept
    assert out.startswith("# yaml-language-server:")  # the leading comment stays first
    assert format_yaml(out) == out


def test_check_lists_files_that_would_change_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MESSY)
    (tmp_path / "b.yaml").write_text(format_yaml(MESSY))
    code, out, err = _fmt("--check", tmp_path)
    assert code == 1
    assert out == f"would reformat {tmp_path / 'a.yaml'}\n"
    assert "1 file(s) not in canonical form" in err
    assert (tmp_path / "a.yaml").read_text() == MESSY

    code, out, _ = _fmt(tmp_path / "a.yaml")
    assert (code, out) == (0, f"reformatted {tmp_path / 'a.yaml'}\n")
    assert (tmp_path / "a.yaml").read_text() == format_yaml(MESSY)
    assert _fmt("--check", tmp_path) == (0, "", "")


def test_a_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: WorkloadType\nmetadata: {name: [x\n")
    (tmp_path / "ok.yaml").write_text(MESSY)
    code, out, err = _fmt(tmp_path)
    assert code == 1
    assert f"reformatted {tmp_path / 'ok.yaml'}" in out
    assert f"{tmp_path / 'bad.yaml'}:3:1: YAML syntax" in err
    assert "Traceback" not in err


def test_files_that_are_not_utf8_are_reported(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes(b"kind: WorkloadType # \xe4\n")
    code, _, err = _fmt(tmp_path)
    assert code == 1 and "latin.yaml" in err and "UTF-8" in err


@pytest.mark.parametrize(
    "path",
    sorted([*EXAMPLES.rglob("*.yaml"), *INVALID.rglob("*.yaml"), *INVALID.rglob("*.yml")]),
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_fmt_is_idempotent_on_every_example_and_fixture(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        once = format_yaml(text)
    except (UnicodeDecodeError, UnformattableError):
        return  # fmt refuses it (and says where); nothing to compare
    assert format_yaml(once) == once


def test_the_examples_are_in_canonical_form() -> None:
    assert _fmt("--check", EXAMPLES)[0] == 0


@pytest.mark.parametrize("directory", CONFIG_DIRS, ids=lambda p: p.name)
def test_fmt_never_changes_what_validate_reads(directory: Path, tmp_path: Path) -> None:
    copy = tmp_path / directory.name
    shutil.copytree(directory, copy, symlinks=True)
    env = {"PULL_POLICY": "Always"}
    before = _seen(read_config(copy, env=env))
    CliRunner().invoke(main, ["fmt", str(copy)])
    assert _seen(read_config(copy, env=env)) == before


# --- generated documents -----------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\x85"),
    max_size=12,
)
_WORDS = st.sampled_from(["yes", "no", "null", "1.0", "0x1F", "~", "a: b", "#c", "on", "x"])
_VALUE = st.one_of(_TEXT, _WORDS, st.integers(-5, 5), st.booleans())


def _scalar(value: object, plain: bool) -> str:
    """A scalar as YAML: plain where the generator says and YAML allows, else quoted."""
    if isinstance(value, str):
        return value if plain and value.isalnum() else json.dumps(value)
    return json.dumps(value)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    """A WorkspaceTemplate with its keys in any order, odd strings and comments."""
    plain = draw(st.booleans())
    name = draw(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True))
    description = _scalar(draw(_VALUE.map(str)), plain)
    spec = {
        "image": _scalar(draw(_TEXT.filter(str.strip)), plain),
        "args": _scalar(draw(_VALUE.map(str)), plain),
    }
    spec_lines = [f"  {key}: {value}" for key, value in spec.items()]
    sections = {
        "kind": ["kind: WorkspaceTemplate"],
        "metadata": [
            "metadata:",
            f"  name: {name}",
            "  scope: {project: team-a}",
            f"  description: {description}",
        ],
        "spec": ["spec:", *draw(st.permutations(spec_lines))],
    }
    order = draw(st.permutations(list(sections)))
    lines: list[str] = []
    for key in order:
        if draw(st.booleans()):
            lines.append(f"# about {key}")
        lines += sections[key]
    return "\n".join(lines) + "\n"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(documents=st.lists(_documents(), min_size=1, max_size=3))
def test_generated_documents_keep_their_meaning(documents: list[str], tmp_path: Path) -> None:
    directory = tmp_path / "generated"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    path = directory / "docs.yaml"
    path.write_text("---\n".join(documents), encoding="utf-8")
    before = _seen(read_config(directory, workers=1))
    formatted = format_yaml(path.read_text(encoding="utf-8"))
    assert format_yaml(formatted) == formatted
    path.write_text(formatted, encoding="utf-8")
    assert _seen(read_config(directory, workers=1)) == before
    heads = [line for line in formatted.splitlines() if line[:1].isalpha()]
    assert heads == ["kind: WorkspaceTemplate", "metadata:", "spec:"] * len(documents)
