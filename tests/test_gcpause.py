"""The collector pause: off inside, back on after, nested pauses, and freezing on the way out."""

from __future__ import annotations

import gc

from reconcile.gcpause import gc_paused


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


def test_freeze_moves_what_was_built_out_of_the_collectors_reach() -> None:
    gc.unfreeze()
    with gc_paused(freeze=True):
        kept = [{"spec": {"n": i}} for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= 2000  # the dicts built inside (and all else alive)
    assert len(kept) == 1000


def test_an_inner_freeze_is_left_to_the_outermost_pause() -> None:
    gc.unfreeze()
    with gc_paused():
        with gc_paused(freeze=True):
            pass
        assert gc.get_freeze_count() == 0
    assert gc.get_freeze_count() == 0
