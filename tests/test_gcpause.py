"""The collector pause: off inside, back on after, nested pauses, freezing on the way out, and
sweeps of the garbage cycles repeated work leaves inside a pause."""

from __future__ import annotations

import gc
import weakref

from reconcile.gcpause import CycleSweeper, gc_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: reference counting alone never frees it


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause leaves resuming to the outermost"
    assert gc.isenabled()


def test_an_error_inside_still_resumes_the_collector() -> None:
    try:
        with gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_leaving_freezes_what_was_built_out_of_the_collectors_reach() -> None:
    gc.unfreeze()
    with gc_paused():
        kept = [{"spec": {"n": i}} for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= 2000  # the dicts built inside (and all else alive)
    assert len(kept) == 1000


def test_an_inner_freeze_is_left_to_the_outermost_pause() -> None:
    gc.unfreeze()
    with gc_paused():
        with gc_paused():
            pass
        assert gc.get_freeze_count() == 0
    assert gc.get_freeze_count() > 0


def test_a_sweeper_frees_the_cycles_made_since_and_leaves_the_kept_graphs_frozen() -> None:
    gc.unfreeze()
    with gc_paused():
        kept = [{"spec": {"n": i}} for i in range(1000)]
        earlier = weakref.ref(_Node())
        sweeper = CycleSweeper(every=2)
        assert earlier() is None, "the cycles left before the sweeper are collected once"
        assert gc.get_freeze_count() >= 2000  # the graphs built before are not walked again
        garbage = weakref.ref(_Node())
        assert garbage() is not None, "the collector is paused"
        sweeper.tick()
        assert garbage() is not None, "only every second tick sweeps"
        sweeper.tick()
        assert garbage() is None
        assert not gc.isenabled()
    assert len(kept) == 1000
