"""Times the owned-field diff: 10,000 unchanged templates (the fast path) and 1,000 changed ones.

Run: `.venv/bin/python bench/bench_diff.py`. Pure CPU, no server; prints one line per case.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from reconcile.diff import diff_owned

COUNT = 10_000
CHANGED = 1_000


def desired(i: int) -> dict[str, Any]:
    """A workspace template of realistic size in the normalized shape."""
    return {
        "metadata": {"description": f"template {i}"},
        "spec": {
            "image": f"nvcr.io/nvidia/pytorch:24.05-py3-{i}",
            "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 0.5, "largeShmRequest": True},
            "storage": {
                "pvc": [
                    {"name": "home", "path": "/home", "claimName": "home"},
                    {"name": "data", "path": "/data", "claimName": "data"},
                ]
            },
            "environmentVariables": [{"name": f"E{j}", "value": str(j)} for j in range(5)],
            "args": "--port 8888",
            "nodePools": ["a100", "h100"],
        },
    }


def live(spec: dict[str, Any]) -> dict[str, Any]:
    """What the server returns: ids, timestamps, defaults and its own list order."""
    out = copy.deepcopy(spec)
    out.update({"id": "0b6f", "createdAt": "2026-01-01T00:00:00Z", "runnable": True})
    out["spec"]["compute"]["gpuPortion"] = None
    out["spec"]["storage"]["pvc"].reverse()
    return out


def timed(label: str, pairs: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]) -> None:
    start = time.perf_counter()
    changes = sum(len(diff_owned(d, lv, last)) for d, lv, last in pairs)
    elapsed = time.perf_counter() - start
    print(f"{label}: {len(pairs)} objects, {changes} field changes, {elapsed * 1000:.0f} ms")


def main() -> None:
    specs = [desired(i) for i in range(COUNT)]
    lives = [live(s) for s in specs]
    timed("no-change diff", list(zip(specs, lives, specs, strict=True)))
    edited = []
    for spec, server in zip(specs[:CHANGED], lives[:CHANGED], strict=True):
        new = copy.deepcopy(spec)
        new["spec"]["image"] = "nvcr.io/nvidia/pytorch:24.06-py3"
        edited.append((new, server, spec))
    timed("one-field-change diff (deepdiff)", edited)


if __name__ == "__main__":
    main()
