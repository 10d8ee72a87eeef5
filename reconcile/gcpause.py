"""Pausing Python's cyclic garbage collector for a command that builds big object graphs.

Reading 10,000 documents, state entries or live objects allocates hundreds of thousands of
containers and keeps most of them until the command ends, and the collector walked them
again and again. Reference counting still frees all garbage that is not in a cycle. The CLI
pauses the collector once, around each command that reads such graphs (`gc_paused` on the
command), and sweeps at safe points where a command repeats work (`CycleSweeper`); nothing
below the CLI touches the collector. Knows nothing of the rest of the tool.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block; nested blocks leave it to the outermost.

    Usable as a decorator. On leaving, every object then alive moves to the collector's
    permanent generation (`gc.freeze`) before it is back on: objects allocated while it was
    off all sit in its youngest generation, so the first collection afterwards would walk
    every one of them (a tenth of a second for a 10,000-template plan), though the command
    keeps what it built until it exits. Reference counting still frees frozen objects.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


class CycleSweeper:
    """Frees, at safe points inside a paused block, the garbage cycles that repeated work
    leaves: every JSON text written with indentation (the state, after each apply step) leaves
    a few closures that refer to each other, which reference counting cannot free, so an
    apply's memory would grow with its steps while the collector is off.

    Made once the graphs the command keeps to its end are built: the cycles left so far
    (reading and planning leave some) are collected in one walk, and what survives is
    frozen, so a sweep walks only what was allocated since. `tick` at a point where no big
    graph is half built (between steps); every `every`-th tick collects.
    """

    def __init__(self, every: int) -> None:
        gc.collect()
        gc.freeze()
        self._every = every
        self._ticks = 0

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % self._every == 0:
            gc.collect()
