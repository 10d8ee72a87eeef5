"""`runai-reconcile validate` refuses names and one-line texts that could forge output, and
numbers beyond their API bounds, each at its file:line:col, showing the value escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import main

TEMPLATE = """\
kind: WorkspaceTemplate
metadata:
  name: {name}
  scope: {{project: {project}}}
  description: {description}
spec:
  image: jupyter/scipy-notebook
  labels: [{{name: team, value: {label}}}]
"""
GOOD = {"name": "jupyter", "project": "team-a", "description": "ok", "label": "ml"}
NAME = "must be a name without '/', line breaks or control characters"
ONE_LINE = "must be one line, without line breaks or control characters"
ORG_UNIT = "must match the pattern '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'"
# What a terminal, a Markdown comment or a CI annotation could be fooled by, raw.
UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# field -> (YAML scalar, line, JSON path, message, the value as the message shows it)
CASES = {
    "newline-in-name": ("name", r'"jupyter\n  + forged"', 3, "$.metadata.name", NAME, None),
    "slash-in-name": ("name", "team/jupyter", 3, "$.metadata.name", NAME, "'team/jupyter'"),
    "escape-in-name": ("name", r'"a\e[2Kb"', 3, "$.metadata.name", NAME, r"'a\x1b[2Kb'"),
    "line-separator-in-name": ("name", r'"a\Lb"', 3, "$.metadata.name", NAME, r"'a\u2028b'"),
    "newline-in-project": ("project", r'"team-a\n"', 4, "$.metadata.scope.project", ORG_UNIT, None),
    "upper-case-project": ("project", "Team_A", 4, "$.metadata.scope.project", ORG_UNIT, None),
    "newline-in-description": (
        "description",
        r'"one\n- two"',
        5,
        "$.metadata.description",
        ONE_LINE,
        r"'one\n- two'",
    ),
    "bidi-override-in-label": (
        "label",
        r'"ab\u202Ecd"',
        8,
        "$.spec.labels[0].value",
        ONE_LINE,
        r"'ab\u202ecd'",
    ),
}


def _validate(directory: Path, fmt: str = "text") -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(directory), "--format", fmt])
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["text", "github"])
def test_hostile_values_are_refused_with_file_and_line(tmp_path: Path, case: str, fmt: str) -> None:
    field, scalar, line, path, message, shown = CASES[case]
    (tmp_path / "doc.yaml").write_text(TEMPLATE.format(**{**GOOD, field: scalar}))
    code, out = _validate(tmp_path, fmt)
    assert code == 1, out
    assert not UNSAFE.search(out), out
    ours = [row for row in out.splitlines() if path in row]
    assert len(ours) == 1, out
    assert message in ours[0]
    if fmt == "text":
        assert ours[0].startswith(f"{tmp_path / 'doc.yaml'}:{line}:"), out
    else:
        assert f",line={line}," in ours[0], out
    if shown:
        assert f"(got {shown})" in ours[0]


def test_the_examples_names_pass(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(TEMPLATE.format(**GOOD))
    code, out = _validate(tmp_path)
    assert code == 0, out


WORKLOAD = """\
kind: Workload
metadata: {{name: {name}, scope: {{project: team-a}}}}
spec:
  manifest: {{apiVersion: v1, kind: Pod, metadata: {{name: web}}}}
"""


@pytest.mark.parametrize("name", [r'"web\n"', "Web", "web_1", "-web", "a" * 64, "web/x"])
def test_workload_names_are_dns_labels(tmp_path: Path, name: str) -> None:
    (tmp_path / "doc.yaml").write_text(WORKLOAD.format(name=name))
    code, out = _validate(tmp_path)
    assert code == 1 and f"{tmp_path / 'doc.yaml'}:2:" in out and "$.metadata.name" in out, out
    assert not UNSAFE.search(out)


def test_a_dns_label_workload_name_passes(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(WORKLOAD.format(name="web-1"))
    assert _validate(tmp_path)[0] == 0


def test_unknown_keys_and_categories_are_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(
        'kind: WorkloadType\nmetadata: {name: Job}\nspec: {category: "Train\\e[2J"}\n'
        '"x\\e]0;owned\\a": 1\n'
    )
    code, out = _validate(tmp_path)
    assert code == 1 and not UNSAFE.search(out), out
    assert r"unknown category 'Train\x1b[2J'" in out
    assert r"unknown field 'x\x1b]0;owned\x07'" in out


@pytest.mark.parametrize(
    ("field", "value", "bound"),
    [
        ("parallelism", "9" * 400, "must be at most 2147483647"),
        ("parallelism", "-" + "9" * 400, "must be at least -2147483648"),
        ("backoffLimit", str(2**63), "must be at most 9223372036854775807"),
    ],
)
def test_integers_beyond_their_format_are_refused(
    tmp_path: Path, field: str, value: str, bound: str
) -> None:
    (tmp_path / "doc.yaml").write_text(
        "kind: TrainingTemplate\nmetadata: {name: t, scope: {tenant: true}}\n"
        f"spec:\n  image: x\n  {field}: {value}\n"
    )
    code, out = _validate(tmp_path)
    assert code == 1, out
    assert out.startswith(f"{tmp_path / 'doc.yaml'}:5:{len(field) + 5}: error: {bound}"), out
    assert f"[$.spec.{field}]" in out
