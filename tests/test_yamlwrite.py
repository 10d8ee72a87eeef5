"""The YAML writer: its output reads back, through config.py's own parsers, as what was written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile import config as config_module
from reconcile.config import parse_file
from reconcile.configdir import Found
from reconcile.yamlwrite import dump_documents

# Text a YAML resolver could misread, and characters YAML must escape.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "n", "true", "null", "~", "", " ", "1", "1.0", "0x1F", "1e3",
    "0o7", ".inf", "-.NaN", "12:30:00", "2001-12-14", "=", "<<", "- a", "a: b", "a #b", "#c",
    "'q'", '"q"', "a\nb", "tab\there", "\x85", "\u2028", "\ufeff", "caf\u00e9", "\U0001f600",
    "${VAR}", "*alias", "&anchor", "!tag", "%dir", "@at", "`tick`", "[x]", "{y}", "a,b", "?",
    "trailing ", " leading", "-", "--- ", "...", "|", ">",
]  # fmt: skip

KEYS = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(TRICKY),
    st.text(max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)
DOCUMENTS = st.lists(st.dictionaries(KEYS, JSON, min_size=1, max_size=4), min_size=1, max_size=3)


def _read_back(tmp: Path, text: str) -> list[Any]:
    path = tmp / "out.yaml"
    path.write_text(text, encoding="utf-8")
    parsed = parse_file(Found(path, str(path), path.stat().st_size))
    assert not parsed.problems, (text, parsed.problems)
    return [value for value, _ in parsed.documents]


@pytest.mark.parametrize("backend", ["libyaml", "python"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(documents=DOCUMENTS)
def test_output_reads_back_as_the_documents(
    documents: list[dict[str, Any]], backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "YAML_BACKEND", backend)
    assert _read_back(tmp_path, dump_documents(documents)) == documents


def test_block_style_with_plain_scalars_where_safe() -> None:
    document = {
        "kind": "WorkspaceTemplate",
        "metadata": {"name": "jupyter", "scope": {"tenant": True}},
        "spec": {
            "args": "--port=8888",
            "compute": {"gpuDevicesRequest": 1, "gpuPortionRequest": 0.5},
            "environmentVariables": [{"name": "MODE", "value": "yes"}],
            "command": "start.sh",
            "nodePools": [],
            "labels": {},
            "nested": [[1, 2], [{"a": None}]],
        },
    }
    assert dump_documents([document, {"kind": "x"}], header="# head\n") == (
        "# head\n"
        "kind: WorkspaceTemplate\n"
        "metadata:\n"
        "  name: jupyter\n"
        "  scope:\n"
        "    tenant: true\n"
        "spec:\n"
        '  args: "--port=8888"\n'
        "  compute:\n"
        "    gpuDevicesRequest: 1\n"
        "    gpuPortionRequest: 0.5\n"
        "  environmentVariables:\n"
        "  - name: MODE\n"
        '    value: "yes"\n'
        "  command: start.sh\n"
        "  nodePools: []\n"
        "  labels: {}\n"
        "  nested:\n"
        "  - - 1\n"
        "    - 2\n"
        "  - - a: null\n"
        "---\n"
        "kind: x\n"
    )
