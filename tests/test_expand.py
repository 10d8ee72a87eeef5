"""Expansion of a scope list and the fold back: pure, and property-tested. Expanding the
folded documents gives back exactly the documents folded; folding a document's expansion
gives back the document (scopes sorted); and the config reader's objects of a multi-scope
document are the objects of its expansion, checked one by one."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.documents import Checked, Source, check_document
from reconcile.errors import Problem
from reconcile.expand import expand, fold, scope_list, with_scope
from reconcile.kinds.scopes import scope_text

NAMES = ("team-a", "team-b", "research", "x1")
SCOPES = st.one_of(
    st.just({"tenant": True}),
    *(
        st.builds(lambda n, t=t: {t: n}, st.sampled_from(NAMES))
        for t in ("cluster", "department", "project")
    ),
)
SPECS = st.fixed_dictionaries(
    {"image": st.sampled_from(("python:3.11", "jupyter/scipy-notebook"))},
    optional={"compute": st.fixed_dictionaries({"cpuCoreRequest": st.sampled_from((0.5, 1, 2))})},
)


def _document(name: str, scope: Any, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "WorkspaceTemplate", "metadata": {"name": name, "scope": scope}, "spec": spec}


@st.composite
def single_scope_documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Documents of distinct addresses, few names and specs (so that many fold together)."""
    count = draw(st.integers(0, 12))
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(count):
        name = draw(st.sampled_from(("nb", "jupyter")))
        scope = draw(SCOPES)
        docs.setdefault((name, scope_text(scope)), _document(name, scope, draw(SPECS)))
    return list(docs.values())


def _key(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True)


@settings(max_examples=150, deadline=None)
@given(single_scope_documents())
def test_expanding_the_folded_documents_gives_back_the_same_documents(
    docs: list[dict[str, Any]],
) -> None:
    folded = fold(docs)
    members = [i for _, group in folded for i in group]
    assert sorted(members) == list(range(len(docs)))
    for document, group in folded:
        assert [_key(d) for d in expand(document)] == [_key(docs[i]) for i in group]
        scopes = scope_list(document)
        assert (scopes is not None) == (len(group) > 1)
        if scopes is not None:
            texts = [scope_text(s) for s in scopes]
            assert texts == sorted(texts)
    # Only documents identical but for their scope share a document.
    shapes = {_key(with_scope(d, None)) for d, _ in folded}
    assert len(shapes) == len(folded)


@settings(max_examples=100, deadline=None)
@given(st.lists(SCOPES, min_size=1, max_size=6, unique_by=scope_text), SPECS)
def test_folding_a_documents_expansion_gives_back_the_document(
    scopes: list[Any], spec: dict[str, Any]
) -> None:
    document = _document("nb", scopes, spec)
    expanded = expand(document)
    assert [d["metadata"]["scope"] for d in expanded] == scopes
    ((folded, group),) = fold(expanded)
    ordered = sorted(scopes, key=scope_text)
    expected = with_scope(document, ordered) if len(scopes) > 1 else expanded[0]
    assert folded == expected
    assert [scopes[i] for i in group] == ordered


def _nowhere(path: Any, at_key: bool) -> tuple[int, int]:
    return (len(path), 1)


def _check(doc: dict[str, Any]) -> Checked:
    def no_files(value: str, source: Source, at: Any) -> tuple[Any, Source | None, list[Problem]]:
        raise AssertionError("no manifest files here")

    return check_document(doc, Source("doc.yaml", _nowhere), env={}, load_manifest=no_files)


@settings(max_examples=60, deadline=None)
@given(st.lists(SCOPES, min_size=1, max_size=5, unique_by=scope_text), SPECS)
def test_a_scope_list_reads_as_its_expansion_checked_one_by_one(
    scopes: list[Any], spec: dict[str, Any]
) -> None:
    lifecycle = {"protect": True, "ignoreChanges": ["spec.image"]}
    document = {**_document("nb", scopes, spec), "lifecycle": lifecycle}
    listed = _check(document)
    one_by_one = [_check(d) for d in expand(document)]
    assert listed.problems == [] and all(c.problems == [] for c in one_by_one)
    assert [replace(r, origin=None) for r in listed.resources] == [
        replace(c.resources[0], origin=None) for c in one_by_one
    ]
    assert all(r.lifecycle.protect for r in listed.resources)
    assert all(r.lifecycle.ignore_changes == ("spec.image",) for r in listed.resources)
